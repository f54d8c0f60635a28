package pebble_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
	"github.com/roentgen-tracing/roentgen/internal/xraytest/benchtest"
)

// The main LSM keeps MinLZ in every level (zstdSummaries): a store so
// written holds what one written with zstd there holds, read back the
// same, and takes more disk, which shows the codec took effect. A store
// with zstd tables there already (older builds) reads back the same when
// this build opens it.
func TestSummaryCodecKeepsContent(t *testing.T) {
	ctx := context.Background()
	end := time.Now().Unix()
	p := benchtest.NewTraces(t, 5, 64, end)
	us := make([]store.TraceUpdate, 3000)
	for i := range us {
		us[i] = p.Update(i, end-600+int64(i)*600/int64(len(us)))
	}
	type stored struct {
		traces    []*store.StoredTrace
		summaries []*trace.Summary
		bytes     int64
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
		return read(st)
	}
	zstdDir := t.TempDir()
	minlz, zstd := build(t.TempDir(), false), build(zstdDir, true)
	if len(minlz.summaries) != len(us) {
		t.Fatalf("%d summaries of %d traces", len(minlz.summaries), len(us))
	}
	if !reflect.DeepEqual(minlz.traces, zstd.traces) || !reflect.DeepEqual(minlz.summaries, zstd.summaries) {
		t.Fatal("the two codecs' stores read back differently")
	}
	if minlz.bytes <= zstd.bytes {
		t.Fatalf("MinLZ store %d bytes, zstd %d: the codec did not change", minlz.bytes, zstd.bytes)
	}
	t.Logf("live bytes: MinLZ %d, zstd %d", minlz.bytes, zstd.bytes)

	// The zstd store, as an older build left it, opened by this build.
	st := open(t, zstdDir)
	defer st.Close()
	if again := read(st); !reflect.DeepEqual(again.traces, zstd.traces) || !reflect.DeepEqual(again.summaries, zstd.summaries) {
		t.Fatal("a store written with zstd summaries reads back differently in this build")
	}
}
