// Package pebble is the embedded store: the store.Store contract on
// CockroachDB's Pebble LSM engine, in one directory on local disk.
//
// Key layout (version 1, see keys.go). Every trace-derived key begins with
// its table byte and the trace's epoch, so a retention cut is one range
// deletion per table instead of a delete per row:
//
//	t | epoch | trace id | 0 | doc id          -> raw document
//	s | epoch | trace id                       -> encoded summary
//	i | partition | field 0 value 0 | epoch     -> trace ids (postings.go)
//	x | trace id                               -> epoch, when it is not the id's own
//	p | trace id                               -> epoch, while documents await a summary
//	m | kind 0 key                             -> metadata record
//	v                                          -> layout version
package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// layoutVersion is written at creation and checked at open, so a future
// layout can migrate or refuse old data instead of misreading it.
const layoutVersion = "2"

// readableVersions are older layouts this build reads as they are: 1 differs
// only in its index keys, which postings.go still reads. Opening one marks
// it 2, since 1's readers would misread the posting lists written after.
var readableVersions = []string{"1"}

// Store is the Pebble-backed store.Store.
type Store struct {
	db  *pebble.DB
	dir string
}

var _ store.Store = (*Store)(nil)

// Options tune the store; the zero value is the default.
type Options struct {
	// CacheBytes is the block cache size (default 128 MiB).
	CacheBytes int64
}

// Open opens or creates the store in dir.
func Open(dir string, o Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 128 << 20
	}
	cache := pebble.NewCache(o.CacheBytes)
	defer cache.Unref()
	opts := &pebble.Options{
		Cache:                       cache,
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		// L0 gathers 16 flushes before they are compacted into the base
		// level: index terms and late documents land all over the key
		// space, so each L0 compaction rewrites most of the base level,
		// and doing it 4x less often took 12-20% off ingest CPU at 2M
		// segments. Point reads stay on bloom filters; searches measured
		// no slower (BENCHMARKS.md).
		L0CompactionThreshold: 16,
		L0StopWritesThreshold: 48,
		LBaseMaxBytes:         256 << 20,
		Logger:                quietLogger{},
		Merger:                concatenate,
		// The default is the oldest format Pebble reads, whose tables know
		// only Snappy, whatever the compression settings say: with it,
		// documents compressed 4.2x; with zstd in the bottom level 6.7x.
		// Older stores are ratcheted up at open.
		FormatMajorVersion: pebble.FormatNewest,
	}
	// Fast codecs in the upper levels, zstd level 1 from L4 down (below),
	// where data lives. zstd level 3 ("Good") stored 2% less for 6% more
	// ingest CPU.
	opts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionBalanced })
	// Without the adaptive fallback: it samples blocks and, once the index's
	// random trace ids show zstd little better than MinLZ, writes every
	// later block of the table (documents and summaries too) with MinLZ,
	// which stored 13-27% more.
	bottom := *sstable.BalancedCompression
	bottom.AdaptiveReductionCutoffPercent = 0
	// zstd from L4 down, not only in L6: documents arrive in time order, so
	// Pebble often moves a table from the base level to the bottom without
	// rewriting it, and it kept its fast codec there for good (documents
	// 258 instead of 175 bytes per segment at 1M segments, for no CPU
	// measured).
	for i := 4; i < len(opts.Levels); i++ {
		opts.Levels[i].Compression = func() *sstable.CompressionProfile { return &bottom }
	}
	for i := range opts.Levels {
		opts.Levels[i].BlockSize = 64 << 10
		// Ingest looks up every arriving trace id, and most are new: without
		// filters each miss reads and decompresses a block per level.
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	// Every summarised trace deletes its pending mark, so the p table is
	// all tombstones; Pebble's tombstone-density compactions then rewrote
	// whole tables (documents and summaries beside the marks) over and
	// over: 36 of 86 compactions in a 1M-segment run, 7-11% of ingest CPU.
	// Ordinary compactions drop the tombstones at the bottom level anyway.
	opts.Experimental.TombstoneDenseCompactionThreshold = -1
	opts.EnsureDefaults()
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dir, err)
	}
	s := &Store{db: db, dir: dir}
	if err := s.checkVersion(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) checkVersion() error {
	v, closer, err := s.db.Get([]byte{'v'})
	if errors.Is(err, pebble.ErrNotFound) {
		return s.db.Set([]byte{'v'}, []byte(layoutVersion), pebble.Sync)
	}
	if err != nil {
		return err
	}
	have := string(v)
	closer.Close()
	switch {
	case have == layoutVersion:
		return nil
	case slices.Contains(readableVersions, have):
		return s.db.Set([]byte{'v'}, []byte(layoutVersion), pebble.Sync)
	}
	return fmt.Errorf("store in %s has layout version %q; this build reads %q and %q", s.dir, have, layoutVersion, readableVersions)
}

// Close flushes and closes the store: everything applied is on disk after.
func (s *Store) Close() error {
	if err := s.db.Flush(); err != nil {
		s.db.Close()
		return err
	}
	return s.db.Close()
}

// PutDocs implements store.Store.
func (s *Store) PutDocs(ctx context.Context, puts []store.DocPut) error {
	b := s.db.NewBatch()
	defer b.Close()
	var sb sortedBatch
	for i := range puts {
		p := &puts[i]
		ep := epochBytes(p.Epoch)
		if idEp, ok := segment.TraceEpoch(p.TraceID); !ok || idEp != p.Epoch {
			sb.set(aliasKey(p.TraceID), ep)
		}
		sb.set(pendingKey(p.TraceID), ep)
		for _, d := range p.Docs {
			sb.set(docKey(p.Epoch, p.TraceID, d.ID), d.Raw)
		}
	}
	if err := sb.flush(b); err != nil {
		return err
	}
	return b.Commit(pebble.NoSync) // as Apply: Close syncs
}

// Pending implements store.Store.
func (s *Store) Pending(ctx context.Context, fn func(traceID string) bool) error {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: []byte{'p'}, UpperBound: []byte{'p' + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if !fn(string(it.Key()[1:])) {
			break
		}
	}
	return it.Error()
}

// Apply implements store.Store.
func (s *Store) Apply(ctx context.Context, updates []store.TraceUpdate) error {
	b := s.db.NewBatch()
	defer b.Close()
	sb := sortedBatch{ops: make([]stagedOp, 0, 3*len(updates))} // in key order, after moveDocs' own writes
	var pw postingWriter
	arena := make([]byte, 0, 2560*len(updates))
	for i := range updates {
		u := &updates[i]
		if u.Summary == nil {
			return fmt.Errorf("update of trace %s has no summary", u.TraceID)
		}
		sb.del(pendingKey(u.TraceID))
		if ep, ok := segment.TraceEpoch(u.TraceID); !ok || ep != u.Epoch {
			sb.set(aliasKey(u.TraceID), epochBytes(u.Epoch))
		} else if u.Previous != nil && u.Previous.Epoch != u.Epoch {
			sb.del(aliasKey(u.TraceID))
		}
		if p := u.Previous; p != nil && p.Epoch != u.Epoch {
			if err := s.moveDocs(ctx, b, u.TraceID, p.Epoch, u.Epoch); err != nil {
				return err
			}
		}
		for _, d := range u.Docs {
			sb.set(docKey(u.Epoch, u.TraceID, d.ID), d.Raw)
		}
		// Only terms the trace did not carry before are added; terms it
		// lost stay in their lists (see postings.go). A trace that moved
		// epoch is added under the new one; its old entries find no summary.
		var oldTerms []store.Term
		moved := u.Previous != nil && u.Previous.Epoch != u.Epoch
		if p := u.Previous; p != nil {
			if moved {
				sb.del(summaryKey(p.Epoch, u.TraceID))
			} else {
				oldTerms = store.TermsOf(p)
			}
		}
		addedTerms(oldTerms, store.TermsOf(u.Summary), func(t store.Term) { pw.add(u.Epoch, t, u.TraceID) })
		// Summaries are encoded one after another into one arena: growing a
		// buffer per summary was a few percent of ingest's allocations.
		start := len(arena)
		var err error
		if arena, err = trace.AppendSummary(arena, u.Summary); err != nil {
			return err
		}
		sb.set(summaryKey(u.Epoch, u.TraceID), arena[start:len(arena):len(arena)])
	}
	pw.stage(&sb)
	if err := sb.flush(b); err != nil {
		return err
	}
	// NoSync: the WAL is written before Apply returns and reaches the disk
	// with the OS; Close syncs it, so a clean stop loses nothing acknowledged.
	return b.Commit(pebble.NoSync)
}

// moveDocs refiles a trace's stored documents under its new epoch, so that
// Trace, which reads one epoch, still finds the ones this update leaves alone.
func (s *Store) moveDocs(ctx context.Context, b *pebble.Batch, traceID string, from, to int64) error {
	prefix := docPrefix(from, traceID)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if err := b.Set(docKey(to, traceID, string(it.Key()[len(prefix):])), it.Value(), nil); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	return b.DeleteRange(prefix, prefixEnd(prefix), nil)
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
	ep, err := s.epochOf(traceID)
	if err != nil {
		return nil, err
	}
	sum, err := s.summary(ep, traceID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	out := &store.StoredTrace{ID: traceID, Epoch: ep, Summary: sum}
	prefix := docPrefix(ep, traceID)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		out.Docs = append(out.Docs, store.Doc{ID: string(k[len(prefix):]), Raw: bytes.Clone(it.Value())})
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
	ep, err := s.epochOf(traceID)
	if err != nil {
		return nil, err
	}
	return s.summary(ep, traceID)
}

// LatestEpoch implements store.Store.
func (s *Store) LatestEpoch(ctx context.Context) (int64, error) {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: []byte{'s'}, UpperBound: []byte{'s' + 1}})
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
	it, err := s.db.NewIter(&pebble.IterOptions{UseL6Filters: true})
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
	v, err := s.lookup(summaryKey(ep, traceID))
	if err != nil {
		return nil, err
	}
	sum, err := trace.DecodeSummary(v)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", traceID, err)
	}
	return sum, nil
}

// Summaries implements store.Store.
func (s *Store) Summaries(ctx context.Context, q store.SummaryQuery, fn func(*trace.Summary) bool) error {
	// Epochs are unsigned in keys; a window reaching before 1970 starts there.
	q.From = max(q.From, 0)
	if q.To <= q.From {
		return nil
	}
	upper := summaryKey(q.To, "")
	if !q.After.IsZero() {
		if q.After.Epoch < q.From {
			return nil
		}
		upper = summaryKey(q.After.Epoch, q.After.TraceID)
		if q.After.Epoch >= q.To {
			upper = summaryKey(q.To, "")
		}
	}
	if len(q.AnyOf) > 0 {
		return s.termScan(ctx, q, fn)
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: summaryKey(q.From, ""), UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	dec := newDecodeAhead(fn) // decodes on every core, delivers in order
	for it.Last(); it.Valid(); it.Prev() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !dec.add(it.Key(), it.Value()) {
			return dec.err()
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	dec.flush()
	return dec.err()
}

// DropBefore implements store.Store.
func (s *Store) DropBefore(ctx context.Context, t time.Time) (int, error) {
	cut := store.PartitionOf(t.Unix())
	if cut <= 0 {
		return 0, nil
	}
	n, err := s.countPartitions(cut)
	if err != nil || n == 0 {
		return 0, err
	}
	for _, table := range append([]byte{'t', 's', 'i'}, statTables...) {
		if err := s.db.DeleteRange([]byte{table}, append([]byte{table}, epochBytes(cut)...), pebble.NoSync); err != nil {
			return 0, err
		}
	}
	// Aliases (foreign trace ids only) and pending marks (traces awaiting a
	// summary) are few; they go row by row.
	b := s.db.NewBatch()
	defer b.Close()
	for _, table := range []byte{'x', 'p'} {
		it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: []byte{table}, UpperBound: []byte{table + 1}})
		if err != nil {
			return 0, err
		}
		for it.First(); it.Valid(); it.Next() {
			if v := it.Value(); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) < cut {
				_ = b.Delete(bytes.Clone(it.Key()), nil)
			}
		}
		it.Close()
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return 0, err
	}
	return n, nil
}

// countPartitions counts the partitions below cut holding documents or
// summaries (a pending trace has no summary yet; statistics tests store
// summaries alone).
func (s *Store) countPartitions(cut int64) (int, error) {
	seen := map[int64]bool{}
	for _, table := range []byte{'t', 's'} {
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{table}, UpperBound: append([]byte{table}, epochBytes(cut)...)})
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

// EngineMetrics are Pebble's own counters (levels, compactions, caches).
func (s *Store) EngineMetrics() *pebble.Metrics { return s.db.Metrics() }

// DiskUsage implements store.Store.
func (s *Store) DiskUsage() int64 { return int64(s.db.Metrics().DiskSpaceUsage()) }

// Metadata.

func (s *Store) PutMeta(ctx context.Context, kind, key string, value []byte) error {
	return s.db.Set(metaKey(kind, key), value, pebble.Sync)
}

func (s *Store) GetMeta(ctx context.Context, kind, key string) ([]byte, error) {
	v, closer, err := s.db.Get(metaKey(kind, key))
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
	return s.db.Delete(metaKey(kind, key), pebble.Sync)
}

func (s *Store) ListMeta(ctx context.Context, kind string, fn func(key string, value []byte) bool) error {
	prefix := metaKey(kind, "")
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
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

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic("pebble: " + fmt.Sprintf(format, args...))
}
