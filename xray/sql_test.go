package xray_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/roentgen-tracing/roentgen/xray"
)

// memDriver is a database/sql driver that knows the MySQL detection query
// and one table; it implements only the old, context-free interfaces, so
// the SDK's fallbacks are exercised too.
type memDriver struct{}

func (memDriver) Open(string) (driver.Conn, error) { return memConn{}, nil }

type memConn struct{}

func (memConn) Prepare(q string) (driver.Stmt, error) { return memStmt{q}, nil }
func (memConn) Close() error                          { return nil }
func (memConn) Begin() (driver.Tx, error)             { return nil, errors.New("no transactions") }

type memStmt struct{ q string }

func (memStmt) Close() error                               { return nil }
func (memStmt) NumInput() int                              { return -1 }
func (memStmt) Exec([]driver.Value) (driver.Result, error) { return driver.RowsAffected(1), nil }
func (s memStmt) Query([]driver.Value) (driver.Rows, error) {
	switch {
	case strings.HasPrefix(s.q, "SELECT version(), current_user(), database()"):
		return &memRows{cols: []string{"v", "u", "d"}, row: []driver.Value{"8.4.0", "app@%", "shop"}}, nil
	case strings.HasPrefix(s.q, "SELECT name FROM users"):
		return &memRows{cols: []string{"name"}, row: []driver.Value{"ada"}}, nil
	}
	return nil, errors.New("unknown query")
}

type memRows struct {
	cols []string
	row  []driver.Value
	done bool
}

func (r *memRows) Columns() []string { return r.cols }
func (r *memRows) Close() error      { return nil }
func (r *memRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	copy(dest, r.row)
	return nil
}

var registerMem sync.Once

func TestSQLContextSubsegments(t *testing.T) {
	registerMem.Do(func() { sql.Register("memsql", memDriver{}) })
	d := newDaemon(t)
	db, err := xray.SQLContext("memsql", "app:secret@tcp(db.internal:3306)/shop?password=secret&parseTime=true")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, seg := xray.BeginSegment(context.Background(), "users")
	var name string
	if err := db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ?", 1).Scan(&name); err != nil || name != "ada" {
		t.Fatalf("query: %q %v", name, err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE users SET seen = 1"); err != nil {
		t.Fatal(err)
	}
	seg.Close(nil)
	s := d.wait(1)[0]
	var queries []string
	for _, sub := range s.Subsegments {
		if sub.SQL == nil || sub.Namespace != "remote" {
			t.Fatalf("subsegment %+v", sub)
		}
		queries = append(queries, sub.SQL.SanitizedQuery)
		if sub.Name != "shop" || sub.SQL.DatabaseType != "MySQL" || sub.SQL.User != "app@%" || sub.SQL.DatabaseVersion != "8.4.0" {
			t.Errorf("sql subsegment %s = %+v", sub.Name, sub.SQL)
		}
		if strings.Contains(sub.SQL.ConnectionString+sub.SQL.URL, "secret") {
			t.Errorf("password recorded: %+v", sub.SQL)
		}
	}
	if strings.Join(queries, "|") != "CONNECT|SELECT name FROM users WHERE id = ?|UPDATE users SET seen = 1" {
		t.Errorf("queries = %q", queries)
	}
}
