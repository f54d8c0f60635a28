// Command sampleapp is a small shop written against aws-xray-sdk-go. The
// roentgen variant is the same file with only its imports changed; the
// xray package's tests run both and compare the traces Roentgen stores.
//
// It serves a frontend and a backend (both with xray.Handler), the frontend
// calls the backend with xray.Client, the backend runs a SQL query through
// xray.SQLContext, a DynamoDB GetItem through AWSV2Instrumentor against a
// local stub, and xray.Capture with annotations, metadata and, on /fail, an
// error. It prints "READY <frontend URL>" and serves until stdin closes.
package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/roentgen-tracing/roentgen/xray"
	"github.com/roentgen-tracing/roentgen/xray/instrumentation/awsv2"
	"github.com/roentgen-tracing/roentgen/xray/strategy/sampling"
)

func main() {
	all, err := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":0,"rate":1},"rules":[]}`))
	check(err)
	check(xray.Configure(xray.Config{DaemonAddr: os.Getenv("DAEMON"), SamplingStrategy: all, ServiceVersion: "2.0.0"}))

	ddbStub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-amzn-RequestId", "REQ-1")
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		io.WriteString(w, `{"Item":{"id":{"S":"o-1"},"total":{"N":"12.5"}}}`)
	}))
	defer ddbStub.Close()
	opts := dynamodb.Options{Region: "eu-west-1", BaseEndpoint: aws.String(ddbStub.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")}
	awsv2.AWSV2Instrumentor(&opts.APIOptions)
	ddb := dynamodb.New(opts)

	sql.Register("tinysql", tinyDriver{})
	db, err := xray.SQLContext("tinysql", "tinysql://app@db.local:5432/shop")
	check(err)

	backend := httptest.NewServer(xray.Handler(xray.NewFixedSegmentNamer("backend"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		xray.AddAnnotation(ctx, "customer", "c-42")
		xray.AddAnnotation(ctx, "items", 3)
		xray.AddMetadata(ctx, "order", map[string]any{"id": "o-1", "total": 12.5})
		xray.AddMetadataToNamespace(ctx, "billing", "currency", "EUR")
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM orders").Scan(&n); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		if _, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("orders"),
			Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "o-1"}}}); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		xray.Capture(ctx, "compute-price", func(ctx context.Context) error {
			xray.AddAnnotation(ctx, "price_rule", "standard")
			return xray.AddMetadata(ctx, "cache", "miss")
		})
		if strings.HasSuffix(r.URL.Path, "/fail") {
			err := xray.Capture(ctx, "charge-card", func(context.Context) error { return errors.New("card declined") })
			xray.AddError(ctx, fmt.Errorf("checkout failed: %w", err))
			http.Error(w, "payment failed", 500)
			return
		}
		io.WriteString(w, "ok")
	})))
	defer backend.Close()

	client := xray.Client(nil)
	frontend := httptest.NewServer(xray.Handler(xray.NewFixedSegmentNamer("frontend"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, backend.URL+r.URL.Path, nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})))
	defer frontend.Close()

	fmt.Println("READY", frontend.URL)
	io.Copy(io.Discard, os.Stdin)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// tinyDriver is a database/sql driver that answers two queries.
type tinyDriver struct{}

func (tinyDriver) Open(string) (driver.Conn, error) { return tinyConn{}, nil }

type tinyConn struct{}

func (tinyConn) Prepare(q string) (driver.Stmt, error) { return tinyStmt{q}, nil }
func (tinyConn) Close() error                          { return nil }
func (tinyConn) Begin() (driver.Tx, error)             { return nil, errors.New("tinysql: no transactions") }

type tinyStmt struct{ q string }

func (tinyStmt) Close() error                               { return nil }
func (tinyStmt) NumInput() int                              { return -1 }
func (tinyStmt) Exec([]driver.Value) (driver.Result, error) { return driver.RowsAffected(0), nil }
func (s tinyStmt) Query([]driver.Value) (driver.Rows, error) {
	switch {
	case strings.HasPrefix(s.q, "SELECT version(), current_user, current_database()"):
		return &tinyRows{cols: []string{"version", "user", "db"}, row: []driver.Value{"TinySQL 1.0", "app", "shop"}}, nil
	case strings.HasPrefix(s.q, "SELECT count(*)"):
		return &tinyRows{cols: []string{"count"}, row: []driver.Value{int64(7)}}, nil
	}
	return nil, errors.New("tinysql: unknown query")
}

type tinyRows struct {
	cols []string
	row  []driver.Value
	done bool
}

func (r *tinyRows) Columns() []string { return r.cols }
func (r *tinyRows) Close() error      { return nil }
func (r *tinyRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	copy(dest, r.row)
	return nil
}
