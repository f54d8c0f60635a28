package xray

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SQLContext opens a database whose queries are traced: each is a remote
// subsegment named <database>@<host> with the sql fields (url or connection
// string without password, database type and version, driver, user, query).
func SQLContext(driverName, dsn string) (*sql.DB, error) {
	base, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	d := base.Driver()
	_ = base.Close()
	return sql.OpenDB(&sqlConnector{name: driverName, dsn: dsn, drv: d}), nil
}

// SQLConnector traces the connections of connector.
func SQLConnector(dsn string, connector driver.Connector) driver.Connector {
	return &sqlConnector{dsn: dsn, drv: connector.Driver(), base: connector, filtered: true}
}

type sqlConnector struct {
	name, dsn string
	drv       driver.Driver
	base      driver.Connector
	filtered  bool

	mu   sync.Mutex
	attr *dbAttr
}

func (c *sqlConnector) Driver() driver.Driver { return c.drv }

func (c *sqlConnector) raw(ctx context.Context) (driver.Conn, error) {
	if c.base != nil {
		return c.base.Connect(ctx)
	}
	if dc, ok := c.drv.(driver.DriverContext); ok {
		cn, err := dc.OpenConnector(c.dsn)
		if err != nil {
			return nil, err
		}
		return cn.Connect(ctx)
	}
	return c.drv.Open(c.dsn)
}

// attributes describes the database once, on a connection of its own, so
// the detection queries never run inside a traced call.
func (c *sqlConnector) attributes(ctx context.Context) (*dbAttr, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.attr != nil {
		return c.attr, nil
	}
	conn, err := c.raw(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	c.attr = newDBAttr(ctx, c.name, c.drv, conn, c.dsn, c.filtered)
	return c.attr, nil
}

// Connect opens a connection inside a subsegment (query "CONNECT"), as
// aws-xray-sdk-go does.
func (c *sqlConnector) Connect(ctx context.Context) (driver.Conn, error) {
	attr, err := c.attributes(ctx)
	if err != nil {
		return nil, err
	}
	var conn driver.Conn
	err = Capture(ctx, attr.name(), func(ctx context.Context) error {
		attr.populate(ctx, "CONNECT")
		var err error
		conn, err = c.raw(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sqlConn{Conn: conn, attr: attr}, nil
}

type dbAttr struct {
	connectionString, url, databaseType, databaseVersion, driverVersion, user, dbname, host string
}

// Passwords in key=value DSNs (password=, pwd=) and in the user:password@
// prefix of go-sql-driver/mysql DSNs.
var (
	passwordRE = regexp.MustCompile(`(?i)\b(password|pwd)=[^;&\s]*`)
	userPassRE = regexp.MustCompile(`^([^:@/\s]+):[^@\s]*@`)
)

func stripPasswords(dsn string) string {
	return passwordRE.ReplaceAllString(userPassRE.ReplaceAllString(dsn, "$1@"), "${1}=***")
}

func newDBAttr(ctx context.Context, driverName string, d driver.Driver, conn driver.Conn, dsn string, filtered bool) *dbAttr {
	a := &dbAttr{}
	urlDSN := dsn
	if !strings.Contains(dsn, "//") {
		urlDSN = "//" + urlDSN
	}
	if u, err := url.Parse(urlDSN); err == nil && (u.Scheme != "" || u.User != nil || u.RawQuery != "" || strings.Contains(u.Path, "@")) {
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		q.Del("password")
		q.Del("X-Amz-Security-Token")
		u.RawQuery = q.Encode()
		if host, _, err := net.SplitHostPort(u.Host); err == nil && host != "" {
			a.host = "@" + host
		} else if u.Host != "" {
			a.host = "@" + u.Host
		}
		a.url = u.String()
		if !strings.Contains(dsn, "//") {
			a.url = strings.TrimPrefix(a.url, "//")
		}
	} else if filtered {
		a.connectionString = dsn
	} else {
		a.connectionString = stripPasswords(dsn)
	}
	detectors := []func(context.Context, driver.Conn, *dbAttr) error{postgresDetector, mysqlDetector, mssqlDetector, oracleDetector}
	switch driverName {
	case "postgres", "pgx":
		detectors = detectors[:1]
	case "mysql":
		detectors = detectors[1:2]
	}
	for _, det := range detectors {
		if det(ctx, conn, a) == nil {
			break
		}
		a.databaseType, a.databaseVersion, a.user, a.dbname = "Unknown", "Unknown", "Unknown", "Unknown"
	}
	if vd, ok := d.(interface{ Version() string }); ok {
		a.driverVersion = vd.Version()
	} else {
		t := reflect.TypeOf(d)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		a.driverVersion = t.PkgPath()
	}
	return a
}

func postgresDetector(ctx context.Context, c driver.Conn, a *dbAttr) error {
	a.databaseType = "Postgres"
	return queryRow(ctx, c, "SELECT version(), current_user, current_database()", &a.databaseVersion, &a.user, &a.dbname)
}

func mysqlDetector(ctx context.Context, c driver.Conn, a *dbAttr) error {
	a.databaseType = "MySQL"
	return queryRow(ctx, c, "SELECT version(), current_user(), database()", &a.databaseVersion, &a.user, &a.dbname)
}

func mssqlDetector(ctx context.Context, c driver.Conn, a *dbAttr) error {
	a.databaseType = "MS SQL"
	return queryRow(ctx, c, "SELECT @@version, current_user, db_name()", &a.databaseVersion, &a.user, &a.dbname)
}

func oracleDetector(ctx context.Context, c driver.Conn, a *dbAttr) error {
	a.databaseType = "Oracle"
	return queryRow(ctx, c, "SELECT version FROM v$instance UNION SELECT user, ora_database_name FROM dual", &a.databaseVersion, &a.user, &a.dbname)
}

// queryRow reads one row of strings through the raw driver connection.
func queryRow(ctx context.Context, c driver.Conn, query string, dest ...*string) (err error) {
	defer func() {
		if p := recover(); p != nil { // some drivers panic on unknown SQL
			err = driver.ErrBadConn
		}
	}()
	var stmt driver.Stmt
	if pc, ok := c.(driver.ConnPrepareContext); ok {
		stmt, err = pc.PrepareContext(ctx, query)
	} else {
		stmt, err = c.Prepare(query)
	}
	if err != nil {
		return err
	}
	defer stmt.Close()
	var rows driver.Rows
	if qc, ok := stmt.(driver.StmtQueryContext); ok {
		rows, err = qc.QueryContext(ctx, nil)
	} else {
		rows, err = stmt.Query(nil) //nolint:staticcheck // drivers without context support
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	if len(rows.Columns()) != len(dest) {
		return driver.ErrSkip
	}
	vals := make([]driver.Value, len(dest))
	if err := rows.Next(vals); err != nil {
		return err
	}
	for i, v := range vals {
		switch x := v.(type) {
		case string:
			*dest[i] = x
		case []byte:
			*dest[i] = string(x)
		case int64:
			*dest[i] = strconv.FormatInt(x, 10)
		case float64:
			*dest[i] = strconv.FormatFloat(x, 'g', -1, 64)
		case bool:
			*dest[i] = strconv.FormatBool(x)
		case time.Time:
			*dest[i] = x.Format(time.RFC3339Nano)
		default:
			return driver.ErrSkip
		}
	}
	return nil
}

func (a *dbAttr) name() string { return a.dbname + a.host }

func (a *dbAttr) populate(ctx context.Context, query string) {
	seg := GetSegment(ctx)
	if seg == nil {
		return
	}
	seg.Lock()
	seg.Namespace = "remote"
	q := seg.GetSQL()
	q.ConnectionString, q.URL = a.connectionString, a.url
	q.DatabaseType, q.DatabaseVersion, q.DriverVersion = a.databaseType, a.databaseVersion, a.driverVersion
	q.User, q.SanitizedQuery = a.user, query
	seg.Unlock()
}

type sqlConn struct {
	driver.Conn
	attr *dbAttr
}

func (c *sqlConn) Ping(ctx context.Context) error {
	p, ok := c.Conn.(driver.Pinger)
	if !ok {
		return nil
	}
	return Capture(ctx, c.attr.name(), func(ctx context.Context) error {
		c.attr.populate(ctx, "PING")
		return p.Ping(ctx)
	})
}

func (c *sqlConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var stmt driver.Stmt
	var err error
	if pc, ok := c.Conn.(driver.ConnPrepareContext); ok {
		stmt, err = pc.PrepareContext(ctx, query)
	} else {
		stmt, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &sqlStmt{Stmt: stmt, attr: c.attr, query: query}, nil
}

func (c *sqlConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if bt, ok := c.Conn.(driver.ConnBeginTx); ok {
		return bt.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() //nolint:staticcheck // drivers without context support
}

func (c *sqlConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip // database/sql prepares instead, which is traced
	}
	var res driver.Result
	err := Capture(ctx, c.attr.name(), func(ctx context.Context) error {
		var err error
		res, err = ec.ExecContext(ctx, query, args)
		c.attr.populate(ctx, query)
		if err == driver.ErrSkip {
			return nil
		}
		return err
	})
	return res, err
}

func (c *sqlConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	var rows driver.Rows
	err := Capture(ctx, c.attr.name(), func(ctx context.Context) error {
		var err error
		rows, err = qc.QueryContext(ctx, query, args)
		c.attr.populate(ctx, query)
		if err == driver.ErrSkip {
			return nil
		}
		return err
	})
	return rows, err
}

func (c *sqlConn) CheckNamedValue(nv *driver.NamedValue) error {
	if nvc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nvc.CheckNamedValue(nv)
	}
	var err error
	nv.Value, err = driver.DefaultParameterConverter.ConvertValue(nv.Value)
	return err
}

func (c *sqlConn) ResetSession(ctx context.Context) error {
	if sr, ok := c.Conn.(driver.SessionResetter); ok {
		return sr.ResetSession(ctx)
	}
	return nil
}

type sqlStmt struct {
	driver.Stmt
	attr  *dbAttr
	query string
}

func (s *sqlStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	var res driver.Result
	err := Capture(ctx, s.attr.name(), func(ctx context.Context) error {
		var err error
		s.attr.populate(ctx, s.query)
		if ec, ok := s.Stmt.(driver.StmtExecContext); ok {
			res, err = ec.ExecContext(ctx, args)
			return err
		}
		vals, err := plainValues(args)
		if err != nil {
			return err
		}
		res, err = s.Stmt.Exec(vals) //nolint:staticcheck // drivers without context support
		return err
	})
	return res, err
}

func (s *sqlStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	var rows driver.Rows
	err := Capture(ctx, s.attr.name(), func(ctx context.Context) error {
		var err error
		s.attr.populate(ctx, s.query)
		if qc, ok := s.Stmt.(driver.StmtQueryContext); ok {
			rows, err = qc.QueryContext(ctx, args)
			return err
		}
		vals, err := plainValues(args)
		if err != nil {
			return err
		}
		rows, err = s.Stmt.Query(vals) //nolint:staticcheck // drivers without context support
		return err
	})
	return rows, err
}

func plainValues(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, driver.ErrSkip
		}
		out[i] = a.Value
	}
	return out, nil
}
