package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// SetRollup sets s's rollup timings (rollup.go) for a test.
func SetRollup(s *Store, grace, every time.Duration, minRows int, beforeMark func() error) {
	s.rollup = rollupConf{grace: grace, every: every, minRows: minRows, beforeMark: beforeMark, now: s.rollup.now}
}

// SetServerClock makes s's rollups take now for the server's clock
// (rollupConf.now); the `at` of rows is still the server's.
func SetServerClock(s *Store, now func() uint32) { s.rollup.now = now }

// PrepareDocsInStages is PrepareDocs with its two INSERTs apart, so a test
// can act between a put's pending marks and its documents.
func (s *Store) PrepareDocsInStages(puts []store.DocPut) (marks, docs func(context.Context) error) {
	m, d := s.docRows(puts)
	return func(ctx context.Context) error { return s.c.insert(ctx, "traces", tableColumns["traces"], m) },
		func(ctx context.Context) error { return s.c.insert(ctx, "docs", tableColumns["docs"], d) }
}

// Shards are the nodes of a sharded store ("http://host:port/ database"),
// or nil for one server.
func (s *Store) Shards() []string {
	var out []string
	for _, n := range s.shards {
		out = append(out, n.base+" "+n.database)
	}
	return out
}

// SetUpgradeHooks sets the hooks of the schema upgrade (upgrade.go) until
// the test ends: upgrading runs in the process that holds the upgrade
// before it migrates, waiting in one that starts to wait for another's.
func SetUpgradeHooks(t testing.TB, upgrading, waiting func()) {
	upgradeHooks.upgrading, upgradeHooks.waiting = upgrading, waiting
	t.Cleanup(func() { upgradeHooks.upgrading, upgradeHooks.waiting = nil, nil })
}

// Count is the number of rows of one of s's tables.
func (s *Store) Count(ctx context.Context, table string) (uint64, error) {
	r, err := s.c.selectRows(ctx, "SELECT count() FROM "+table)
	if err != nil {
		return 0, err
	}
	n := r.u64()
	return n, r.err
}
