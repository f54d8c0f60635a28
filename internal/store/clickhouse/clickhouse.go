// Package clickhouse is a store.Store over ClickHouse's HTTP interface, for
// several Roentgen processes sharing one database. It uses only SQL that
// ClickHouse 18.16 and current servers both run (docs/clickhouse.md).
//
// Visibility: every write is an INSERT that returns once its rows are on
// disk and visible to any later query on that server, so a read after an
// acknowledged write sees it, from any process. Rows are never updated:
// each change is a new row with a larger version (ver), taken from the
// writer's clock, and readers keep the largest version. Processes whose
// clocks disagree by more than the time between two changes of one record
// may therefore order those changes wrongly.
//
// What ClickHouse cannot do as the contract asks: an INSERT is atomic for
// one table only, so Apply's writes to several tables are ordered, not
// atomic. The order keeps the contract's crash rules for documents,
// summaries, terms and pending marks (a leased summary's row clears its marks; an
// unleased one's traces row, written last, does); a statistics
// delta, though, is written just before its summary, so a crash between the
// two counts that delta twice when the trace is summarised again. A stage
// the server refuses is reported instead (store.StatsStoredError), and the
// caller's retry takes the delta back.
package clickhouse

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Store is the ClickHouse backend.
type Store struct {
	c *client
	// shards are a sharded store's nodes, in their local database
	// (cluster.go); nil on one server.
	shards []*client
	// The group commit (batch.go) of every table ingest writes.
	commits *committer
	docWait time.Duration // docCommitWait unless a test sets it

	mu      sync.Mutex
	lastVer uint64

	owner string // this store's name in trace_leases (lease.go)
	// held are the traces whose lease this store holds: Apply releases
	// them with their cleared marks (lease.go).
	heldMu sync.Mutex
	held   map[string]bool
	// read are, for held traces, what the last Traces read: the versions
	// of the pending marks whose documents it read, which Apply clears
	// exactly, and the newest document version, a drop's (pending.go).
	read map[string]traceRead
	// own are the documents this store wrote, left out of its reads
	// (own.go).
	own ownDocs
	// contended: the last LeaseTraces lost a trace to another process.
	contended atomic.Bool

	rollup rollupConf // statistics rollups (rollup.go)
	stale  staleScan  // what the last PendingBefore answered (stale.go)
}

// tableColumns are the columns, in RowBinary order, of the tables written
// through the group commit.
var tableColumns = map[string]string{
	"traces":       "p, trace, epoch, ver, pending",
	"docs":         "p, trace, doc, ver, raw, epoch",
	"stats":        "p, res, bucket, grp, entity, value",
	"summaries":    "p, epoch, trace, ver, sum, cleared, owner",
	"terms":        "p, field, value, epoch, trace, ver",
	"dropped":      "p, trace, epoch, ver",
	"trace_leases": "p, trace, owner, ver, until",
}

var _ store.Store = (*Store)(nil)

// Open connects to the database rawURL names (clickhouse://host:port/db
// ?user=&password=&secure=1, or an http(s):// URL), creating it and its
// tables, or migrating them, as needed.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	c, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{c: c, commits: newCommitter(c, c.commitWindow), owner: newOwner(), held: map[string]bool{}, read: map[string]traceRead{}, rollup: defaultRollup(c)}
	if c.cluster != "" {
		if s.shards, err = openCluster(ctx, c); err != nil {
			return nil, err
		}
		return s, nil
	}
	// Migrating a sharded database as one server's would copy every
	// shard's rows into local tables in its place.
	if t, err := tableOfEngine(ctx, c, c.database, true); err != nil {
		return nil, err
	} else if t != "" {
		return nil, fmt.Errorf("clickhouse: database %s is sharded (%s is a Distributed table): open it with cluster= in the URL", c.database, t)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	if err := s.migrateDrops(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Database is the name of the store's database.
func (s *Store) Database() string { return s.c.database }

// Shared reports that other processes may write the same database: the
// ingest path must summarise a trace from all its stored documents, not
// only those it received itself.
func (s *Store) Shared() bool { return true }

// ver is a new row version: the clock in nanoseconds, strictly increasing
// within this process.
func (s *Store) ver() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := uint64(time.Now().UnixNano())
	if v <= s.lastVer {
		v = s.lastVer + 1
	}
	s.lastVer = v
	return v
}

func part(epoch int64) uint32 {
	if epoch < 0 {
		return 0
	}
	return uint32(store.PartitionOf(epoch))
}

// PutDocs implements store.Store: the documents are their trace's pending
// marks (pending.go).
func (s *Store) PutDocs(ctx context.Context, puts []store.DocPut) error {
	return s.PrepareDocs(puts)(ctx)
}

var _ store.DocPreparer = (*Store)(nil)

// PrepareDocs implements store.DocPreparer: the rows and their versions
// are made now, the INSERT by commit. Writers that commit at once share
// their INSERTs (batch.go).
func (s *Store) PrepareDocs(puts []store.DocPut) func(ctx context.Context) error {
	docs := s.docRows(puts)
	return func(ctx context.Context) error {
		return s.commits.commitWithin(ctx, cmp.Or(s.docWait, docCommitWait), stage{{"docs", docs}})
	}
}

// docCommitWait bounds how long a PutTraceSegments call waits for its
// documents' INSERT (behind the cycle under way, then its own): past it
// the call is throttled and resent by its client (the X-Ray SDKs and
// daemon retry a ThrottledException), rather than hang for the 6-14 s
// seen under load (docs/clickhouse.md).
const docCommitWait = 5 * time.Second

// docRows are the documents of puts, in RowBinary, each in its stored
// form (docform.go).
func (s *Store) docRows(puts []store.DocPut) []byte {
	var dw rowWriter
	n, count, size := 0, 0, 0
	for _, p := range puts {
		for _, d := range p.Docs {
			n += len(p.TraceID) + len(d.ID) + len(d.Raw)/2 + 40 // stored in ~0.4 of their bytes
			count++
			size += len(d.Raw)
		}
	}
	dw.b = make([]byte, 0, n)
	// Remembered uncompressed (own.go), copied once into one buffer: what
	// it keeps alive is exactly what it counts, whatever holds the
	// caller's bytes.
	kept := make([]byte, 0, size)
	own := make([]ownDoc, 0, count)
	byTrace := make([]ownPut, len(puts))
	var form []byte
	for i, p := range puts {
		v := s.ver()
		k := len(own)
		for _, d := range p.Docs {
			form = appendDocForm(form[:0], d.Raw)
			writeDoc(&dw, p.Epoch, p.TraceID, d.ID, v, form)
			at := len(kept)
			kept = append(kept, d.Raw...)
			own = append(own, ownDoc{doc: d.ID, ver: v, raw: kept[at:len(kept):len(kept)]})
		}
		byTrace[i] = ownPut{p.TraceID, own[k:len(own):len(own)]}
	}
	// What remembering keeps alive: the copies and an entry for each.
	s.own.add(cap(kept)+len(own)*ownEntryBytes, byTrace)
	return dw.b
}

// writeDoc adds a docs row, the document in its stored form (docform.go);
// its epoch makes it a pending mark (pending.go).
func writeDoc(w *rowWriter, epoch int64, traceID, docID string, v uint64, stored []byte) {
	w.u32(part(epoch))
	w.str(traceID)
	w.str(docID)
	w.u64(v)
	w.bytes(stored)
	w.i64(epoch)
}

// Pending implements store.Store: traces with a mark no summary cleared
// (pending.go), made from the last start's answer (pendingstart.go).
func (s *Store) Pending(ctx context.Context, fn func(traceID string) bool) error {
	ids, err := s.pendingAll(ctx) // pendingstart.go
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !fn(id) {
			return nil
		}
	}
	return nil
}

// Apply implements store.Store. Writes go in the order the contract's crash
// rules need, tables of one stage at once (batch.go): documents (copied
// first to a moved trace's new partition), statistics and terms, then
// summaries and dropped traces' tombstones, each its trace's cleared marks
// (a summary its lease's release too), then the drops' lease releases. A
// refused stage after stored statistics is store.StatsStoredError.
func (s *Store) Apply(ctx context.Context, updates []store.TraceUpdate) error {
	for _, u := range updates {
		if u.Summary == nil {
			return fmt.Errorf("clickhouse: update of trace %s has no summary", u.TraceID)
		}
	}
	var docs, stats, sums, terms, drops, marks rowWriter
	var moves []string
	var form []byte               // a document's stored form
	var deltas []store.StatRecord // combined per key by writeStats
	// The encoded summaries and their terms first, so that the largest
	// buffers are made at their size once (growing them was ~4% of a
	// shared store's ingest CPU).
	encs := make([][]byte, len(updates))
	termsOf := make([][]store.Term, len(updates))
	nSums, nTerms, nDeltas := 0, 0, 0
	cleared := s.clearedCounts(updates)
	for i, u := range updates {
		nDeltas += len(u.Stats)
		if u.Drop {
			continue
		}
		enc, err := trace.EncodeSummary(u.Summary)
		if err != nil {
			return err
		}
		encs[i], termsOf[i] = enc, addedTerms(&u, store.TermsOf(u.Summary))
		// A row: p, epoch, trace, ver, sum, cleared (8 bytes a mark: a
		// split trace's summary clears 3-4 here), owner, and their lengths.
		nSums += len(enc) + len(u.TraceID) + len(s.owner) + 8*cleared[i] + 48
		for _, t := range termsOf[i] {
			nTerms += len(t.Field) + len(t.Value) + len(u.TraceID) + 40
		}
	}
	sums.b, terms.b = make([]byte, 0, nSums), make([]byte, 0, nTerms)
	deltas = make([]store.StatRecord, 0, nDeltas)
	vers := make([]uint64, len(updates)) // each summary's version, for its terms
	for i, u := range updates {
		if u.Drop {
			// Inserts only (drop.go): statistics, then the tombstone,
			// which clears the trace's marks up to its version
			// (pending.go). No traces row beside it since schema
			// version 7: the builds that needed one cannot run on it.
			v := s.dropVer(&u)
			deltas = append(deltas, u.Stats...)
			writeDrop(&drops, &u, v)
			continue
		}
		if u.Previous != nil && part(u.Previous.Epoch) != part(u.Epoch) {
			// Documents live in their trace's partition, so retention drops
			// them with it; a trace that moves takes its documents along.
			moves = append(moves, fmt.Sprintf(`INSERT INTO docs (p, trace, doc, ver, raw, epoch)
				SELECT toUInt32(%d), trace, doc, ver, raw, toInt64(%d) FROM docs WHERE trace = %s AND p = %d`,
				part(u.Epoch), u.Epoch, quote(u.TraceID), part(u.Previous.Epoch)))
		}
		enc := encs[i]
		v := s.ver()
		for _, d := range u.Docs {
			form = appendDocForm(form[:0], d.Raw)
			writeDoc(&docs, u.Epoch, u.TraceID, d.ID, v, form)
		}
		deltas = append(deltas, u.Stats...)
		sums.u32(part(u.Epoch))
		sums.i64(u.Epoch)
		sums.str(u.TraceID)
		sums.u64(v)
		sums.bytes(enc)
		s.writeCleared(&sums, &marks, &u, v)
		vers[i] = v
	}
	for _, t := range termsInKeyOrder(updates, termsOf) {
		u := &updates[t.upd]
		terms.u32(part(u.Epoch))
		terms.str(t.field)
		terms.str(t.value)
		terms.i64(u.Epoch)
		terms.str(u.TraceID)
		terms.u64(vers[t.upd])
	}
	if err := writeStats(&stats, deltas); err != nil {
		return err
	}
	for _, m := range moves {
		if err := s.c.exec(ctx, m); err != nil {
			return err
		}
	}
	// A leased summary's row releases its lease (lease.go); a drop's
	// release is a trace_leases row.
	ids := make([]string, len(updates))
	var dropIDs []string
	for i, u := range updates {
		ids[i] = u.TraceID
		if u.Drop {
			dropIDs = append(dropIDs, u.TraceID)
		}
	}
	releases := s.releasable(dropIDs)
	// Statistics before the summaries and tombstones they lead to (a crash
	// between counts a delta twice rather than losing it; a refusal is
	// reported, below); a term counts only once its summary version is the
	// trace's newest, so terms may go first. A leased summary's row carries
	// its cleared marks, and a drop's tombstone is its cleared mark
	// (pending.go): a trace is cleared in the INSERT that stores its summary
	// or tombstone, so no crash or refusal leaves it cleared without one,
	// nor pending after one. The leases go last: another process may build
	// on a summary once it is stored: a summary's row is its release, a
	// drop's release a row of the last stage, with the traces rows of an
	// unleased summary (the only process: no lease).
	err := s.commits.commit(
		stage{{"docs", docs.b}, {"stats", stats.b}, {"terms", terms.b}},
		stage{{"summaries", sums.b}, {"dropped", drops.b}},
		stage{{"traces", marks.b}, {"trace_leases", s.leaseRows(releases, 0)}})
	if err == nil {
		s.released(ids)
	}
	if err != nil && stored(err, 0, "stats") {
		// The deltas are in (or there were none), and with them the
		// take-back of the updates' Counted changes: a retry must not add
		// them again, and each update's retry builds on what of it was
		// stored (the ingester).
		return &store.StatsStoredError{Err: err, Summaries: stored(err, 1, "summaries"), Tombstones: stored(err, 1, "dropped")}
	}
	return err
}

// Trace implements store.Store.
func (s *Store) Trace(ctx context.Context, traceID string) (*store.StoredTrace, error) {
	ep, err := s.location(ctx, traceID)
	if err != nil {
		return nil, err
	}
	sum, err := s.Head(ctx, traceID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	out := &store.StoredTrace{ID: traceID, Epoch: ep, Summary: sum}
	r, err := s.c.selectRows(ctx, fmt.Sprintf(
		`SELECT doc, argMax(raw, ver), max(ver) FROM docs WHERE trace = %s AND p = %d GROUP BY doc ORDER BY doc`,
		quote(traceID), part(ep)))
	if err != nil {
		return nil, err
	}
	var vers []uint64
	var dr docReader
	for r.more() {
		id := r.str()
		raw, err := dr.doc(r.raw())
		if err != nil {
			return nil, fmt.Errorf("clickhouse: trace %s, document %s: %w", traceID, id, err)
		}
		vers = append(vers, r.u64())
		out.Docs = append(out.Docs, store.Doc{ID: id, Raw: raw})
	}
	if r.err != nil {
		return nil, r.err
	}
	if sum == nil {
		dv, err := s.dropVersions(ctx, []string{traceID})
		if err != nil {
			return nil, err
		}
		if v, ok := dv[traceID]; ok {
			hideDropped(out, vers, v)
		}
	}
	if sum == nil && len(out.Docs) == 0 {
		return nil, store.ErrNotFound
	}
	return out, nil
}

// location is the epoch a trace is filed under, from its newest traces
// row or document (pending.go).
func (s *Store) location(ctx context.Context, traceID string) (int64, error) {
	r, err := s.c.selectRows(ctx, `SELECT epoch FROM `+markRows(`trace = `+quote(traceID))+` ORDER BY ver DESC LIMIT 1`)
	if err != nil {
		return 0, err
	}
	if !r.more() {
		return 0, store.ErrNotFound
	}
	ep := r.i64()
	return ep, r.err
}

// Head implements store.Store.
func (s *Store) Head(ctx context.Context, traceID string) (*trace.Summary, error) {
	r, err := s.c.selectRows(ctx, fmt.Sprintf(
		`SELECT sum FROM summaries WHERE trace = %s ORDER BY ver DESC LIMIT 1`, quote(traceID)))
	if err != nil {
		return nil, err
	}
	if !r.more() {
		if r.err != nil {
			return nil, r.err
		}
		dv, err := s.dropVersions(ctx, []string{traceID})
		if err != nil {
			return nil, err
		}
		if _, ok := dv[traceID]; ok {
			return nil, store.ErrDropped
		}
		return nil, store.ErrNotFound
	}
	b := r.raw()
	if r.err != nil {
		return nil, r.err
	}
	return trace.DecodeSummary(b)
}

// LatestEpoch implements store.Store.
func (s *Store) LatestEpoch(ctx context.Context) (int64, error) {
	r, err := s.c.selectRows(ctx, `SELECT toInt64(greatest((SELECT max(epoch) FROM summaries), (SELECT max(epoch) FROM dropped)))`)
	if err != nil {
		return 0, err
	}
	ep := r.i64()
	return ep, r.err
}

// ForeignEpoch implements store.Store.
func (s *Store) ForeignEpoch(ctx context.Context, traceID string) (int64, error) {
	ep, err := s.location(ctx, traceID)
	if err != nil {
		return 0, err
	}
	if own, ok := segment.TraceEpoch(traceID); ok && own == ep {
		return 0, store.ErrNotFound
	}
	return ep, nil
}

// PutMeta implements store.Store.
func (s *Store) PutMeta(ctx context.Context, kind, key string, value []byte) error {
	return s.putMeta(ctx, kind, key, value, 0)
}

// DeleteMeta implements store.Store: a tombstone row.
func (s *Store) DeleteMeta(ctx context.Context, kind, key string) error {
	return s.putMeta(ctx, kind, key, nil, 1)
}

func (s *Store) putMeta(ctx context.Context, kind, key string, value []byte, deleted uint8) error {
	var w rowWriter
	w.str(kind)
	w.str(key)
	w.u64(s.ver())
	w.u8(deleted)
	w.bytes(value)
	return s.c.insert(ctx, "meta", "kind, key, ver, deleted, value", w.b)
}

// GetMeta implements store.Store.
func (s *Store) GetMeta(ctx context.Context, kind, key string) ([]byte, error) {
	var v []byte
	found := false
	err := s.listMeta(ctx, fmt.Sprintf("kind = %s AND key = %s", quote(kind), quote(key)), func(_ string, value []byte) bool {
		v, found = value, true
		return false
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, store.ErrNotFound
	}
	return v, nil
}

// ListMeta implements store.Store.
func (s *Store) ListMeta(ctx context.Context, kind string, fn func(key string, value []byte) bool) error {
	return s.listMeta(ctx, "kind = "+quote(kind), fn)
}

func (s *Store) listMeta(ctx context.Context, where string, fn func(key string, value []byte) bool) error {
	r, err := s.c.selectRows(ctx, `SELECT key, argMax(value, ver) FROM meta WHERE `+where+
		` GROUP BY key HAVING argMax(deleted, ver) = 0 ORDER BY key`)
	if err != nil {
		return err
	}
	for r.more() {
		k := r.str()
		v := r.raw()
		if r.err == nil && !fn(k, []byte(string(v))) {
			return nil
		}
	}
	return r.err
}

// DropBefore implements store.Store with ALTER TABLE … DROP PARTITION.
func (s *Store) DropBefore(ctx context.Context, t time.Time) (int, error) {
	cut := store.PartitionOf(t.Unix())
	if cut <= 0 {
		return 0, nil
	}
	tables := make([]string, len(partitioned))
	for i, t := range partitioned {
		tables[i] = quote(t)
	}
	dropped := map[int64]bool{}
	for _, node := range s.nodes() {
		if err := s.dropBeforeOn(ctx, node, tables, cut, dropped); err != nil {
			return 0, err
		}
	}
	if _, err := s.PurgeDropped(ctx, time.Now()); err != nil { // drop.go
		return 0, err
	}
	return len(dropped), nil
}

// dropBeforeOn is DropBefore on one node's tables, adding the trace
// partitions it drops to dropped.
func (s *Store) dropBeforeOn(ctx context.Context, node *client, tables []string, cut int64, dropped map[int64]bool) error {
	r, err := node.selectRows(ctx, fmt.Sprintf(`SELECT DISTINCT table, partition FROM system.parts
		WHERE database = %s AND active AND table IN (%s)`, quote(node.database), strings.Join(tables, ", ")))
	if err != nil {
		return err
	}
	var drops []string
	for r.more() {
		table, p := r.str(), r.str()
		if r.err != nil {
			break
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return fmt.Errorf("clickhouse: partition %q of %s is not an hour", p, table)
		}
		if n < cut {
			drops = append(drops, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %d", table, n))
			if !strings.HasPrefix(table, "stats") {
				dropped[n] = true
			}
		}
	}
	if r.err != nil {
		return r.err
	}
	for _, d := range drops {
		if err := node.exec(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// DiskUsage implements store.Store: the bytes of the database's active parts.
func (s *Store) DiskUsage() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int64
	for _, node := range s.nodes() {
		r, err := node.selectRows(ctx, fmt.Sprintf(`SELECT toUInt64(sum(bytes_on_disk)) FROM system.parts WHERE database = %s AND active`,
			quote(node.database)))
		if err != nil {
			return 0
		}
		n += int64(r.u64())
	}
	return n
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.c.http.CloseIdleConnections()
	return nil
}

// DropDatabase removes the store's database and everything in it (tests).
func (s *Store) DropDatabase(ctx context.Context) error {
	_, err := s.c.do(ctx, "DROP DATABASE IF EXISTS "+s.c.database, nil, false)
	for _, node := range s.shards {
		if err != nil {
			break
		}
		_, err = node.do(ctx, "DROP DATABASE IF EXISTS "+node.database, nil, false)
	}
	return err
}
