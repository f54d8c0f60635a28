// Package budget splits one memory budget among the parts of Roentgen that
// hold memory: Pebble's memtables and block cache, ingest's cache of
// recently summarised traces, the work ingest holds before it refuses
// calls, and the Go heap's collection target. One number, with a default
// that needs no tuning, bounds them all (docs/performance.md).
package budget

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultTotal is the budget when neither --memory nor GOMEMLIMIT sets it.
const DefaultTotal = 512 << 20

// MinTotal is the smallest budget taken: below it the parts' shares are
// too small to run at a useful rate.
const MinTotal = 128 << 20

// Budget is a total and its split, in bytes.
type Budget struct {
	Total int64
	// Pebble: the documents LSM's memtable (the main and index LSMs take
	// a quarter of it each; Pebble reserves a live and a spent one per LSM
	// from its cache) and the block cache beside them.
	MemTable   int64
	BlockCache int64
	// Ingest: the parsed traces kept after their summary (by raw bytes,
	// ~2.5x in the heap), the documents awaiting their summary before
	// writers flush them early, and the work in memory beyond which calls
	// are refused with ThrottledException (raw bytes; ~5x parsed).
	IngestCache     int64
	PendingBytes    int64
	MaxPendingBytes int64
	// GoLimit is the Go runtime's soft memory limit: the total less the
	// resident memory the Go runtime does not count (Reserve) and less
	// what Pebble allocates outside the Go heap (with cgo, its memtables
	// and cache are C memory).
	GoLimit int64
}

// Split divides total (DefaultTotal when zero or negative; at least
// MinTotal). At the default: a 32 MiB documents memtable and 8 MiB ones
// for the main and index LSMs (96 MiB of memtable reservations, a live and
// a spent one each), a 32 MiB block cache, 32 MiB of cached traces, 8 MiB
// pending before early summaries and 32 MiB of work before calls are
// refused; the Go heap's limit is the total less a 32 MiB reserve for the
// executable's pages, 480 MiB, and less Pebble's C memory with cgo, 352 MiB.
// Pending work is counted in raw bytes, and parsed it takes ~5x that in
// the heap: at 64 MiB before refusing, an hour at 1.5x the sustainable
// rate took the process to 1 GB.
// The Go heap gets the most because ingest's garbage is what costs CPU
// when it is short: at a 320 MiB limit ingest spent ~10-15% more CPU per
// segment than without one, at 384 MiB about half that (BENCHMARKS.md).
func Split(total int64) Budget {
	if total <= 0 {
		total = DefaultTotal
	}
	total = max(total, MinTotal)
	b := Budget{
		Total:           total,
		MemTable:        total / 16,
		BlockCache:      total / 16,
		IngestCache:     total / 16,
		PendingBytes:    total / 64,
		MaxPendingBytes: total / 16,
	}
	pebble := b.BlockCache + 2*(b.MemTable+2*b.SmallMemTable()) // blockCacheBytes in internal/store/pebble
	b.GoLimit = total - b.Reserve()
	if pebbleOffHeap {
		b.GoLimit -= pebble
	}
	return b
}

// Reserve is the part of the total kept for resident memory outside the
// Go runtime's accounting, chiefly the executable's own pages (~30 MiB of
// code and data touched, counted in RSS): without it a process whose Go
// memory sat at its limit peaked at 515–528 MiB under a 512 MiB budget.
func (b Budget) Reserve() int64 { return b.Total / 16 }

// SmallMemTable is the main and index LSMs' memtable size, as
// internal/store/pebble derives it from MemTable.
func (b Budget) SmallMemTable() int64 { return max(b.MemTable/4, 4<<20) }

// FromEnv is the budget for an explicit total (a --memory flag; zero when
// not given), else GOMEMLIMIT's, else DefaultTotal. GOMEMLIMIT is read as
// the whole process's memory, as in a container sized for it.
func FromEnv(flagTotal int64) Budget {
	if flagTotal > 0 {
		return Split(flagTotal)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		if l := debug.SetMemoryLimit(-1); l > 0 && l < math.MaxInt64 {
			return Split(l)
		}
	}
	return Split(DefaultTotal)
}

// Apply sets the Go runtime's soft memory limit to b.GoLimit, so that the
// collector works harder as the heap nears its share instead of letting
// GOGC's growth carry the process past the total.
func (b Budget) Apply() {
	debug.SetMemoryLimit(b.GoLimit)
}

// ParseSize reads a size as GOMEMLIMIT writes one: a number of bytes with
// an optional B, KiB, MiB, GiB or TiB suffix ("512MiB", "1GiB", "1073741824").
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	orig, shift := s, uint(0)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, shift = strings.TrimSuffix(s, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("size %q: want a number of bytes, optionally with B, KiB, MiB, GiB or TiB (512MiB)", orig)
	}
	return n << shift, nil
}
