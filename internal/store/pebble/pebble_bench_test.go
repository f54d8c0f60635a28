package pebble_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
	"github.com/roentgen-tracing/roentgen/internal/xraytest/benchtest"
)

// updates makes n new-trace updates of generated ~4-segment traces from 64
// parsed templates whose trace ids are rewritten, epochs spread over the
// hour before end.
func updates(b *testing.B, n int, end int64) []store.TraceUpdate {
	b.Helper()
	p := benchtest.NewTraces(b, 3, 64, end)
	out := make([]store.TraceUpdate, n)
	for i := range out {
		out[i] = p.Update(i, end-3600+int64(i)*3600/int64(n))
	}
	return out
}

// filled is a store of n traces; without docs it holds their summaries and
// index terms only, which is quicker to build.
func filled(b *testing.B, n int, docs bool) (*pebble.Store, []store.TraceUpdate, int64) {
	st := benchtest.Open(b)
	end := time.Now().Unix()
	us := updates(b, n, end)
	if !docs {
		for i := range us {
			us[i].Docs = nil
		}
	}
	benchtest.Apply(b, st, us, 250)
	// Settle: background flushes and compactions would bill their CPU
	// to whatever is measured next.
	if err := st.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	return st, us, end
}

// BenchmarkApply stores new traces in batches of 12 (~50 documents, one
// PutTraceSegments call's worth). One op is one batch.
func BenchmarkApply(b *testing.B) {
	st := benchtest.Open(b)
	us := updates(b, 200_000, time.Now().Unix())
	cpu := bench.StartCPU()
	for i := 0; b.Loop(); i++ {
		j := (i * 12) % (len(us) - 12)
		if err := st.Apply(context.Background(), us[j:j+12]); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
}

// BenchmarkTrace reads one ~4-document trace by id from 100k.
func BenchmarkTrace(b *testing.B) {
	st, us, _ := filled(b, 100_000, true)
	r := rand.New(rand.NewPCG(1, 1))
	cpu := bench.StartCPU()
	for b.Loop() {
		u := us[r.IntN(len(us))]
		t, err := st.Trace(context.Background(), u.TraceID)
		if err != nil || len(t.Docs) != len(u.Docs) {
			b.Fatalf("%v, %d docs", err, len(t.Docs))
		}
	}
	cpu.Report(b)
}

// BenchmarkSummariesScan visits and decodes every summary of a one-hour
// window of 100k traces, as a non-selective search must. One op is the
// whole scan; the target is well under 500 ms.
func BenchmarkSummariesScan(b *testing.B) {
	const n = 100_000
	st, _, end := filled(b, n, false)
	cpu := bench.StartCPU()
	for b.Loop() {
		seen := 0
		err := st.Summaries(context.Background(), store.SummaryQuery{From: end - 3600, To: end + 1}, func(*trace.Summary) bool { seen++; return true })
		if err != nil || seen != n {
			b.Fatalf("%v: %d summaries", err, seen)
		}
	}
	cpu.Report(b)
}

// BenchmarkNumericIndexCost stores 50k generated traces (documents
// included) with this build's index terms and with layout 5's, and reports the CPU
// per trace of Apply and compactions, and the disk per trace once
// compacted (all of it; the tables and blob files alone; the index's): the cost of
// the numeric index is the difference. One op is the whole store.
func BenchmarkNumericIndexCost(b *testing.B) {
	const n = 50_000
	end := time.Now().Unix()
	us := updates(b, n, end)
	for _, numeric := range []bool{true, false} {
		name := "layout6"
		if !numeric {
			name = "layout5"
		}
		b.Run(name, func(b *testing.B) {
			if !numeric {
				defer pebble.WithLayout5Terms()()
			}
			var cpu, disk time.Duration
			var bytes, live, index int64
			for b.Loop() {
				st, err := pebble.Open(b.TempDir(), pebble.Options{})
				if err != nil {
					b.Fatal(err)
				}
				c0 := bench.CPUTime()
				benchtest.Apply(b, st, us, 12)
				if err := st.Compact(context.Background()); err != nil {
					b.Fatal(err)
				}
				cpu += bench.CPUTime() - c0
				bytes += st.DiskUsage()
				l, i := st.LiveBytes()
				live, index = live+l, index+i
				disk++
				st.Close()
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(disk)/n, "cpu-µs/trace")
			b.ReportMetric(float64(bytes)/float64(disk)/n, "disk-B/trace")
			b.ReportMetric(float64(live)/float64(disk)/n, "live-B/trace")
			b.ReportMetric(float64(index)/float64(disk)/n, "index-B/trace")
		})
	}
}
