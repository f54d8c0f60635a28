package pebble

import (
	"bytes"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/minio/minlz"
)

// The store is three Pebble LSMs, one per way its tables are written, so
// that compacting one never rewrites another's data:
//
//	<dir>            summaries, aliases, metadata, statistics
//	<dir>/documents  documents: the bulk of the bytes, appended in time order;
//	                 and the pending marks, written in one batch with them
//	<dir>/index      posting lists: every batch adds to many terms of the minute
//
// In one LSM, each flush held documents, summaries and index terms, and an
// L0 table running from one table into the next overlapped all the older
// data between them, so compactions rewrote it again and again: CPU per
// segment grew with the store (38 µs at 2M segments, 52.6 at 5M). Split,
// 5M segments took 42 µs (BENCHMARKS.md). The main LSM stays in <dir>
// itself, where layouts 1 and 2 kept everything (migrate.go). The same
// holds within it: its statistics and metadata sort after the summaries
// (stats.go, keys.go), so a flush spans the summaries of recent traces and
// not every older one.
const (
	documentsDir = "documents"
	indexDir     = "index"
)

type lsmRole int

const (
	mainLSM lsmRole = iota
	documentsLSM
	indexLSM
)

// lsmConfig is what an LSM's open needs besides its role.
type lsmConfig struct {
	cache    *pebble.Cache
	memTable int64 // the documents LSM's memtable size (memTableBytes)
	fs       walFS
	log      *slog.Logger
	lock     *pebble.Lock
	readOnly bool
	merger   *pebble.Merger
}

func lsmDir(dir string, role lsmRole) string {
	switch role {
	case documentsLSM:
		return filepath.Join(dir, documentsDir)
	case indexLSM:
		return filepath.Join(dir, indexDir)
	}
	return dir
}

// lockLSM takes an LSM directory's lock for the store's lifetime, so that
// no other process takes the directory while a read-only open is replaced
// by a writable one (space.go).
func lockLSM(dir string, role lsmRole, fs walFS) (*pebble.Lock, error) {
	d := lsmDir(dir, role)
	if err := fs.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	l, err := pebble.LockDirectory(d, fs)
	if err != nil {
		return nil, fmt.Errorf("lock store in %s: %w", d, err)
	}
	return l, nil
}

var lsmNames = [...]string{mainLSM: "main", documentsLSM: "documents", indexLSM: "index"}

func openLSM(dir string, role lsmRole, c lsmConfig) (*pebble.DB, error) {
	dir = lsmDir(dir, role)
	opts := lsmOptions(role, c.cache, c.memTable)
	log := c.log.With("lsm", lsmNames[role])
	opts.Logger = slogLogger{log: log}
	opts.EventListener = ptr(eventListener(log))
	opts.FS = c.fs
	opts.WithFSDefaults() // reports a disk that stalls as DiskSlow
	opts.Lock = c.lock
	opts.ReadOnly = c.readOnly
	if c.merger != nil {
		opts.Merger = c.merger
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dir, err)
	}
	return db, nil
}

func ptr[T any](v T) *T { return &v }

// formatVersion pins Pebble's on-disk format: a new Pebble release raises
// FormatNewest, and opening a store with it would rewrite the store's
// format marker for good, so that the previous Roentgen could no longer
// open it. Raising this is a decision, taken with a note in the release.
// (The oldest format Pebble reads knows only Snappy whatever the
// compression settings say: documents compressed 4.2x, with zstd in the
// bottom level 6.7x. Older stores are ratcheted up to this at open.)
const formatVersion = pebble.FormatValueSeparation

// noRecycle deletes obsolete files as Pebble's default cleaner does, and
// keeps Pebble from recycling write-ahead logs: a spent log kept for reuse
// holds a full memtable's worth of disk (64-128 MiB, several per LSM)
// whether or not traffic ever needs it. Pebble recycles only when its
// cleaner does not need the files' contents, which it learns from an
// unexported method: ArchiveCleaner's, promoted from one level down, while
// DeleteCleaner's Clean, one level up, is the one called.
type noRecycle struct {
	pebble.DeleteCleaner
	archiveMarker
}

type archiveMarker struct{ pebble.ArchiveCleaner }

// memTableBytes is an LSM's memtable size for a documents memtable of
// docs bytes (Options.MemTableBytes): the main and index LSMs take a
// fifth of the bytes the documents LSM does, and get a quarter of its size
// (at least 4 MiB).
func memTableBytes(role lsmRole, docs int64) int64 {
	if role == documentsLSM {
		return docs
	}
	return max(docs/4, 4<<20)
}

// blockCacheBytes is the size of the Pebble cache the three LSMs share for
// a block cache of cacheBytes. Pebble reserves each memtable's memory from
// it, and a spent memtable's that it keeps for reuse: a busy store's
// memtables (grown to full size once a few times their size is written)
// took all of the cache, so nothing was cached and every read decompressed
// every block it touched, every time (graph queries spent half their CPU
// in zstd). So the cache holds the memtables' reservations, a live and a
// spent one per LSM, beside cacheBytes. The two together take at most the
// sum (more only while flushes queue memtables).
func blockCacheBytes(cacheBytes, memTable int64) int64 {
	for _, role := range []lsmRole{mainLSM, documentsLSM, indexLSM} {
		cacheBytes += 2 * memTableBytes(role, memTable)
	}
	return cacheBytes
}

// lBaseMaxBytes is how large an LSM's level below L0 grows before Pebble
// puts another level above it. The main and index LSMs are written in time
// order (summaries by epoch, index lists by minute), so a compaction from
// L0 overlaps only the newest tables of the level below, however large it
// is; an extra level only adds one more rewrite of every summary and list.
// At 256 MiB the main LSM took one past ~3M single-segment traces, and its
// compactions then wrote 45% more (BenchmarkMainCompactions with 8 MiB,
// docs/performance.md). The documents LSM keeps 256 MiB: its tables hold
// keys and blob handles only.
func lBaseMaxBytes(role lsmRole) int64 {
	if role == documentsLSM {
		return 256 << 20
	}
	return 4 << 30
}

// zstdSummaries compresses the main LSM's lower levels with zstd, as the
// other LSMs' are; it is off: the main LSM keeps MinLZ, the flush's codec,
// in every level. Summaries are rewritten once from L0 into the bottom
// level, and zstd there took 5.3% of the server's CPU at 2M ~4-segment
// segments, for 26 fewer bytes per segment on disk (215 against 164 MB of
// summaries after compacting 2M segments; docs/performance.md). Tables
// written with zstd read as before: the codec is recorded per block.
var zstdSummaries = false

// summariesBottom is the main LSM's codec from summariesFrom down, where
// summaries are written once (from L0) and stay: MinLZ's balanced level in
// summaryBlockSize blocks. The flush's fastest level in 64 KiB took 12-14%
// more bytes of summaries (1M segments, compacted: 92.3 against 82.0 per
// single-segment segment, 79.7 against 69.6 per ~4-segment one); zstd-1
// gained nothing over it. The balanced level's encoding costs ~500 more
// instructions per segment in that compaction (BenchmarkApplyCompact), half
// what it costs in 64 KiB blocks. A summary read from disk decompresses its
// whole block: a cold point read took 11% more CPU in 128 KiB, 65% more in
// 256 KiB (where a search reading 1,000 scattered summaries took 4-5x the
// CPU); 64 KiB with the balanced level alone saves 4.5-6.3% of summaries
// (docs/performance.md, session 28).
var summariesBottom = func() sstable.CompressionProfile {
	p := *sstable.FastestCompression
	p.Name = "summaries"
	p.DataBlocks = sstable.MinLZCompression.DataBlocks
	p.DataBlocks.Level = minlz.LevelBalanced
	p.ValueBlocks = p.DataBlocks
	return p
}()

// summaryBlockSize and summariesFrom: see summariesBottom. From L4 down,
// as zstd elsewhere, since Pebble may move a table down whole.
const (
	summaryBlockSize = 128 << 10
	summariesFrom    = 4
)

// balancedSummaries turns summariesBottom on (off: the flush's codec and
// block size in every level, as builds before it wrote; for tests).
var balancedSummaries = true

// zstdIndex does the same for the index LSM; it is off too. Pebble makes a
// new zstd encoder for every table it writes, and at its fastest level the
// encoder takes a block over 64 KiB (an index block holding a second's
// list of a common term often is) through its windowed path, which first
// allocates an 8 MiB history: 576 MB allocated in a 2M single-segment run,
// each fresh allocation page-faulted in and later returned to the OS. With
// the compression itself, index compactions' zstd was ~2.5% of the
// server's CPU; MinLZ stores 5% more index (3 bytes per segment, +0.8% of
// the store at 500k single-segment segments). docs/performance.md
// ("Index tables in MinLZ", session 24).
var zstdIndex = false

func lsmOptions(role lsmRole, cache *pebble.Cache, memTable int64) *pebble.Options {
	opts := &pebble.Options{
		Cache:                       cache,
		MemTableSize:                uint64(memTableBytes(role, memTable)),
		MemTableStopWritesThreshold: 4,
		// L0 gathers 16 flushes before they are compacted into the base
		// level: when one LSM held every table, each L0 compaction rewrote
		// most of the base level, and doing it 4x less often took 12-20%
		// off ingest CPU at 2M segments. Point reads stay on bloom filters;
		// searches measured no slower (BENCHMARKS.md).
		L0CompactionThreshold: 16,
		L0StopWritesThreshold: 48,
		LBaseMaxBytes:         lBaseMaxBytes(role),
		Merger:                concatenate,
		FormatMajorVersion:    formatVersion,
		Cleaner:               noRecycle{},
	}
	// Fast codecs in the upper levels, zstd level 1 from L4 down (below),
	// where data lives; the main and index LSMs MinLZ throughout
	// (zstdSummaries, zstdIndex), the main LSM's at its balanced level
	// from L4 down (summariesBottom).
	// zstd level 3 ("Good") stored 2% less for 6% more ingest CPU.
	opts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionBalanced })
	// Without the adaptive fallback: it samples blocks and, once the index's
	// random trace ids show zstd little better than MinLZ, writes every
	// later block of the table with MinLZ, which stored 13-27% more.
	bottom := *sstable.BalancedCompression
	bottom.AdaptiveReductionCutoffPercent = 0
	zstdFrom := 4
	if role == mainLSM && !zstdSummaries || role == indexLSM && !zstdIndex {
		zstdFrom = len(opts.Levels)
	}
	if role == documentsLSM {
		// Documents are most of the bytes written, and arrive in time order
		// but for a trace's late segments, which fall inside the previous
		// flush's key range and make its L0 tables overlap: those are
		// merged, the rest moved down. Bigger memtables flush less often,
		// so fewer tables overlap (128 MiB against 64: 2-7% less CPU per
		// segment at 5M segments, before documents moved to blob files);
		// the memory budget sets the size (memTableBytes). Their L0 tables overlap too
		// little for L0's sublevel count to trigger a compaction, so they
		// sat in L0 up to Pebble's default of 500 tables (docsL0Files).
		opts.L0CompactionFileThreshold = docsL0Files
		// zstd from the flush on: a table moved down keeps the codec it was
		// written with, and documents flushed with MinLZ took 204 instead of
		// 178 bytes per segment once compacted (1M segments), for ~4% less
		// CPU per segment.
		zstdFrom = 0
		// But the tables' own data blocks (keys, blob handles, pending
		// marks) take MinLZ: zstd there was 11% of the zstd a documents
		// store ran (BenchmarkPutDocsCompact: 5% fewer instructions in
		// all), for 22.7 bytes of table per document against 21.3. Blob
		// files compress their values as value blocks: zstd.
		bottom.DataBlocks = sstable.FastestCompression.DataBlocks
		// Documents go to blob files when their memtable flushes and stay
		// there: compactions move keys and handles, not ~1 kB values. With
		// compactions at ~20% of ingest CPU by 3M segments, this took 8-12%
		// off CPU per segment (3M and 5M runs), for 2.4% more disk once
		// compacted. A dropped partition frees its blob files; one that
		// shares a file with kept documents is rewritten once a fifth of
		// the file is garbage. (Summaries separated too, zstd at the
		// flush: not a clear gain, searches slower; docs/performance.md.)
		// The reference depth (how many blob files a table's values may
		// lie in, summed over the levels and L0 sublevels a compaction
		// reads) is set out of reach: at 10, compactions into the base
		// level and below went over it and rewrote every document into new
		// blob files, more often the larger the store (2M segments: 23% of
		// the server's CPU; 2% at 1000). Documents arrive in time order,
		// so a table's keys point into a few consecutive flushes' files
		// whatever the depth, and a trace is read from the one or two
		// files its documents went to.
		opts.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
			return pebble.ValueSeparationPolicy{Enabled: true, MinimumSize: 256, MaxBlobReferenceDepth: 1000,
				RewriteMinimumAge: 10 * time.Minute, TargetGarbageRatio: 0.2}
		}
	}
	// Every LSM may queue four memtables before writes stall. The main and
	// index LSMs allowed two when their memtables were 64 MiB (each queued
	// one cost a preallocated log's disk); at the budget's 8 MiB, two
	// stalled writes ~1.3 times a minute under overload (the soak), and
	// logs are no longer kept for reuse (noRecycle).
	// zstd from L4 down, not only in L6: Pebble often moves a table from
	// the base level to the bottom without rewriting it, and it keeps the
	// codec of the level it was written in.
	for i := range opts.Levels {
		opts.Levels[i].Compression = func() *sstable.CompressionProfile { return sstable.FastestCompression }
		if i >= zstdFrom {
			opts.Levels[i].Compression = func() *sstable.CompressionProfile { return &bottom }
		}
	}
	for i := range opts.Levels {
		opts.Levels[i].BlockSize = 64 << 10
		if role == documentsLSM {
			opts.Levels[i].BlockSize = blobBlockSize
		}
		if role == mainLSM && i >= summariesFrom && balancedSummaries && !zstdSummaries {
			opts.Levels[i].BlockSize = summaryBlockSize
			opts.Levels[i].Compression = func() *sstable.CompressionProfile { return &summariesBottom }
		}
		// Ingest looks up every arriving trace id in the main LSM, and most
		// are new: without filters each miss reads and decompresses a block
		// per level. The documents and index LSMs are only ever iterated
		// over ranges, which never consult a filter (Pebble's metrics showed
		// their filter utility at 0), so they build none: a filter costs a
		// hash per key at every flush and compaction, and disk.
		if role == mainLSM {
			opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		}
	}
	// Pending marks are deleted once summarised, so the p table is mostly
	// tombstones; Pebble's tombstone-density compactions then rewrote whole
	// tables over and over (a mark per trace, before layout 9: 36 of 86
	// compactions in a 1M-segment run, 7-11% of ingest CPU). Ordinary
	// compactions drop the tombstones at the bottom level anyway.
	opts.Experimental.TombstoneDenseCompactionThreshold = -1
	opts.Experimental.UserKeyCategories = keyCategories[role]
	opts.Experimental.SpanPolicyFunc = cutAt(tableCuts[role]...)
	opts.EnsureDefaults()
	return opts
}

// docsL0Files is the documents LSM's L0CompactionFileThreshold: L0
// compacts on its file count, as its tables barely overlap. They still
// stack: each flush's marks table deletes the marks of the one before it,
// and each flush's documents share the second they end at with the next
// flush's, so every table lies one sublevel above its predecessor, and a
// read of a recent trace seeks every sublevel (26-34 at the end of 1M
// runs). 25 kept ~5 sublevels and took 35-50% off reads of just-written
// traces, but documents compactions wrote 9-17% more per byte with ~4
// segments a trace (as much with one), which the goal of ingest CPU does
// not buy (BenchmarkRecentTraces; docs/performance.md, session 27).
var docsL0Files = 100

// blobBlockSize is the documents LSM's block size, and so its blob files'
// value blocks' (Pebble writes blob files at a flush with the options of
// L0). Pebble's zstd, at its fastest level, compresses a block of up to
// 64 KiB on its own and a larger one through its windowed path, which
// allocates an 8 MiB history for every encoder, and Pebble makes an
// encoder per blob file. A 64 KiB target let value blocks end a few bytes
// past 64 KiB (the size Pebble checks before adding a value leaves out the
// value's offset), so most blob files took that path. 1 KiB of margin
// keeps them within it; only a document of more than ~6 KiB arriving at a
// block under 90% full still makes a larger one.
const blobBlockSize = 63 << 10

// tableCuts are keys no flushed or compacted table of an LSM spans: Pebble
// ends a table there. Every flush of the documents LSM writes pending
// marks (p) as well as documents (t), and its first table ran from the one
// into the other: its range held every older document, so compacting it
// into the level below rewrote every table there (at 2M single-segment
// segments the documents LSM's compactions wrote 95 MB for 65 MB flushed,
// 46 MB with the cut; docs/performance.md, session 26). The main LSM's
// summaries (s) and statistics (u) are not cut: their tables then stop
// overlapping, L0's sublevels no longer reach L0CompactionThreshold, and
// L0 kept most summaries (160 MB in 86 tables at 2M) until Pebble's
// 500-table limit, each table a filter probe per ingested trace id.
var tableCuts = [...][][]byte{
	mainLSM:      nil,
	documentsLSM: {{'t'}},
	indexLSM:     nil,
}

// cutAt ends a flush's or compaction's table at each cut (Pebble's span
// policies, of which only the bounds are used).
func cutAt(cuts ...[]byte) pebble.SpanPolicyFunc {
	return func(start []byte) (pebble.SpanPolicy, []byte, error) {
		for _, c := range cuts {
			if bytes.Compare(start, c) < 0 {
				return pebble.SpanPolicy{}, c, nil
			}
		}
		return pebble.SpanPolicy{}, nil, nil
	}
}

// keyCategories name each LSM's key tables for Pebble, which labels a
// compaction's CPU profile samples with them (key-type, beside pebble=compact
// and output-level), so a profile tells which LSM and table its compactions
// rewrite: the three LSMs' compactions otherwise look alike. A compaction
// spanning tables is labelled with its first and last, e.g. main:s-main:u.
// Flushes carry only pebble=flush; the documents LSM's are the ones in
// writeNewBlobFiles. Pebble uses the categories for nothing else.
var keyCategories = [...]pebble.UserKeyCategories{
	mainLSM: pebble.MakeUserKeyCategories(pebble.DefaultComparer.Compare,
		pebble.UserKeyCategory{Name: "main:<s", UpperBound: []byte{'s'}}, // tombstones, legacy tables
		pebble.UserKeyCategory{Name: "main:s", UpperBound: []byte{'t'}},  // summaries
		pebble.UserKeyCategory{Name: "main:u", UpperBound: []byte{'v'}},  // statistics
		pebble.UserKeyCategory{Name: "main:>u"}),                         // metadata, aliases, version
	documentsLSM: pebble.MakeUserKeyCategories(pebble.DefaultComparer.Compare,
		pebble.UserKeyCategory{Name: "documents:<t", UpperBound: []byte{'t'}}, // pending marks
		pebble.UserKeyCategory{Name: "documents:t"}),
	indexLSM: pebble.MakeUserKeyCategories(pebble.DefaultComparer.Compare,
		pebble.UserKeyCategory{Name: "index:i"}),
}
