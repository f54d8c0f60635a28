package budget

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestSplitStaysWithinTotal(t *testing.T) {
	for _, total := range []int64{0, 1, MinTotal, 300 << 20, DefaultTotal, 4 << 30, 64 << 30} {
		b := Split(total)
		want := total
		if want <= 0 {
			want = DefaultTotal
		}
		want = max(want, MinTotal)
		if b.Total != want {
			t.Fatalf("Split(%d).Total = %d, want %d", total, b.Total, want)
		}
		// Pebble's cache holds a live and a spent memtable per LSM (the
		// documents LSM's and two of a quarter its size) beside the block cache.
		pebble := b.BlockCache + 2*(b.MemTable+2*b.SmallMemTable())
		if off := map[bool]int64{true: pebble, false: 0}[pebbleOffHeap]; b.GoLimit+off+b.Reserve() != b.Total || b.Reserve() <= 0 {
			t.Fatalf("Split(%d): Go limit %d, Pebble's C memory %d and the reserve %d do not make the total", total, b.GoLimit, off, b.Reserve())
		}
		if b.GoLimit < b.Total/2 {
			t.Fatalf("Split(%d): the Go heap gets %d, less than half", total, b.GoLimit)
		}
		if b.PendingBytes <= 0 || b.MaxPendingBytes < 2*b.PendingBytes || b.IngestCache <= 0 || b.MemTable <= 0 || b.BlockCache <= 0 {
			t.Fatalf("Split(%d) = %+v: a part without its share", total, b)
		}
	}
}

func TestDefaultSplit(t *testing.T) {
	b := Split(0)
	if b.MemTable != 32<<20 || b.BlockCache != 32<<20 || b.GoLimit != map[bool]int64{true: 352 << 20, false: 480 << 20}[pebbleOffHeap] || b.IngestCache != 32<<20 || b.PendingBytes != 8<<20 || b.MaxPendingBytes != 32<<20 {
		t.Fatalf("default split %+v differs from the one docs/performance.md describes", b)
	}
}

func TestFromEnv(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "")
	if b := FromEnv(0); b.Total != DefaultTotal {
		t.Fatalf("no flag, no GOMEMLIMIT: total %d, want the default", b.Total)
	}
	if b := FromEnv(1 << 30); b.Total != 1<<30 {
		t.Fatalf("--memory 1GiB: total %d", b.Total)
	}
	// The runtime reads GOMEMLIMIT at start; FromEnv reads the limit it set.
	t.Setenv("GOMEMLIMIT", "768MiB")
	debug.SetMemoryLimit(768 << 20)
	if b := FromEnv(0); b.Total != 768<<20 {
		t.Fatalf("GOMEMLIMIT=768MiB: total %d", b.Total)
	}
	if b := FromEnv(2 << 30); b.Total != 2<<30 {
		t.Fatalf("--memory beats GOMEMLIMIT: total %d", b.Total)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	if b := FromEnv(0); b.Total != DefaultTotal {
		t.Fatalf("GOMEMLIMIT=off: total %d, want the default", b.Total)
	}
}

func TestApplySetsTheGoLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	b := Split(1 << 30)
	b.Apply()
	if got := debug.SetMemoryLimit(-1); got != b.GoLimit {
		t.Fatalf("limit %d after Apply, want %d", got, b.GoLimit)
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{"512MiB": 512 << 20, "1GiB": 1 << 30, "1073741824": 1 << 30, "64KiB": 64 << 10, "2TiB": 2 << 40, "100B": 100, " 3 GiB": 3 << 30}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1GiB", "1.5GiB", "1GB", "abc", "9999999TiB", "1 MiBx"} {
		if n, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, n)
		}
	}
}
