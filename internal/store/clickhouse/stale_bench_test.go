package clickhouse_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// BenchmarkPendingBefore is one call of the adopting loop's question (every
// 10 s in every process) over a store of 200,000 marked traces
// (ROENTGEN_BENCH_PENDING_TRACES sets another number), 1 in 1,000 left
// pending (ROENTGEN_BENCH_PENDING_EVERY; 0: none, a fleet's usual state):
// Pending (a process's start, made from the last start's recorded answer:
// pendingstart.go; with nothing written since, it reads no part but the
// pending traces'), the same read whole (startscan: every mark of the
// database, each start's question before), the whole scan
// (a process's first call; main's every 10 minutes), the rescan (the whole
// answer every 10 minutes since: rescan.go; with nothing written since, it
// reads no part but the pending traces'), and the window since the last
// answer (stale.go), a minute's overlap aside: with nothing written since,
// it reads no part (newparts.go). With CLICKHOUSE_PID it
// reports the server's CPU per call (clickhouse-cpu-ns/op).
func BenchmarkPendingBefore(b *testing.B) {
	ctx := context.Background()
	u := clickhousetest.NewDatabase(b)
	s := open(b, u)
	defer s.Close()
	ep := time.Now().Unix()
	traces, perPut := 200_000, 5_000
	if n, err := strconv.Atoi(os.Getenv("ROENTGEN_BENCH_PENDING_TRACES")); err == nil && n >= perPut {
		traces = n / perPut * perPut
	}
	every := 1000 // 1 in every traces left pending; 0: none
	if n, err := strconv.Atoi(os.Getenv("ROENTGEN_BENCH_PENDING_EVERY")); err == nil && n >= 0 {
		every = n
	}
	for lo := 0; lo < traces; lo += perPut {
		puts := make([]store.DocPut, perPut)
		for i := range puts {
			id := storetest.TraceID(ep, lo+i+1)
			puts[i] = store.DocPut{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", lo+i), "a")}}
		}
		if err := s.PutDocs(ctx, puts); err != nil {
			b.Fatal(err)
		}
	}
	// All but 1 in every summarised: their marks cleared as a flush's are.
	var ups []store.TraceUpdate
	for i := range traces {
		if every == 0 || i%every != 0 {
			id := storetest.TraceID(ep, i+1)
			ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: ep, Summary: storetest.Summary(id, ep)})
		}
	}
	if err := s.Apply(ctx, ups); err != nil {
		b.Fatal(err)
	}
	// +new: before each call (untimed, its ClickHouse CPU not counted),
	// ROENTGEN_BENCH_PENDING_NEW more traces (5,000) marked and summarised.
	fresh, next := 5_000, traces
	if n, err := strconv.Atoi(os.Getenv("ROENTGEN_BENCH_PENDING_NEW")); err == nil && n > 0 {
		fresh = n
	}
	write := func(b *testing.B) {
		puts := make([]store.DocPut, fresh)
		ups := make([]store.TraceUpdate, fresh)
		for i := range puts {
			next++
			id := storetest.TraceID(ep, next)
			puts[i] = store.DocPut{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", next), "a")}}
			ups[i] = store.TraceUpdate{TraceID: id, Epoch: ep, Summary: storetest.Summary(id, ep)}
		}
		if err := s.PutDocs(ctx, puts); err != nil {
			b.Fatal(err)
		}
		if err := s.Apply(ctx, ups); err != nil {
			b.Fatal(err)
		}
	}
	for _, name := range []string{"start", "start+new", "startscan", "whole", "rescan", "rescan+new", "window"} {
		b.Run(name, func(b *testing.B) {
			kind, plus := strings.CutSuffix(name, "+new")
			r := open(b, u)
			defer r.Close()
			// The marks were all written within the overlap's minute; in
			// a running fleet they span hours.
			clickhouse.SetStaleOverlap(r, time.Nanosecond)
			if kind == "rescan" {
				clickhouse.SetStaleFullEvery(r, time.Nanosecond) // every call a whole answer
			}
			n := 0
			count := func(string) bool { n++; return true }
			// The first call is the whole scan, the second a window of
			// every part (no sample old enough yet: newparts.go).
			for range 2 {
				if err := r.PendingBefore(ctx, time.Now(), count); err != nil {
					b.Fatal(err)
				}
			}
			if kind == "start" { // a start before: its answer recorded
				if err := r.Pending(ctx, func(string) bool { return true }); err != nil {
					b.Fatal(err)
				}
			}
			ch0 := clickhousetest.ServerCPU()
			var chNew time.Duration // the writes' share, with +new
			b.ResetTimer()
			for range b.N {
				if plus {
					b.StopTimer()
					c := clickhousetest.ServerCPU()
					write(b)
					chNew += clickhousetest.ServerCPU() - c
					b.StartTimer()
				}
				n = 0
				var err error
				switch kind {
				case "start": // Recover's question at a process's start
					err = r.Pending(ctx, count)
				case "startscan":
					var ids []string
					ids, err = r.PendingScan(ctx)
					n = len(ids)
				case "whole":
					var ids []string
					ids, err = r.PendingBeforeScan(ctx, time.Now())
					n = len(ids)
				default: // the window, or the rescan
					err = r.PendingBefore(ctx, time.Now(), count)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if kind == "start" && clickhouse.StartRescans(r) < b.N {
				b.Fatalf("%d starts rescanned in %d calls", clickhouse.StartRescans(r), b.N)
			}
			if kind == "rescan" && clickhouse.StaleRescans(r) < b.N {
				b.Fatalf("%d rescans in %d calls", clickhouse.StaleRescans(r), b.N)
			}
			want := 0
			if every > 0 {
				want = (traces + every - 1) / every
			}
			if n != want {
				b.Fatalf("%d pending, want %d", n, want)
			}
			if ch := clickhousetest.ServerCPU() - ch0 - chNew; ch > 0 {
				b.ReportMetric(float64(ch)/float64(b.N), "clickhouse-cpu-ns/op")
			}
		})
	}
}
