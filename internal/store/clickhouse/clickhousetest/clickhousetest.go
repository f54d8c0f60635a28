// Package clickhousetest gives tests a fresh database on the ClickHouse
// server ROENTGEN_CLICKHOUSE_URL names (scripts/clickhouse.sh starts one).
// Without the variable, tests skip, except in CI (CI=true), where a missing
// server is a failure: CI must never pass by not testing.
package clickhousetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
)

// EnvURL is the variable naming the server.
const EnvURL = "ROENTGEN_CLICKHOUSE_URL"

// ServerURL is the server's URL, or skips (fails in CI) without one.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set and CI=true: ClickHouse tests must run in CI (scripts/test.sh starts a server with scripts/clickhouse.sh)", EnvURL)
		}
		t.Skipf("%s is not set: skipping ClickHouse tests (run scripts/clickhouse.sh start and export %s=http://127.0.0.1:18123/)", EnvURL, EnvURL)
	}
	return u
}

// NewDatabase returns a store URL naming a new database roentgen_test_<random>
// on the server, dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	base, err := url.Parse(ServerURL(t))
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	var b [6]byte
	rand.Read(b[:])
	base.Path = "/roentgen_test_" + hex.EncodeToString(b[:])
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
	return strings.TrimSuffix(u, "/")
}
