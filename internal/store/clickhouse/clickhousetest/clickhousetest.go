// Package clickhousetest gives tests a fresh database on the ClickHouse
// server ROENTGEN_CLICKHOUSE_URL names (scripts/clickhouse.sh starts one),
// or a sharded one on the two-shard cluster ROENTGEN_CLICKHOUSE_SHARDS_URL
// names a node of (CLICKHOUSE_SHARDS=2 scripts/clickhouse.sh starts it).
// Without the variable, tests skip, except in CI (CI=true), where a missing
// server is a failure: CI must never pass by not testing.
package clickhousetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
)

// EnvURL is the variable naming the server.
const EnvURL = "ROENTGEN_CLICKHOUSE_URL"

// EnvShardsURL names a node of a cluster of two shards named Cluster.
const EnvShardsURL = "ROENTGEN_CLICKHOUSE_SHARDS_URL"

// Cluster is the cluster scripts/clickhouse.sh configures with
// CLICKHOUSE_SHARDS.
const Cluster = "roentgen_shards"

// ServerURL is the server's URL, or skips (fails in CI) without one.
func ServerURL(t testing.TB) string {
	t.Helper()
	return envURL(t, EnvURL, "scripts/clickhouse.sh start", "http://127.0.0.1:18123/")
}

// ShardsURL is the URL of a node of the two-shard cluster, or skips
// (fails in CI) without one.
func ShardsURL(t testing.TB) string {
	t.Helper()
	return envURL(t, EnvShardsURL, "CLICKHOUSE_SHARDS=2 CLICKHOUSE_HTTP_PORT=18124 CLICKHOUSE_TCP_PORT=19001 scripts/clickhouse.sh start",
		"http://127.0.0.2:18124/")
}

func envURL(t testing.TB, env, start, example string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set and CI=true: ClickHouse tests must run in CI (scripts/test.sh starts the servers with scripts/clickhouse.sh)", env)
		}
		t.Skipf("%s is not set: skipping ClickHouse tests (run %s and export %s=%s)", env, start, env, example)
	}
	return u
}

// NewDatabase returns a store URL naming a new database roentgen_test_<random>
// on the server, dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, ServerURL(t), "")
}

// NewShardedDatabase returns a store URL naming a new database
// roentgen_test_<random> of Distributed tables on the two-shard cluster,
// its local tables in roentgen_test_<random>_local on each shard, all
// dropped when the test ends.
func NewShardedDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, ShardsURL(t), Cluster)
}

func newDatabase(t testing.TB, server, cluster string) string {
	t.Helper()
	base, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s: %v", server, err)
	}
	var b [6]byte
	rand.Read(b[:])
	base.Path = "/roentgen_test_" + hex.EncodeToString(b[:])
	if cluster != "" {
		base.RawQuery = url.Values{"cluster": {cluster}}.Encode()
	}
	u := base.String()
	t.Cleanup(func() {
		s, err := clickhouse.Open(context.Background(), u)
		if err != nil {
			t.Errorf("dropping the test database: %v", err)
			return
		}
		defer s.Close()
		if err := s.DropDatabase(context.Background()); err != nil {
			t.Errorf("dropping the test database: %v", err)
		}
	})
	return u
}

// Query runs a statement in the database a store URL names (as the
// server's default user) and returns its answer, trimmed.
func Query(t testing.TB, storeURL, sql string) string {
	t.Helper()
	u, err := url.Parse(storeURL)
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	u.Scheme, u.Path, u.RawQuery = "http", "/", url.Values{"database": {db}}.Encode()
	// A connection of its own, closed after: tests check for leaked
	// goroutines, and a pooled connection's are.
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Post(u.String(), "text/plain", strings.NewReader(sql))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", sql, resp.StatusCode, b)
	}
	return strings.TrimSpace(string(b))
}
