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
// zstdIndex): a store so written holds what one written with zstd there
// holds, read back the same (traces, summaries, and searches by term,
// which read the index), and takes more disk, which shows the codec took
// effect. A store with zstd tables there already (older builds) reads back
// the same when this build opens it.
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
	build := func(dir string, zstd bool) stored {
		if zstd {
			defer pebble.WithZstdSummaries()()
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
	zstdDir := t.TempDir()
	minlz, zstd := build(t.TempDir(), false), build(zstdDir, true)
	if len(minlz.summaries) != len(us) {
		t.Fatalf("%d summaries of %d traces", len(minlz.summaries), len(us))
	}
	for i, ids := range minlz.found {
		if len(ids) == 0 {
			t.Fatalf("query %v found nothing", queries[i])
		}
	}
	if !reflect.DeepEqual(minlz.traces, zstd.traces) || !reflect.DeepEqual(minlz.summaries, zstd.summaries) ||
		!reflect.DeepEqual(minlz.found, zstd.found) {
		t.Fatal("the two codecs' stores read back differently")
	}
	if minlz.bytes <= zstd.bytes || minlz.index <= zstd.index {
		t.Fatalf("MinLZ store %d bytes (index %d), zstd %d (%d): the codec did not change",
			minlz.bytes, minlz.index, zstd.bytes, zstd.index)
	}
	t.Logf("live bytes: MinLZ %d, zstd %d; index tables %d, %d", minlz.bytes, zstd.bytes, minlz.index, zstd.index)

	// The zstd store, as an older build left it, opened by this build.
	st := open(t, zstdDir)
	defer st.Close()
	if again := read(st); !reflect.DeepEqual(again.traces, zstd.traces) || !reflect.DeepEqual(again.summaries, zstd.summaries) ||
		!reflect.DeepEqual(again.found, zstd.found) {
		t.Fatal("a store written with zstd summaries reads back differently in this build")
	}
}
