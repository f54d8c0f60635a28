package clickhouse_test

import (
	"context"
	"slices"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// TestExternalIDsArriveAsSent: ids with the bytes TabSeparated escapes
// (and a quote, and bytes beyond ASCII) reach the server as sent, in
// order, and an empty set is an empty table.
func TestExternalIDsArriveAsSent(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	st, err := clickhouse.Open(context.Background(), db) // creates the database
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, ids := range [][]string{
		{"1-5f84c1a2-0000000000000000000000aa", "a\tb", "line\nbreak", `back\slash`, "cr\rlf", "nul\x00", `q'uote`, "\xff\xfe", ""},
		nil,
	} {
		got, err := clickhouse.EchoIDs(context.Background(), db, ids)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("server read %q, want %q", got, ids)
		}
	}
}
