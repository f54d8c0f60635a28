package pebble_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
	"github.com/roentgen-tracing/roentgen/internal/xraytest/benchtest"
)

// The main and index LSMs keep MinLZ in every level (zstdSummaries,
// zstdIndex), the main LSM's lower levels at its balanced level in larger
// blocks (summariesBottom): a store so written holds what one written with
// zstd there, or with the flush's codec and block size throughout, holds,
// read back the same (traces, summaries, and searches by term, which read
// the index), and its summaries take fewer bytes than the flush's codec's,
// which shows the settings took effect. Stores with zstd tables or 64 KiB
// MinLZ ones there (older builds) read back the same when this build opens
// them.
func TestSummaryCodecKeepsContent(t *testing.T) {
	ctx := context.Background()
	end := time.Now().Unix()
	p := benchtest.NewTraces(t, 5, 64, end)
	us := make([]store.TraceUpdate, 3000)
	for i := range us {
		us[i] = p.Update(i, end-600+int64(i)*600/int64(len(us)))
	}
	// Searches for a few terms each, common and rare.
	var queries [][]store.Term
	for i := 0; i < len(us); i += 97 {
		terms := store.TermsOf(us[i].Summary)
		queries = append(queries, terms[:1], terms[len(terms)-1:])
	}
	type stored struct {
		traces    []*store.StoredTrace
		summaries []*trace.Summary
		found     [][]string // trace ids each query found
		bytes     int64
		index     int64
	}
	read := func(st *pebble.Store) stored {
		var s stored
		s.bytes, _ = st.LiveBytes()
		for _, u := range us {
			tr, err := st.Trace(ctx, u.TraceID)
			if err != nil {
				t.Fatal(err)
			}
			s.traces = append(s.traces, tr)
		}
		err := st.Summaries(ctx, store.SummaryQuery{From: end - 700, To: end + 1}, func(s1 *trace.Summary) bool {
			s.summaries = append(s.summaries, s1)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range queries {
			var ids []string
			err := st.Summaries(ctx, store.SummaryQuery{From: end - 700, To: end + 1, AnyOf: q}, func(s1 *trace.Summary) bool {
				ids = append(ids, s1.TraceID)
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			s.found = append(s.found, ids)
		}
		return s
	}
	build := func(dir string, codec string) stored {
		switch codec {
		case "zstd":
			defer pebble.WithZstdSummaries()()
		case "fast":
			defer pebble.WithFastSummaries()()
		}
		st := open(t, dir)
		defer st.Close()
		// Two flushes of interleaved traces overlap, so compacting them
		// rewrites them into the bottom level (a lone table would move
		// there with the flush's codec).
		for half := range 2 {
			var part []store.TraceUpdate
			for i := half; i < len(us); i += 2 {
				part = append(part, us[i])
			}
			benchtest.Apply(t, st, part, 12)
			if err := st.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		st.WaitForCleaning()
		s := read(st)
		s.index = tableBytes(t, filepath.Join(dir, "index"))
		return s
	}
	zstdDir, fastDir := t.TempDir(), t.TempDir()
	minlz, zstd, fast := build(t.TempDir(), "balanced"), build(zstdDir, "zstd"), build(fastDir, "fast")
	if len(minlz.summaries) != len(us) {
		t.Fatalf("%d summaries of %d traces", len(minlz.summaries), len(us))
	}
	for i, ids := range minlz.found {
		if len(ids) == 0 {
			t.Fatalf("query %v found nothing", queries[i])
		}
	}
	same := func(a, b stored) bool {
		return reflect.DeepEqual(a.traces, b.traces) && reflect.DeepEqual(a.summaries, b.summaries) &&
			reflect.DeepEqual(a.found, b.found)
	}
	if !same(minlz, zstd) || !same(minlz, fast) {
		t.Fatal("the codecs' stores read back differently")
	}
	if minlz.bytes >= fast.bytes || minlz.index != fast.index || minlz.bytes == zstd.bytes || minlz.index <= zstd.index {
		t.Fatalf("store (index) bytes: balanced summaries %d (%d), flush's codec %d (%d), zstd %d (%d): a setting did not take effect",
			minlz.bytes, minlz.index, fast.bytes, fast.index, zstd.bytes, zstd.index)
	}
	t.Logf("live bytes: balanced %d, flush's codec %d, zstd %d; index tables %d, %d, %d",
		minlz.bytes, fast.bytes, zstd.bytes, minlz.index, fast.index, zstd.index)

	// The zstd and 64 KiB MinLZ stores, as older builds left them, opened
	// by this build.
	for _, old := range []struct {
		dir  string
		want stored
	}{{zstdDir, zstd}, {fastDir, fast}} {
		st := open(t, old.dir)
		if again := read(st); !same(again, old.want) {
			t.Fatalf("a store written in %s reads back differently in this build", old.dir)
		}
		st.Close()
	}
}
