// Package pebble is the embedded store: the store.Store contract on
// CockroachDB's Pebble LSM engine, in one directory on local disk, as three
// LSMs (lsm.go).
//
// Key layout (version 10: layout 9's keys with summaries in the derived
// form; see keys.go and migrate.go). Every trace-derived key begins with
// its table byte and the trace's epoch, so a retention cut is one range
// deletion per table instead of a delete per row:
//
//	t | epoch | trace id | 0 | doc id          -> raw document      (documents LSM)
//	i | minute | field 0 value 0 | epoch        -> trace ids         (index LSM, postings.go)
//	s | epoch | trace id                       -> encoded summary   (main LSM, as the rest)
//	d | epoch | trace id                       -> (empty): keep policies dropped the trace
//	x | trace id                               -> epoch, when it is not the id's own
//	p | 0 | 8-byte number                      -> (len id, id, epoch)...: a PutDocs call's traces
//	                                              awaiting a summary (pendingmarks.go; p | trace id -> epoch
//	                                              before layout 9, still read)
//	u | partition | G|H|I | ...                -> statistics (stats.go)
//	w | kind 0 key                             -> metadata record
//	v                                          -> layout version
//	n                                          -> epoch numeric terms begin at (legacy.go)
package pebble

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// layoutVersion is written at creation and checked at open, so a future
// layout can migrate or refuse old data instead of misreading it. A store
// of an older layout is upgraded to textDocsLayout, which differs in its
// documents' keys (dockeys.go) and summaries' keys (sumkeys.go);
// textSumKeysLayout differs in the summaries' keys.
const (
	layoutVersion     = "13"
	textSumKeysLayout = "12"
	textDocsLayout    = "11"
)

// Store is the Pebble-backed store.Store.
type Store struct {
	// The LSMs are replaced once, when a store opened read-only on a full
	// disk becomes writable (space.go); every method holds mu's read lock.
	mu    sync.RWMutex
	main  *pebble.DB // summaries and everything small
	docs  *pebble.DB // documents
	index *pebble.DB // posting lists
	dir   string
	fs    walFS // every LSM's files; see walsync.go
	// combineStats is Options.CombineStats; statBatches counts batches of
	// statistics deltas (stats.go).
	combineStats func([][]byte) []byte
	statBatches  atomic.Int64
	opts         Options
	log          *slog.Logger
	space        *space
	locks        [3]*pebble.Lock // one per LSM directory, held while a read-only open becomes writable

	readOnly      atomic.Bool                // opened on a full disk
	reopenMu      sync.Mutex                 // one reopen at a time
	failed        atomic.Pointer[fatalError] // Pebble hit a fatal error: writes refused
	corrupt       atomic.Uint64              // summaries skipped because they do not decode
	corruptLogged sync.Map                   // trace ids whose corrupt summary was logged
	// numericFrom: partitions before it were written before layout 6 and
	// have no numeric index terms (legacy.go).
	numericFrom int64
	marks       pendingMarks // pendingmarks.go
	// Apply's and PutDocs' staging (scratch.go), apart: Apply's arrays
	// are the larger.
	applyScratch, putScratch scratchList
	// oldTables: the store is open read-only on a full disk, its layout
	// older than 9, so its statistics and metadata are still in their old
	// tables (migrate.go); written by open, with mu held once the store is
	// shared.
	oldTables bool
	// layout11: the store's layout is 11 or older, written as layout 11
	// is: documents' keys hold their ids as text (dockeys.go), posting
	// lists take no runs (postings.go); written by open.
	layout11 bool
	// textSumKeys: the store's layout is 12 or older, whose summaries'
	// keys hold their trace ids as text (sumkeys.go); written by open.
	textSumKeys bool
}

var _ store.Store = (*Store)(nil)

// Options tune the store; the zero value is the default.
type Options struct {
	// CacheBytes is the block cache size (default DefaultCacheBytes),
	// beside the memtables' memory (blockCacheBytes).
	CacheBytes int64
	// MemTableBytes is the documents LSM's memtable size, the main and
	// index LSMs' four times over (default DefaultMemTableBytes). Each LSM
	// holds one memtable being written and up to a few being flushed.
	MemTableBytes int64
	// CombineStats sums the encoded deltas of one statistics record
	// (graph.CombineStats), or returns nil when it cannot read one. Without
	// it, deltas are kept concatenated, which readers sum but which grows.
	CombineStats func(deltas [][]byte) []byte
	// Logger receives Pebble's logs and events (default slog.Default()).
	Logger *slog.Logger
	// ReserveBytes is the free disk space below which writes are refused
	// (default DefaultReserveBytes, or an eighth of a smaller file system;
	// space.go).
	ReserveBytes uint64
}

// The defaults of Options, as the memory budget splits 512 MiB
// (internal/budget): what Roentgen takes without configuration.
const (
	DefaultCacheBytes    = 32 << 20
	DefaultMemTableBytes = 32 << 20
)

// Open opens or creates the store in dir. On a disk too full to take
// writes it opens the store read-only, to serve reads, and makes it
// writable once space is freed.
func Open(dir string, o Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = DefaultCacheBytes
	}
	if o.MemTableBytes <= 0 {
		o.MemTableBytes = DefaultMemTableBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ReserveBytes == 0 {
		o.ReserveBytes = defaultReserve(dir)
	}
	s := &Store{dir: dir, opts: o, log: o.Logger, space: newSpace(dir, o.ReserveBytes, o.Logger), combineStats: o.CombineStats}
	s.fs = newWALFS(s.space)
	readOnly := !s.space.check()
	if readOnly {
		s.log.Warn("store: the disk is full; the store is open for reads only until space is freed", "dir", dir)
	}
	lsms, err := s.open(readOnly)
	if err != nil {
		s.unlock()
		return nil, err
	}
	s.main, s.docs, s.index = lsms[0], lsms[1], lsms[2]
	s.readOnly.Store(readOnly)
	// After open's upgrade, which may have recorded it (legacy.go).
	err = s.loadNumericFrom()
	if err == nil {
		err = s.marks.load(s.lsmOf('p'), s.log)
	}
	if err != nil {
		for _, db := range lsms {
			db.Close()
		}
		s.unlock()
		return nil, err
	}
	return s, nil
}

// open opens the three LSMs, upgrading an older layout unless readOnly.
func (s *Store) open(readOnly bool) ([]*pebble.DB, error) {
	cache := pebble.NewCache(blockCacheBytes(s.opts.CacheBytes, s.opts.MemTableBytes)) // shared by the three LSMs
	defer cache.Unref()
	var dbs []*pebble.DB
	closeAll := func() {
		for _, db := range dbs {
			db.Close()
		}
	}
	for _, role := range []lsmRole{mainLSM, documentsLSM, indexLSM} {
		if s.locks[role] == nil {
			l, err := lockLSM(s.dir, role, s.fs)
			if err != nil {
				closeAll()
				return nil, err
			}
			s.locks[role] = l
		}
		db, err := openLSM(s.dir, role, lsmConfig{cache: cache, memTable: s.opts.MemTableBytes, fs: s.fs, log: s.log, lock: s.locks[role], readOnly: readOnly, merger: s.mergerOf(role)})
		if err != nil {
			closeAll()
			return nil, err
		}
		dbs = append(dbs, db)
		if role != mainLSM {
			continue
		}
		// The version is checked before the other LSMs are created, so that a
		// store of a layout this build does not know is left as it was.
		have, err := layoutOf(db, s.dir)
		if err != nil {
			closeAll()
			return nil, err
		}
		if readOnly && have != layoutVersion && !slices.Contains(readableVersions, have) {
			closeAll()
			return nil, fmt.Errorf("store in %s: the disk is too full to create or upgrade the store (layout %q); free space and start again", s.dir, have)
		}
		s.oldTables = readOnly && !tablesInPlace(have)
		s.layout11 = have != "" && have != layoutVersion && have != textSumKeysLayout
		s.textSumKeys = have != "" && have != layoutVersion
	}
	if !readOnly {
		up := &Store{main: dbs[0], docs: dbs[1], index: dbs[2], dir: s.dir, fs: s.fs, space: s.space, log: s.log, combineStats: s.combineStats, layout11: s.layout11, textSumKeys: s.textSumKeys}
		have, err := layoutOf(up.main, s.dir)
		if err == nil {
			err = up.upgrade(have)
		}
		if err != nil {
			closeAll()
			return nil, err
		}
	}
	return dbs, nil
}

// mergerOf is an LSM's merge operator: the main LSM sums statistics deltas
// (stats.go); the others concatenate.
func (s *Store) mergerOf(role lsmRole) *pebble.Merger {
	if role == mainLSM {
		return mergerFor(s.combineStats)
	}
	return concatenate
}

func (s *Store) lsms() []*pebble.DB { return []*pebble.DB{s.docs, s.index, s.main} }

func (s *Store) unlock() {
	for _, l := range s.locks {
		if l != nil {
			l.Close()
		}
	}
}

// Close flushes and closes the store: everything applied is on disk after.
// Documents go first and summaries last, in the order Apply writes them;
// the pending marks it clears after the summaries only cost a summary
// computed again if that flush is lost. On a full disk nothing is flushed:
// the write-ahead logs hold it all and the next open replays them.
func (s *Store) Close() error {
	flush := s.space.check() && !s.readOnly.Load() && s.failed.Load() == nil
	s.space.close() // file writes waiting for space give up
	s.lockAll()
	defer s.mu.Unlock()
	var first error
	for _, db := range s.lsms() {
		var err error
		if flush {
			err = db.Flush()
		}
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if first == nil {
			first = err
		}
	}
	s.unlock()
	return first
}

// PutDocs implements store.Store.
func (s *Store) PutDocs(ctx context.Context, puts []store.DocPut) error {
	return s.write(func() error { return s.putDocs(ctx, puts) })
}

func (s *Store) putDocs(ctx context.Context, puts []store.DocPut) error {
	if len(puts) == 0 {
		return nil
	}
	// A trace's pending mark is written in one batch with its documents, so
	// a crash leaves both or neither. A foreign trace id's alias goes
	// first: readers find its documents through it.
	var aliases stagedBatch
	w := s.putScratch.get()
	n := 1
	for _, p := range puts {
		n += len(p.Docs)
	}
	docs := stagedBatch{ops: opsWith(w.ops, n)}
	ids, epochs := w.ids[:0], w.epochs[:0]
	// The documents' keys and the mark in one array (the scratch's): one
	// allocation per document was ~2% of the objects single-segment
	// ingest allocated.
	size := 0
	for _, p := range puts {
		for _, d := range p.Docs {
			size += docKeyMax(p.TraceID, d.ID)
		}
		size += markEntryMax(p.TraceID)
	}
	keys := w.bytes[:0]
	if cap(keys) < size {
		keys = make([]byte, 0, size)
	}
	defer func() {
		w.ops, w.bytes, w.ids, w.epochs = docs.ops, keys, ids, epochs
		s.putScratch.put(w)
	}()
	for i := range puts {
		p := &puts[i]
		if idEp, ok := segment.TraceEpoch(p.TraceID); !ok || idEp != p.Epoch {
			aliases.set(aliasKey(p.TraceID), epochBytes(p.Epoch))
		}
		ids, epochs = append(ids, p.TraceID), append(epochs, p.Epoch)
		for _, d := range p.Docs {
			start := len(keys)
			keys = s.appendDocKey(keys, p.Epoch, p.TraceID, d.ID)
			docs.set(keys[start:len(keys):len(keys)], d.Raw)
		}
	}
	// One for the call (pendingmarks.go); its value in the keys' array,
	// which size left room for.
	start := len(keys)
	mark, keys := s.marks.newMark(ids, epochs, keys)
	docs.set(mark.key, keys[start:len(keys):len(keys)])
	if err := aliases.commit(s.main); err != nil {
		return err
	}
	if err := docs.commit(s.docs); err != nil {
		return err
	}
	s.marks.add(mark)
	return nil
}

// Pending implements store.Store.
func (s *Store) Pending(ctx context.Context, fn func(traceID string) bool) error {
	defer s.read()()
	for _, id := range s.marks.pending() {
		if !fn(id) {
			break
		}
	}
	return nil
}

// Apply implements store.Store.
func (s *Store) Apply(ctx context.Context, updates []store.TraceUpdate) error {
	// Summaries are owed to documents already acknowledged, and small:
	// they go on below the reserve, which is kept for them and for
	// Pebble's flushes, while any space is left.
	return s.writeIf(s.space.admitAny, func() error { return s.apply(ctx, updates) })
}

func (s *Store) apply(ctx context.Context, updates []store.TraceUpdate) error {
	if len(updates) == 0 {
		// Nothing to write, and no marks to clear: the marks' clear takes
		// a nil id list (a fresh scratch's) as every pending trace.
		return nil
	}
	// Documents, then index terms, then summaries, then the pending marks'
	// removal: a crash in between leaves the trace pending, and its terms
	// naming a trace without a summary, which searches skip.
	var docs stagedBatch
	var refiled [][]byte // document ranges copied under another epoch
	var dropped [][]byte // document ranges of traces not kept
	w := s.applyScratch.get()
	marked := w.ids[:0]
	// Sized up front: grown by doubling, the staged operations were ~6% of
	// single-segment ingest's allocated bytes.
	sb := stagedBatch{ops: opsWith(w.ops, 3*len(updates))}
	terms := stagedBatch{ops: w.terms}
	pw := postingWriters.Get().(*postingWriter)
	defer pw.release() // after the terms' commit: the batch copies the lists
	stats := getStatDeltas()
	defer stats.release() // after the main batch's commit, which copies its merges
	tb := termBuffers.Get().(*termBuffer)
	defer tb.put()
	// Summaries and their keys are encoded one after another into an
	// arena of chunks, copied into the Pebble batch on commit and so
	// reused by the next Apply: allocated afresh they were ~12% of
	// single-segment ingest's allocated bytes, and so of its collections.
	arena := w.chunk()
	defer func() {
		w.ops, w.terms, w.ids = sb.ops, terms.ops, marked
		s.applyScratch.put(w)
	}()
	for i := range updates {
		u := &updates[i]
		if u.Summary == nil {
			return fmt.Errorf("update of trace %s has no summary", u.TraceID)
		}
		marked = append(marked, u.TraceID)
		if u.Drop {
			if err := stats.add(u.Stats); err != nil {
				return err
			}
			dropped = append(dropped, s.docPrefix(u.Epoch, u.TraceID))
			sb.del(s.summaryKey(u.Epoch, u.TraceID))
			if p := u.Previous; p != nil && p.Epoch != u.Epoch {
				dropped = append(dropped, s.docPrefix(p.Epoch, u.TraceID))
				sb.del(s.summaryKey(p.Epoch, u.TraceID))
			}
			// The tombstone, in the statistics' batch: late documents of
			// the trace find it (Head, Trace) and are dropped too. A
			// foreign epoch's alias stays, naming where it is filed.
			sb.set(s.droppedKey(u.Epoch, u.TraceID), nil)
			s.setAlias(&sb, u)
			continue
		}
		s.setAlias(&sb, u)
		if p := u.Previous; p != nil && p.Epoch != u.Epoch {
			if err := s.copyDocs(ctx, &docs, u.TraceID, p.Epoch, u.Epoch); err != nil {
				return err
			}
			refiled = append(refiled, s.docPrefix(p.Epoch, u.TraceID))
		}
		for _, d := range u.Docs {
			docs.set(s.docKey(u.Epoch, u.TraceID, d.ID), d.Raw) // after copyDocs': these win
		}
		// Only terms the trace did not carry before are added; terms it
		// lost stay in their lists (see postings.go). A trace that moved
		// epoch is added under the new one; its old entries find no summary.
		var oldTerms []store.Term
		moved := u.Previous != nil && u.Previous.Epoch != u.Epoch
		if p := u.Previous; p != nil {
			if moved {
				sb.del(s.summaryKey(p.Epoch, u.TraceID))
			} else {
				oldTerms, tb.oldVals = termsInto(tb.old, tb.oldVals, p)
				tb.old = oldTerms
			}
		}
		// The lists are scratch: pw copies what it keeps.
		curTerms, curVals := termsInto(tb.cur, tb.curVals, u.Summary)
		tb.cur, tb.curVals = curTerms, curVals
		addedTerms(oldTerms, curTerms, func(t store.Term) { pw.add(u.Epoch, t, u.TraceID) })
		// Summaries are encoded one after another into the arena: growing a
		// buffer per summary was a few percent of ingest's allocations.
		// Its key too: one allocation per trace less. A slice of the arena
		// stays unchanged when a summary outgrows the chunk (into a new
		// array) or the next chunk is taken.
		if cap(arena)-len(arena) < chunkRoom {
			arena = w.chunk()
		}
		start := len(arena)
		arena = s.appendSummaryKey(arena, u.Epoch, u.TraceID)
		key := arena[start:len(arena):len(arena)]
		start = len(arena)
		var err error
		if arena, err = trace.AppendCompactSummary(arena, u.Summary, u.TraceID); err != nil {
			return err
		}
		sb.set(key, arena[start:len(arena):len(arena)])
		if err := stats.add(u.Stats); err != nil {
			return err
		}
	}
	// In the summaries' batch: a crash keeps both or neither.
	stats.stage(&sb, s.combineStats)
	if err := docs.commit(s.docs); err != nil {
		return err
	}
	terms.ops = opsWith(terms.ops, len(pw.keys))
	pw.stage(&terms, !s.layout11)
	if err := terms.commit(s.index); err != nil {
		return err
	}
	if err := sb.commit(s.main); err != nil {
		return err
	}
	if len(stats.keys) > 0 {
		s.statWritten()
	}
	// After the statistics, before the marks: a crash in between leaves a
	// pending trace with no documents, which recovery passes over, rather
	// than statistics counted twice.
	for _, prefix := range dropped {
		if err := s.docs.DeleteRange(prefix, prefixEnd(prefix), pebble.NoSync); err != nil {
			return err
		}
	}
	if err := s.marks.clear(s.lsmOf('p'), marked, nil); err != nil {
		return err
	}
	// Only now that the alias names the new epoch: before, a crash would
	// have left the trace's documents where no reader looks.
	for _, prefix := range refiled {
		if err := s.docs.DeleteRange(prefix, prefixEnd(prefix), pebble.NoSync); err != nil {
			return err
		}
	}
	return nil
}

// setAlias records the epoch an update files its trace under when that is
// not its id's, and removes one that no longer holds.
func (s *Store) setAlias(sb *stagedBatch, u *store.TraceUpdate) {
	if ep, ok := segment.TraceEpoch(u.TraceID); !ok || ep != u.Epoch {
		sb.set(aliasKey(u.TraceID), epochBytes(u.Epoch))
	} else if u.Previous != nil && u.Previous.Epoch != u.Epoch {
		sb.del(aliasKey(u.TraceID))
	}
}

// dropped reports whether a trace filed under ep has a tombstone (one
// lookup, which the bloom filters answer for the common trace without).
func (s *Store) dropped(ep int64, traceID string) (bool, error) {
	_, err := s.lookup(s.droppedKey(ep, traceID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// copyDocs files a trace's stored documents under its new epoch too, so
// that Trace, which reads one epoch, still finds the ones this update leaves
// alone; Apply deletes the old copies once the summary and alias are
// written.
func (s *Store) copyDocs(ctx context.Context, b *stagedBatch, traceID string, from, to int64) error {
	prefix, moved := s.docPrefix(from, traceID), s.docPrefix(to, traceID)
	it, err := s.docs.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		// The iterator's value is valid only until it moves.
		b.set(append(moved[:len(moved):len(moved)], it.Key()[len(prefix):]...), bytes.Clone(it.Value()))
	}
	return it.Error()
}

// epochOf finds the epoch a trace is stored under.
func (s *Store) epochOf(traceID string) (int64, error) {
	ep, err := s.ForeignEpoch(context.Background(), traceID)
	if !errors.Is(err, store.ErrNotFound) {
		return ep, err
	}
	ep, ok := segment.TraceEpoch(traceID)
	if !ok {
		return 0, store.ErrNotFound
	}
	return ep, nil
}

// Trace implements store.Store.
func (s *Store) Trace(ctx context.Context, traceID string) (*store.StoredTrace, error) {
	defer s.read()()
	ep, err := s.epochOf(traceID)
	if err != nil {
		return nil, err
	}
	sum, err := s.summary(ep, traceID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	out := &store.StoredTrace{ID: traceID, Epoch: ep, Summary: sum}
	if sum == nil {
		if out.Dropped, err = s.dropped(ep, traceID); err != nil {
			return nil, err
		}
	}
	prefix := s.docPrefix(ep, traceID)
	it, err := s.docs.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		out.Docs = append(out.Docs, store.Doc{ID: s.docIDOf(k[len(prefix):]), Raw: bytes.Clone(it.Value())})
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	if sum == nil && len(out.Docs) == 0 {
		return nil, store.ErrNotFound
	}
	return out, nil
}

// Head implements store.Store.
func (s *Store) Head(ctx context.Context, traceID string) (*trace.Summary, error) {
	defer s.read()()
	ep, err := s.epochOf(traceID)
	if err != nil {
		return nil, err
	}
	sum, err := s.summary(ep, traceID)
	if errors.Is(err, store.ErrNotFound) {
		if d, derr := s.dropped(ep, traceID); derr != nil || d {
			return nil, cmp.Or(derr, store.ErrDropped)
		}
	}
	return sum, err
}

// LatestEpoch implements store.Store.
func (s *Store) LatestEpoch(ctx context.Context) (int64, error) {
	defer s.read()()
	var latest int64
	for _, table := range []byte{'s', 'd'} {
		ep, err := s.lastEpoch(ctx, table)
		if err != nil {
			return 0, err
		}
		latest = max(latest, ep)
	}
	return latest, nil
}

// lastEpoch is the epoch of a table's last key (0 when it is empty).
func (s *Store) lastEpoch(ctx context.Context, table byte) (int64, error) {
	it, err := s.main.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: []byte{table}, UpperBound: []byte{table + 1}})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if it.Last() {
		return int64(binary.BigEndian.Uint64(it.Key()[1:9])), nil
	}
	return 0, it.Error()
}

// ForeignEpoch implements store.Store.
func (s *Store) ForeignEpoch(ctx context.Context, traceID string) (int64, error) {
	defer s.read()()
	v, err := s.lookup(aliasKey(traceID))
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("corrupt alias for trace %s", traceID)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// lookup reads one key, or store.ErrNotFound. Most lookups are of keys
// that do not exist (the summary of a new trace, the alias of an X-Ray id),
// and Pebble's Get skips the bloom filters of the bottom level, where most
// data lives, reading and decompressing a data block for each miss; a
// prefix seek over the whole key consults them.
func (s *Store) lookup(key []byte) ([]byte, error) {
	it, err := s.main.NewIter(&pebble.IterOptions{UseL6Filters: true})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	if it.SeekPrefixGE(key) && bytes.Equal(it.Key(), key) {
		return bytes.Clone(it.Value()), nil
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	return nil, store.ErrNotFound
}

// summary reads and decodes a trace's summary (lookup consults the bloom
// filters, so the common miss of a new trace reads no data block).
func (s *Store) summary(ep int64, traceID string) (*trace.Summary, error) {
	v, err := s.lookup(s.summaryKey(ep, traceID))
	if err != nil {
		return nil, err
	}
	sum, err := trace.DecodeSummaryUnder(v, traceID)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", traceID, err)
	}
	return sum, nil
}

// Summaries implements store.Store.
func (s *Store) Summaries(ctx context.Context, q store.SummaryQuery, fn func(*trace.Summary) bool) error {
	defer s.read()()
	// Epochs are unsigned in keys; a window reaching before 1970 starts there.
	q.From = max(q.From, 0)
	if q.To <= q.From {
		return nil
	}
	upper := s.summaryKey(q.To, "")
	if !q.After.IsZero() {
		if q.After.Epoch < q.From {
			return nil
		}
		upper = s.summaryKey(q.After.Epoch, q.After.TraceID)
		if q.After.Epoch >= q.To {
			upper = s.summaryKey(q.To, "")
		}
	}
	if first, rest, any, none := q.Conjunction(); none {
		return nil
	} else if any {
		q.AnyOf, q.AnyIn, q.AllOf = first.Terms, first.Ranges, rest
		return s.termScan(ctx, q, fn)
	}
	it, err := s.main.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: s.summaryKey(q.From, ""), UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	dec := newDecodeAhead(fn, s.skipCorrupt, s.summaryKeyTraceID) // decodes on every core, delivers in order
	for it.Last(); it.Valid(); it.Prev() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !dec.add(it.Key(), it.Value()) {
			return nil
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	dec.flush()
	return nil
}

// DropBefore implements store.Store. It runs while space is short, as long
// as some is left for its few records: dropping old data is what frees it.
func (s *Store) DropBefore(ctx context.Context, t time.Time) (n int, err error) {
	err = s.writeIf(s.space.admitAny, func() (err error) { n, err = s.dropBefore(ctx, t); return err })
	return n, err
}

func (s *Store) dropBefore(ctx context.Context, t time.Time) (int, error) {
	cut := store.PartitionOf(t.Unix())
	if cut <= 0 {
		return 0, nil
	}
	n, err := s.countPartitions(cut)
	if err != nil || n == 0 {
		return 0, err
	}
	for _, table := range []byte{'t', 'i', 's', 'd', statTable} {
		if err := s.lsmOf(table).DeleteRange([]byte{table}, append([]byte{table}, epochBytes(cut)...), pebble.NoSync); err != nil {
			return 0, err
		}
	}
	// Pending marks name the traces awaiting a summary, with their epochs.
	if err := s.marks.clear(s.lsmOf('p'), nil, func(_ string, ep int64) bool { return ep < cut }); err != nil {
		return 0, err
	}
	// Aliases (foreign trace ids only) are few; they go row by row.
	{
		const table byte = 'x'
		var b stagedBatch
		db := s.lsmOf(table)
		it, err := db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: []byte{table}, UpperBound: []byte{table + 1}})
		if err != nil {
			return 0, err
		}
		for it.First(); it.Valid(); it.Next() {
			if v := it.Value(); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) < cut {
				b.del(bytes.Clone(it.Key()))
			}
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return 0, err
		}
		if err := b.commit(db); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// countPartitions counts the partitions below cut holding documents,
// summaries or tombstones (a pending trace has no summary yet; statistics
// tests store summaries alone; keep policies may drop a partition's every
// trace).
func (s *Store) countPartitions(cut int64) (int, error) {
	seen := map[int64]bool{}
	for _, table := range []byte{'t', 's', 'd'} {
		it, err := s.lsmOf(table).NewIter(&pebble.IterOptions{LowerBound: []byte{table}, UpperBound: append([]byte{table}, epochBytes(cut)...)})
		if err != nil {
			return 0, err
		}
		for ok := it.First(); ok; {
			p := store.PartitionOf(int64(binary.BigEndian.Uint64(it.Key()[1:9])))
			seen[p] = true
			ok = it.SeekGE(append([]byte{table}, epochBytes(p+store.PartitionSeconds)...))
		}
		if err := it.Close(); err != nil {
			return 0, err
		}
	}
	return len(seen), nil
}

// lsmOf is the LSM that holds a table.
func (s *Store) lsmOf(table byte) *pebble.DB {
	switch table {
	case 't', 'p':
		return s.docs
	case 'i':
		return s.index
	}
	return s.main
}

// EngineMetrics are Pebble's own counters (levels, compactions, caches) of
// each LSM.
func (s *Store) EngineMetrics() string {
	defer s.read()()
	return fmt.Sprintf("main LSM:\n%s\ndocuments LSM:\n%s\nindex LSM:\n%s", s.main.Metrics(), s.docs.Metrics(), s.index.Metrics())
}

// DiskUsage implements store.Store.
func (s *Store) DiskUsage() int64 {
	defer s.read()()
	var n uint64
	for _, db := range s.lsms() {
		n += db.Metrics().DiskSpaceUsage()
	}
	return int64(n)
}

// Metadata.

func (s *Store) PutMeta(ctx context.Context, kind, key string, value []byte) error {
	return s.write(func() error {
		return s.fs.syncingDurably(func() error { return s.main.Set(metaKey(kind, key), value, pebble.Sync) })
	})
}

func (s *Store) GetMeta(ctx context.Context, kind, key string) ([]byte, error) {
	defer s.read()()
	v, closer, err := s.main.Get(s.readMetaKey(kind, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

func (s *Store) DeleteMeta(ctx context.Context, kind, key string) error {
	return s.write(func() error {
		return s.fs.syncingDurably(func() error { return s.main.Delete(metaKey(kind, key), pebble.Sync) })
	})
}

// readMetaKey is metaKey where this store keeps its metadata: in table m
// while a store of an older layout is open read-only.
func (s *Store) readMetaKey(kind, key string) []byte {
	k := metaKey(kind, key)
	if s.oldTables {
		k[0] = oldMetaTable
	}
	return k
}

func (s *Store) ListMeta(ctx context.Context, kind string, fn func(key string, value []byte) bool) error {
	defer s.read()()
	prefix := s.readMetaKey(kind, "")
	it, err := s.main.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if !fn(string(it.Key()[len(prefix):]), bytes.Clone(it.Value())) {
			break
		}
	}
	return it.Error()
}
