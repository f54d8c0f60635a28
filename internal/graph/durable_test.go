package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Statistics are written with the summaries they come from: a process
// killed right after its last summary (nothing flushed, nothing closed
// but the store's files) loses none of them; a trace summarised again and
// again (in progress, then complete; late subsegments; documents sent
// twice) counts once; and every coarse bucket is the exact sum of its
// finer ones (issue 14).
func TestStatisticsDurableAndExact(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := pebble.Open(dir, pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	agg := graph.NewAggregator(graph.AggregatorConfig{Store: st})
	in := ingest.New(ingest.Config{Store: st})
	in.AddDeriver(agg.Prepare)
	in.AddHook(agg.Hook)
	send := func(docs ...map[string]any) {
		t.Helper()
		var raw [][]byte
		for _, d := range docs {
			b, _ := json.Marshal(d)
			raw = append(raw, b)
		}
		if rej := in.Ingest(ctx, raw, ingest.Options{Source: "test"}); len(rej) > 0 {
			t.Fatalf("rejected: %+v", rej[0].Error)
		}
		in.Sync(ctx) // each arrival summarised on its own: every one re-summarises
	}
	base := float64(time.Now().Add(-3*time.Hour).Unix()/3600*3600) + 0.5
	const traces = 120
	for i := 0; i < traces; i++ {
		tb := base + float64(i*67) // across minute, five-minute and hour boundaries
		tid := fmt.Sprintf("1-%08x-%024x", int64(tb), i)
		segID := fmt.Sprintf("%016x", 2*i+1)
		seg := map[string]any{"trace_id": tid, "id": segID, "name": "shop", "origin": "AWS::EC2::Instance", "start_time": tb}
		prog := map[string]any{"in_progress": true}
		for k, v := range seg {
			prog[k] = v
		}
		send(prog)
		done := map[string]any{"end_time": tb + 0.25, "fault": i%7 == 0}
		for k, v := range seg {
			done[k] = v
		}
		send(done)
		sub := map[string]any{"trace_id": tid, "id": fmt.Sprintf("%016x", 2*i+2), "type": "subsegment", "parent_id": segID,
			"name": "DynamoDB", "namespace": "aws", "start_time": tb + 0.01, "end_time": tb + 0.02,
			"aws": map[string]any{"operation": "GetItem", "table_name": "carts"}}
		send(sub) // late: the trace is summarised a third time
		send(sub) // and the same document again
	}
	// Killed: every summary is stored (Sync), and the aggregator is
	// neither flushed nor closed; only the store's files remain.
	in.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = pebble.Open(dir, pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	agg = graph.NewAggregator(graph.AggregatorConfig{Store: st})

	from, to := int64(base)-int64(base)%3600-3600, int64(base)+4*3600
	g, err := agg.ServiceGraph(ctx, graph.DefaultGroup, from, to)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, s := range g.Services(float64(from), float64(to)) {
		if s.SummaryStatistics != nil {
			counts[s.Name] = s.SummaryStatistics.TotalCount
		}
	}
	if counts["shop"] != traces || counts["carts"] != traces {
		t.Errorf("after a kill: shop %d, carts %d requests; want %d each, counted once", counts["shop"], counts["carts"], traces)
	}

	// Coarse = sum of fine, field by field and bin by bin.
	read := func(res int64) map[[2]string]*graph.Stats {
		out := map[[2]string]*graph.Stats{}
		err := st.Stats(ctx, store.StatQuery{Resolution: res, Group: graph.DefaultGroup, From: from, To: to}, func(r store.StatRecord) bool {
			var s graph.Stats
			if err := s.Decode(r.Value); err != nil {
				t.Fatal(err)
			}
			k := [2]string{fmt.Sprint(r.Bucket), r.Entity}
			if out[k] == nil {
				out[k] = &graph.Stats{}
			}
			out[k].Add(&s, 1)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	fine := read(60)
	for _, res := range store.StatResolutions[1:] {
		want := map[[2]string]*graph.Stats{}
		for k, s := range fine {
			var b int64
			fmt.Sscan(k[0], &b)
			ck := [2]string{fmt.Sprint(b - b%res), k[1]}
			if want[ck] == nil {
				want[ck] = &graph.Stats{}
			}
			want[ck].Add(s, 1)
		}
		got := read(res)
		if len(got) != len(want) {
			t.Errorf("resolution %d: %d records, want %d", res, len(got), len(want))
		}
		for k, w := range want {
			if g := got[k]; g == nil || !bytes.Equal(g.Encode(), w.Encode()) {
				t.Errorf("resolution %d, bucket %s, entity %q: %+v, want the sum of its minutes %+v", res, k[0], k[1], g, w)
			}
		}
	}
}

// A trace summarised again with nothing new adds nothing, and one whose
// previous version is subtracted counts once.
func TestDeltasOfResummarisedTrace(t *testing.T) {
	agg := graph.NewAggregator(graph.AggregatorConfig{})
	s := &trace.Summary{TraceID: "1-5f000000-000000000000000000000001", StartTime: 1.6e9,
		Nodes:    []trace.Node{{NodeID: trace.NodeID{Name: "a", Type: "AWS::EC2::Instance"}}},
		Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 1.6e9, End: 1.6e9 + 1}}}
	if d := agg.Deltas(s, s); len(d) != 0 {
		t.Errorf("re-summarised unchanged: %d records, want none", len(d))
	}
	first := agg.Deltas(s, nil)
	if len(first) != 2*len(store.StatResolutions) { // the node and its client edge
		t.Errorf("new trace: %d records, want %d", len(first), 2*len(store.StatResolutions))
	}
	next := *s
	next.Segments = []trace.SegmentFact{{Node: 0, Root: true, Start: 1.6e9, End: 1.6e9 + 2, Fault: true}}
	var sum graph.Stats
	for _, recs := range [][]store.StatRecord{first, agg.Deltas(&next, s)} {
		for _, r := range recs {
			if r.Resolution == 60 && graph.Entity(r.Entity) == graph.NodeEntity(s.Nodes[0].NodeID) {
				var d graph.Stats
				if err := d.Decode(r.Value); err != nil {
					t.Fatal(err)
				}
				sum.Add(&d, 1)
			}
		}
	}
	if sum.Total() != 1 || sum.Fault != 1 || sum.OK != 0 || sum.ResponseMicros != 2e6 {
		t.Errorf("after the update: %+v, want one faulted request of 2 s", sum)
	}
}

// Reads stop when the request's context ends: a client that went away
// costs nothing more.
func TestQueriesHonourCancellation(t *testing.T) {
	st, err := pebble.Open(t.TempDir(), pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	agg := graph.NewAggregator(graph.AggregatorConfig{Store: st})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	from := int64(1_800_000_000)
	if _, err := agg.ServiceGraph(ctx, graph.DefaultGroup, from, from+30*86400); !errors.Is(err, context.Canceled) {
		t.Errorf("ServiceGraph: %v, want context.Canceled", err)
	}
	if _, err := agg.Series(ctx, graph.SeriesQuery{Group: graph.DefaultGroup, From: from, To: from + 30*86400, Period: 60}); !errors.Is(err, context.Canceled) {
		t.Errorf("Series: %v, want context.Canceled", err)
	}
}
