package translate

import (
	"net/url"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// sqlSystems are the db.system values of SQL databases; other databases
// (Redis, MongoDB, ...) keep their attributes in metadata, as in the exporter.
var sqlSystems = map[string]bool{
	"other_sql": true, "mssql": true, "mssqlcompact": true, "mysql": true, "oracle": true, "db2": true,
	"postgresql": true, "redshift": true, "hive": true, "cloudscape": true, "hsqldb": true, "progress": true,
	"maxdb": true, "hanadb": true, "ingres": true, "firstsql": true, "edb": true, "cache": true,
	"adabas": true, "firebird": true, "derby": true, "filemaker": true, "informix": true, "instantdb": true,
	"interbase": true, "mariadb": true, "netezza": true, "pervasive": true, "pointbase": true, "sqlite": true,
	"sybase": true, "teradata": true, "vertica": true, "h2": true, "coldfusion": true, "clickhouse": true,
	"cockroachdb": true, "spanner": true, "trino": true, "tidb": true, "sap.hana": true,
	"microsoft.sql_server": true, "oracle.db": true, "ibm.db2": true, "ibm.informix": true,
}

func dbSystem(a *attrs) string {
	if s := a.peek("db.system.name"); s != "" {
		return s
	}
	return a.peek("db.system")
}

// makeSQL fills `sql` for SQL database spans (old and current conventions).
func makeSQL(a *attrs) *segment.SQL {
	sys := dbSystem(a)
	if !sqlSystems[sys] {
		return nil
	}
	a.get("db.system.name", "db.system")
	conn := a.str("db.connection_string")
	instance := a.str("db.namespace", "db.name")
	host := a.str("server.address", "net.peer.name")
	s := &segment.SQL{
		DatabaseType:   sys,
		SanitizedQuery: a.str("db.query.text", "db.statement"),
		User:           a.str("db.user"),
	}
	switch {
	case conn != "" && strings.Contains(conn, "://"):
		s.URL = strings.TrimSuffix(stripPassword(conn), "/") + "/" + instance
	case conn != "":
		s.ConnectionString = conn
	case host != "":
		s.URL = host
		if p := a.str("server.port", "net.peer.port"); p != "" {
			s.URL += ":" + p
		}
		s.URL += "/" + instance
	default:
		s.URL = "localhost/" + instance
	}
	return s
}

func stripPassword(conn string) string {
	u, err := url.Parse(strings.TrimPrefix(conn, "jdbc:"))
	if err != nil || u.User == nil {
		return conn
	}
	if _, has := u.User.Password(); has {
		u.User = url.User(u.User.Username())
	}
	prefix := ""
	if strings.HasPrefix(conn, "jdbc:") {
		prefix = "jdbc:"
	}
	return prefix + u.String()
}

// dbName is <database>@<host>, the X-Ray name of database subsegments.
func dbName(a *attrs) string {
	if dbSystem(a) == "" {
		return ""
	}
	db := a.peek("db.namespace")
	if db == "" {
		db = a.peek("db.name")
	}
	host := a.peek("server.address")
	if host == "" {
		host = a.peek("net.peer.name")
	}
	if host == "" {
		if u, err := url.Parse(strings.TrimPrefix(a.peek("db.connection_string"), "jdbc:")); err == nil {
			host = u.Hostname()
		}
	}
	switch {
	case db != "" && host != "":
		return db + "@" + host
	case db != "":
		return db
	case host != "":
		return host
	}
	return dbSystem(a)
}
