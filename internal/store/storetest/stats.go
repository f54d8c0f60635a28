package storetest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// testStats covers the service-graph statistics records: deltas added
// with AddStats and with Apply, summed whatever the order or the number of
// writes, scans by resolution, group, bucket range and entity, atomicity
// with the summary, durability and retention. Values are the graph
// package's encoding, which is what every backend stores.
func testStats(t *testing.T, h *Harness) {
	ctx := context.Background()
	P := int64(store.PartitionSeconds)
	// rec is a delta of n OK requests.
	rec := func(res, bucket int64, group, entity string, n int64) store.StatRecord {
		return store.StatRecord{StatKey: store.StatKey{Resolution: res, Bucket: bucket, Group: group, Entity: entity},
			Value: (&graph.Stats{OK: n}).Encode()}
	}
	add := func(t *testing.T, s store.Store, recs ...store.StatRecord) {
		t.Helper()
		if err := s.AddStats(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	// scan sums what a query reports per key, as readers do, and renders
	// each key with a non-zero sum as "bucket/group/entity=ok".
	scan := func(t *testing.T, s store.Store, q store.StatQuery) []string {
		t.Helper()
		sums := map[store.StatKey]int64{}
		if err := s.Stats(ctx, q, func(r store.StatRecord) bool {
			var st graph.Stats
			if err := st.Decode(r.Value); err != nil {
				t.Errorf("record %+v does not decode: %v", r.StatKey, err)
			}
			sums[r.StatKey] += st.OK
			return true
		}); err != nil {
			t.Fatalf("Stats(%+v): %v", q, err)
		}
		var out []string
		for k, n := range sums {
			if n != 0 {
				out = append(out, fmt.Sprintf("%d/%s/%s=%d", k.Bucket-Base, k.Group, k.Entity, n))
			}
		}
		sort.Strings(out)
		return out
	}
	same := func(t *testing.T, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	all := func(res int64) store.StatQuery {
		return store.StatQuery{Resolution: res, Group: "Default", From: Base - 2*P, To: Base + 2*P}
	}

	t.Run("AddAndScan", func(t *testing.T) {
		s := h.New(t)
		// Entities may hold any bytes, including the separators a backend uses.
		odd := "e\x00a\x00b\x01\xff"
		add(t, s,
			rec(60, Base, "Default", "n1", 1),
			rec(60, Base+60, "Default", "n1", 2),
			rec(60, Base+P, "Default", "n1", 3), // next partition
			rec(60, Base+60, "Default", odd, 4),
			rec(60, Base+60, "g1", "n1", 5),
			rec(60, Base+60, "Default-2", "n1", 9), // a group whose name extends another's
			rec(300, Base, "Default", "n1", 6),
			rec(3600, Base, "Default", "n1", 7),
		)
		same(t, scan(t, s, store.StatQuery{Resolution: 60, Group: "Default", From: Base, To: Base + 2*P}),
			"0/Default/n1=1", fmt.Sprintf("%d/Default/n1=3", P), "60/Default/"+odd+"=4", "60/Default/n1=2")
		same(t, scan(t, s, store.StatQuery{Resolution: 60, Group: "Default", From: Base + 60, To: Base + 120}),
			"60/Default/"+odd+"=4", "60/Default/n1=2")
		same(t, scan(t, s, store.StatQuery{Resolution: 60, Group: "g1", From: Base, To: Base + P}), "60/g1/n1=5")
		same(t, scan(t, s, store.StatQuery{Resolution: 300, Group: "Default", From: Base, To: Base + P}), "0/Default/n1=6")
		same(t, scan(t, s, store.StatQuery{Resolution: 3600, Group: "Default", From: Base, To: Base + P}), "0/Default/n1=7")
		same(t, scan(t, s, store.StatQuery{Resolution: 60, Group: "Default", From: Base, To: Base + 2*P, Want: func(e string) bool { return e == "n1" }}),
			"0/Default/n1=1", fmt.Sprintf("%d/Default/n1=3", P), "60/Default/n1=2")
		if err := s.Stats(ctx, store.StatQuery{Resolution: 7, Group: "Default", From: Base, To: Base + 60}, func(store.StatRecord) bool { return true }); err == nil {
			t.Error("a resolution that is not kept scanned without error")
		}
		if err := s.AddStats(ctx, []store.StatRecord{rec(7, Base, "Default", "n1", 1)}); err == nil {
			t.Error("a resolution that is not kept was added without error")
		}
		n := 0
		_ = s.Stats(ctx, store.StatQuery{Resolution: 60, Group: "Default", From: Base, To: Base + 2*P}, func(store.StatRecord) bool { n++; return false })
		if n != 1 {
			t.Errorf("fn returning false saw %d records, want 1", n)
		}
	})

	t.Run("Additive", func(t *testing.T) {
		// Deltas to one record add up, negative ones included, whichever
		// way they were written; nothing is ever replaced.
		s := h.New(t)
		add(t, s, rec(60, Base, "Default", "n1", 3))
		add(t, s, rec(60, Base, "Default", "n1", 4), rec(60, Base, "Default", "n1", -2))
		sum := Summary(TraceID(Base+5, 1), Base+5)
		if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: sum.TraceID, Epoch: sum.Epoch, Summary: sum,
			Stats: []store.StatRecord{rec(60, Base, "Default", "n1", 10), rec(60, Base, "Default", "n2", 1)}}}); err != nil {
			t.Fatal(err)
		}
		same(t, scan(t, s, all(60)), "0/Default/n1=15", "0/Default/n2=1")
		// A trace summarised again adds the difference its update carries.
		next := Summary(sum.TraceID, Base+5)
		next.EndTime++
		if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: sum.TraceID, Epoch: sum.Epoch, Summary: next, Previous: sum,
			Stats: []store.StatRecord{rec(60, Base, "Default", "n2", -1), rec(60, Base, "Default", "n3", 1)}}}); err != nil {
			t.Fatal(err)
		}
		same(t, scan(t, s, all(60)), "0/Default/n1=15", "0/Default/n3=1")
		// Many small deltas to one record, from several writers at once as
		// from a server's concurrent requests: still one sum (backends may
		// combine them as they go).
		const writers, each = 10, 50
		errs := make(chan error, writers)
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					if err := s.AddStats(ctx, []store.StatRecord{rec(60, Base, "Default", "hot", 1)}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		same(t, scan(t, s, store.StatQuery{Resolution: 60, Group: "Default", From: Base, To: Base + 60, Want: func(e string) bool { return e == "hot" }}),
			"0/Default/hot=500")
	})

	t.Run("Durable", func(t *testing.T) {
		if h.Reopen == nil {
			t.Skip("the backend does not persist across Close (no WithReopen)")
		}
		s := h.Open(t)
		defer func() { s.Close() }()
		sum := Summary(TraceID(Base+5, 1), Base+5)
		if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: sum.TraceID, Epoch: sum.Epoch, Summary: sum,
			Stats: []store.StatRecord{rec(60, Base, "Default", "n1", 2), rec(3600, Base, "Default", "n1", 2)}}}); err != nil {
			t.Fatal(err)
		}
		add(t, s, rec(60, Base, "Default", "n1", 1))
		s = h.Reopen(t, s)
		same(t, scan(t, s, all(60)), "0/Default/n1=3")
		same(t, scan(t, s, all(3600)), "0/Default/n1=2")
		// Deltas added after a restart add to those before it.
		add(t, s, rec(60, Base, "Default", "n1", 1))
		s = h.Reopen(t, s)
		same(t, scan(t, s, all(60)), "0/Default/n1=4")
	})

	t.Run("Retention", func(t *testing.T) {
		s := h.New(t)
		Put(t, s, Summary(TraceID(Base-P+5, 1), Base-P+5))
		Put(t, s, Summary(TraceID(Base+5, 2), Base+5))
		add(t, s,
			rec(60, Base-P, "Default", "n1", 1), rec(3600, Base-P, "Default", "n1", 1),
			rec(60, Base, "Default", "n1", 2), rec(3600, Base, "Default", "n1", 2),
		)
		if _, err := s.DropBefore(ctx, time.Unix(Base, 0)); err != nil {
			t.Fatal(err)
		}
		for _, res := range []int64{60, 3600} {
			same(t, scan(t, s, all(res)), "0/Default/n1=2")
		}
	})
}
