package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// SchemaVersion is the schema version this build brings a database to, as
// schema_version's rows write it.
var SchemaVersion = strconv.Itoa(len(migrations))

// SetRollup sets s's rollup timings (rollup.go) for a test.
func SetRollup(s *Store, grace, every time.Duration, minRows int, beforeMark func() error) {
	s.rollup = rollupConf{grace: grace, every: every, minRows: minRows, beforeMark: beforeMark, now: s.rollup.now}
}

// SetServerClock makes s's rollups take now for the server's clock
// (rollupConf.now); the `at` of rows is still the server's.
func SetServerClock(s *Store, now func() uint32) { s.rollup.now = now }

// PrepareDocsInStages is PrepareDocs in two steps as builds before schema
// version 6 made it (a traces row with pending 1, then the documents), so
// a test can act between an older process's mark and its documents.
func (s *Store) PrepareDocsInStages(puts []store.DocPut) (marks, docs func(context.Context) error) {
	var mw, dw rowWriter
	for _, p := range puts {
		v := s.ver()
		writeMark(&mw, p.Epoch, p.TraceID, v, 1)
		for _, d := range p.Docs {
			dw.u32(part(p.Epoch))
			dw.str(p.TraceID)
			dw.str(d.ID)
			dw.u64(v)
			dw.bytes(d.Raw)
		}
	}
	// The documents as an older build writes them: no epoch.
	return func(ctx context.Context) error { return s.c.insert(ctx, "traces", tableColumns["traces"], mw.b) },
		func(ctx context.Context) error { return s.c.insert(ctx, "docs", "p, trace, doc, ver, raw", dw.b) }
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

// SetUpgradeClock makes the schema upgrade (upgrade.go) take now for the
// process's clock until the test ends.
func SetUpgradeClock(t testing.TB, now func() time.Time) {
	upgradeTiming.now = now
	t.Cleanup(func() { upgradeTiming.now = time.Now })
}

// SetPurgeHook makes PurgeDropped call hook between its read of what to
// delete and its mutation on each node (named as Shards names it), until
// the test ends.
func SetPurgeHook(t testing.TB, hook func(node string)) {
	purgeHook = func(n *client) { hook(n.base + " " + n.database) }
	t.Cleanup(func() { purgeHook = nil })
}

// SetAnswerHook makes every query's answer pass through hook until the
// test ends.
func SetAnswerHook(t testing.TB, hook func(query string, answer []byte)) {
	answerHook = hook
	t.Cleanup(func() { answerHook = nil })
}

// SetOwnGeneration makes s remember its documents in generations of n
// bytes (own.go) and reports how many generations it has forgotten.
func (s *Store) SetOwnGeneration(n int) (forgotten func() int) {
	s.RememberWritten(int64(n))
	return func() int {
		s.own.mu.Lock()
		defer s.own.mu.Unlock()
		return s.own.forgotten
	}
}

// PutDocsAsBefore writes documents as builds before schema version 9 did
// (docform.go): the JSON as it is, each row its trace's pending mark.
func (s *Store) PutDocsAsBefore(ctx context.Context, puts []store.DocPut) error {
	var dw rowWriter
	for _, p := range puts {
		v := s.ver()
		for _, d := range p.Docs {
			writeDoc(&dw, p.Epoch, p.TraceID, d.ID, v, d.Raw)
		}
	}
	return s.c.insert(ctx, "docs", tableColumns["docs"], dw.b)
}

// CopyDocs inserts into docs a copy of the rows of table from (docs'
// columns) that match where, each document decompressed, rewritten by
// rewrite (which may also rename its trace) and stored again: its stored
// form (docform.go) cannot be rewritten in SQL.
func (s *Store) CopyDocs(ctx context.Context, from, where string, rewrite func(trace string, doc []byte) (string, []byte)) error {
	r, err := s.c.selectRows(ctx, `SELECT p, trace, doc, ver, raw, epoch FROM `+from+` WHERE `+where)
	if err != nil {
		return err
	}
	var w rowWriter
	var dr docReader
	var form []byte
	for r.more() {
		p := r.fixed(4)
		trace, doc, ver, raw, epoch := r.str(), r.str(), r.u64(), r.raw(), r.i64()
		if r.err != nil {
			break
		}
		d, err := dr.doc(raw)
		if err != nil {
			return err
		}
		trace, d = rewrite(trace, d)
		form = appendDocForm(form[:0], d)
		w.b = append(w.b, p...)
		w.str(trace)
		w.str(doc)
		w.u64(ver)
		w.bytes(form)
		w.i64(epoch)
	}
	if r.err != nil {
		return r.err
	}
	return s.c.insert(ctx, "docs", tableColumns["docs"], w.b)
}

// StoredDoc is a document in the stored form the store writes (docform.go).
func StoredDoc(raw []byte) []byte { return appendDocForm(nil, raw) }

// PendingBeforeScan is PendingBefore's whole answer read at once (the
// model of stale.go and rescan.go): traces filed within staleWindow whose
// newest mark (markRows) is not cleared and was written before before
// (versions are the writers' clocks in ns), every mark of those hours
// grouped by trace.
func (s *Store) PendingBeforeScan(ctx context.Context, before time.Time) ([]string, error) {
	from := before.Add(-staleWindow)
	r, err := s.c.selectRows(ctx, pendingSQL(windowWhere(from), fmt.Sprintf(` AND %s < %d`, newestMark, before.UnixNano()))+` ORDER BY trace`)
	if err != nil {
		return nil, err
	}
	return r.strs()
}

// SetStaleFullEvery sets how often PendingBefore makes a whole answer
// (staleFullEvery).
func SetStaleFullEvery(s *Store, d time.Duration) { s.stale.fullEvery = d }

// StaleRescans is how many of s's whole answers were rescans (rescan.go).
func StaleRescans(s *Store) int { return s.stale.rescans }

// SetStaleOverlap sets how far before its last answer PendingBefore reads
// marks again (staleOverlap).
func SetStaleOverlap(s *Store, d time.Duration) { s.stale.overlap = d }

// StaleScans are how many of s's PendingBefore answers were whole scans
// and how many read a window and the last answer.
func StaleScans(s *Store) (fulls, windows int) { return s.stale.fulls, s.stale.windows }

// NewPartWindows is how many of s's PendingBefore windows read only the
// parts made since a sample (newparts.go).
func NewPartWindows(s *Store) int { return s.stale.newParts }

// PutDocsAt writes documents at version v, as a writer whose clock reads v
// (its marks too).
func (s *Store) PutDocsAt(ctx context.Context, puts []store.DocPut, v uint64) error {
	var dw rowWriter
	for _, p := range puts {
		for _, d := range p.Docs {
			writeDoc(&dw, p.Epoch, p.TraceID, d.ID, v, appendDocForm(nil, d.Raw))
		}
	}
	return s.c.insert(ctx, "docs", tableColumns["docs"], dw.b)
}

// PendingScan is Pending's answer read whole (pendingstart.go's model).
func (s *Store) PendingScan(ctx context.Context) ([]string, error) { return s.scanAll(ctx) }

// StartRescans is how many of s's Pending answers were made from a
// recorded one (pendingstart.go).
func StartRescans(s *Store) int { return int(s.stale.startRescans.Load()) }

// PendingKind is the meta kind of a start's recorded answer.
const PendingKind = pendingKind

// RecordedDocsBlock is the docs block number of the start's record (-1:
// none readable).
func RecordedDocsBlock(s *Store) int64 {
	if rec, ok := s.recordedPending(context.Background()); ok {
		return rec.Docs
	}
	return -1
}
