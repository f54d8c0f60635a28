package graph_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Prepare sums a batch's deltas per record: the records it attaches (to
// the first update alone) add up to what each update's own Deltas add up
// to, record by record and in every group, with nothing for records that
// cancel out across the batch.
func TestPrepareSumsTheBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	agg := graph.NewAggregator(graph.AggregatorConfig{Groups: func(s *trace.Summary) []string {
		if s.TraceID[len(s.TraceID)-1]%2 == 0 {
			return []string{"even"}
		}
		return nil
	}})
	var updates []store.TraceUpdate
	for i := range 40 {
		// Two minutes' traces, so that coarse records sum several minutes.
		s := syntheticSummary(rng, 1.8e9+float64(i*3))
		updates = append(updates, store.TraceUpdate{TraceID: s.TraceID, Summary: s})
	}
	// A trace summarised again unchanged, and one whose fault was fixed.
	same := updates[3].Summary
	updates = append(updates, store.TraceUpdate{TraceID: same.TraceID, Summary: same, Previous: same})
	fixed := *updates[5].Summary
	fixed.Segments = append([]trace.SegmentFact(nil), fixed.Segments...)
	fixed.Segments[0].Fault = !fixed.Segments[0].Fault
	updates = append(updates, store.TraceUpdate{TraceID: fixed.TraceID, Summary: &fixed, Previous: updates[5].Summary})

	want := map[store.StatKey]*graph.Stats{}
	for _, u := range updates {
		sumInto(t, want, agg.Deltas(u.Summary, u.Previous))
	}
	agg.Prepare(updates)
	for i, u := range updates[1:] {
		if len(u.Stats) != 0 {
			t.Fatalf("update %d carries %d records; the first carries the batch's", i+1, len(u.Stats))
		}
	}
	got := map[store.StatKey]*graph.Stats{}
	sumInto(t, got, updates[0].Stats)
	if len(got) != len(updates[0].Stats) {
		t.Errorf("%d records for %d keys: a key twice", len(updates[0].Stats), len(got))
	}
	groups := map[string]bool{}
	for k, w := range want {
		groups[k.Group] = true
		g := got[k]
		if w.Empty() {
			if g != nil {
				t.Errorf("%+v: %+v, want no record (it cancels out)", k, g)
			}
			continue
		}
		if g == nil || !bytes.Equal(g.Encode(), w.Encode()) {
			t.Errorf("%+v: %+v, want %+v", k, g, w)
		}
	}
	for k := range got {
		if want[k] == nil {
			t.Errorf("%+v: a record no update's deltas have", k)
		}
	}
	if !groups["even"] || !groups[graph.DefaultGroup] {
		t.Errorf("groups %v, want Default and even", groups)
	}
}

func sumInto(t *testing.T, m map[store.StatKey]*graph.Stats, recs []store.StatRecord) {
	t.Helper()
	for _, r := range recs {
		var d graph.Stats
		if err := d.Decode(r.Value); err != nil {
			t.Fatal(err)
		}
		s := m[r.StatKey]
		if s == nil {
			s = &graph.Stats{}
			m[r.StatKey] = s
		}
		s.Add(&d, 1)
	}
}

// A trace summarised again whose only change is a request's outcome (a
// late subsegment marks the call a fault) moves that request from OK to
// faults: the delta, zero in total, is not left out as empty.
func TestDeltasOfChangedOutcome(t *testing.T) {
	agg := graph.NewAggregator(graph.AggregatorConfig{})
	s := &trace.Summary{TraceID: "1-5f000000-000000000000000000000001", StartTime: 1.6e9,
		Nodes:    []trace.Node{{NodeID: trace.NodeID{Name: "a", Type: "AWS::EC2::Instance"}}},
		Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 1.6e9, End: 1.6e9 + 1}}}
	next := *s
	next.Segments = []trace.SegmentFact{{Node: 0, Root: true, Start: 1.6e9, End: 1.6e9 + 1, Fault: true}}
	sum := map[store.StatKey]*graph.Stats{}
	sumInto(t, sum, agg.Deltas(s, nil))
	sumInto(t, sum, agg.Deltas(&next, s))
	node := sum[store.StatKey{Resolution: 60, Bucket: 1_600_000_000 - 1_600_000_000%60, Group: graph.DefaultGroup, Entity: string(graph.NodeEntity(s.Nodes[0].NodeID))}]
	if node == nil || node.OK != 0 || node.Fault != 1 {
		t.Errorf("after the update: %+v, want one faulted request", node)
	}
}

// Prepare interns the entities of a batch: its records, and the changes it
// hands observers, must be those Contribute gives with fresh strings, over
// generated single-segment and ~4-segment traces (with previous summaries,
// so that some contributions are taken back). Batch after batch: Prepare
// reuses its builder's memory, and nothing of one batch may reach the next.
func TestPrepareMatchesContribute(t *testing.T) {
	for _, size := range []int{1, 0, 1, 3, 0} {
		ups := generatedUpdates(t, 300, size)
		for i := 0; i+1 < len(ups); i += 7 {
			ups[i+1].Previous = ups[i].Summary // a summary replaced by another trace's: entities move
		}
		want := map[store.StatKey]*graph.Stats{}
		wantChanges := make([]map[graph.Entity]*graph.Stats, len(ups))
		for i, u := range ups {
			wantChanges[i] = map[graph.Entity]*graph.Stats{}
			for _, c := range []struct {
				s    *trace.Summary
				sign int64
			}{{u.Previous, -1}, {u.Summary, 1}} {
				graph.Contribute(c.s, c.sign, func(k graph.Key, st *graph.Stats) {
					key := store.StatKey{Resolution: graph.BucketSeconds, Bucket: k.Bucket, Group: graph.DefaultGroup, Entity: string(k.Entity)}
					if want[key] == nil {
						want[key] = &graph.Stats{}
					}
					want[key].Add(st, 1)
					if wantChanges[i][k.Entity] == nil {
						wantChanges[i][k.Entity] = &graph.Stats{}
					}
					wantChanges[i][k.Entity].Add(st, 1)
				})
			}
		}
		agg := graph.NewAggregator(graph.AggregatorConfig{})
		observed := 0
		agg.AddObserver(func(updates []store.TraceUpdate, of func(int) []graph.Change) {
			for i := range updates {
				got := of(i)
				n := 0
				for _, w := range wantChanges[i] {
					if !w.Empty() {
						n++
					}
				}
				for _, c := range got {
					w := wantChanges[i][c.Entity]
					if w == nil || !bytes.Equal(c.Stats.Encode(), w.Encode()) {
						t.Fatalf("size %d, update %d: change of %q is %+v, want %+v", size, i, c.Entity, c.Stats, w)
					}
				}
				if len(got) < n {
					t.Fatalf("size %d, update %d: %d changes, want %d", size, i, len(got), n)
				}
				observed++
			}
		})
		agg.Prepare(ups)
		got := map[store.StatKey]*graph.Stats{}
		var fine []store.StatRecord
		for _, r := range ups[0].Stats {
			if r.Resolution == graph.BucketSeconds {
				fine = append(fine, r)
			}
		}
		sumInto(t, got, fine)
		for k, w := range want {
			if g := got[k]; w.Empty() && g != nil || !w.Empty() && (g == nil || !bytes.Equal(g.Encode(), w.Encode())) {
				t.Fatalf("size %d: %+v: %+v, want %+v", size, k, g, w)
			}
		}
		for k := range got {
			if want[k] == nil {
				t.Fatalf("size %d: %+v: a record Contribute does not give", size, k)
			}
		}
		agg.Hook(t.Context(), ups)
		if observed != len(ups) {
			t.Fatalf("size %d: the observer saw %d updates of %d", size, observed, len(ups))
		}
	}
}
