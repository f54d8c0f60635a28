package clickhouse_test

import (
	"context"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

func open(t *testing.T, u string) *clickhouse.Store {
	t.Helper()
	s, err := clickhouse.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the store conformance suite against a real
// ClickHouse server, a fresh database per store.
func TestConformance(t *testing.T) {
	clickhousetest.ServerURL(t)
	urls := map[store.Store]string{}
	storetest.Run(t,
		func(t *testing.T) store.Store {
			u := clickhousetest.NewDatabase(t)
			s := open(t, u)
			urls[s] = u
			return s
		},
		storetest.WithReopen(func(t *testing.T, s store.Store) store.Store {
			u := urls[s]
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			r := open(t, u)
			urls[r] = u
			return r
		}))
}
