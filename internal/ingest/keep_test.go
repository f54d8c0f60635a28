package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// testKeeper decides with real compiled policies and counts decisions.
type testKeeper struct {
	c       *keep.Compiled
	mu      sync.Mutex
	counted map[keep.Decision]int
}

func newTestKeeper(t testing.TB, p keep.Policies) *testKeeper {
	t.Helper()
	c, err := keep.Compile(p, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &testKeeper{c: c, counted: map[keep.Decision]int{}}
}

func (k *testKeeper) Decide(s *trace.Summary) keep.Decision { return k.c.Decide(s) }
func (k *testKeeper) Counted(d keep.Decision)               { k.counted[d]++ }

func (h *hooked) last(t *testing.T, id string) store.TraceUpdate {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.ups) - 1; i >= 0; i-- {
		if h.ups[i].TraceID == id {
			return h.ups[i]
		}
	}
	t.Fatalf("no update of %s", id)
	return store.TraceUpdate{}
}

func gone(t *testing.T, st store.Store, id string) {
	t.Helper()
	if tr, err := st.Trace(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dropped trace %s: Trace = %+v, %v; want ErrNotFound", id, tr, err)
	}
	if _, err := st.Head(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dropped trace %s: Head err %v; want ErrNotFound", id, err)
	}
}

// A trace is decided on its first summary: a dropped one leaves no
// documents, summary or pending mark, and stays dropped when a late
// segment arrives (its update still carries the whole state, so
// statistics deltas are right); a kept one stays kept whatever its later
// summaries match.
func TestKeepDecidedOnFirstSummary(t *testing.T) {
	dir := t.TempDir()
	h := newHooked(t, dir, ingest.Config{FlushDelay: time.Hour})
	k := newTestKeeper(t, keep.Policies{Policies: []keep.Policy{{Name: "faults", FilterExpression: "fault", KeepRate: 1}}, DefaultRate: 0})
	h.in.SetKeeper(k)
	ctx := context.Background()
	drop, kept := traceID(1), traceID(2)
	h.send(t, seg(drop, "aaaaaaaaaaaaaaaa", "web", ""), sub(drop, "bbbbbbbbbbbbbbbb"))
	h.send(t, seg(kept, "aaaaaaaaaaaaaaaa", "web", `,"fault":true`))
	h.in.Sync(ctx)

	gone(t, h.st, drop)
	if u := h.last(t, drop); !u.Drop || u.Summary == nil || u.Summary.SegmentCount != 2 {
		t.Errorf("update of the dropped trace: Drop %v, summary %+v", u.Drop, u.Summary)
	}
	if st, err := h.st.Trace(ctx, kept); err != nil || st.Summary == nil || len(st.Docs) != 1 {
		t.Fatalf("kept trace: %+v, %v", st, err)
	}
	if k.counted[keep.Decision{Keep: false, Policy: keep.DefaultPolicyName}] != 1 || k.counted[keep.Decision{Keep: true, Policy: "faults"}] != 1 {
		t.Errorf("counted %v", k.counted)
	}

	// A late segment with a fault does not resurrect the dropped trace as
	// a partial one; the kept trace's late segment, matching no keep
	// policy now, does not drop it.
	h.send(t, seg(drop, "cccccccccccccccc", "late", `,"fault":true`))
	h.send(t, sub(kept, "dddddddddddddddd"))
	h.in.Sync(ctx)
	gone(t, h.st, drop)
	u := h.last(t, drop)
	if !u.Drop || u.Previous == nil || u.Previous.SegmentCount != 2 || u.Summary.SegmentCount != 3 {
		t.Errorf("late update of the dropped trace: Drop %v, previous %+v, summary %+v", u.Drop, u.Previous, u.Summary)
	}
	if st, err := h.st.Trace(ctx, kept); err != nil || st.Summary == nil || len(st.Docs) != 2 {
		t.Errorf("kept trace after its late segment: %+v, %v", st, err)
	}
	if n := len(k.counted); n != 2 {
		t.Errorf("re-summaries were counted as decisions: %v", k.counted)
	}
	var pending []string
	if err := h.st.Pending(ctx, func(id string) bool { pending = append(pending, id); return true }); err != nil || len(pending) != 0 {
		t.Errorf("pending after the flushes: %v, %v", pending, err)
	}
	h.in.Close()
	h.st.Close()

	// After a restart the cache is gone: a late document of the dropped
	// trace is decided on what is stored, by the same hash, and a part
	// that matches no keep policy is dropped again.
	h = newHooked(t, dir, ingest.Config{FlushDelay: time.Hour})
	defer h.st.Close()
	defer h.in.Close()
	h.in.SetKeeper(k)
	h.send(t, sub(drop, "eeeeeeeeeeeeeeee"))
	h.in.Sync(ctx)
	gone(t, h.st, drop)
}

// TestIngestAgainstModelWithKeep runs the model with keep policies that
// drop half the traces by id alone, the decision every re-summary, restart
// and crash must reach again: a dropped trace is never found, the kept
// ones exactly as without policies.
func TestIngestAgainstModelWithKeep(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, uint64(time.Now().UnixNano())} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Logf("seed %d", seed)
			m := newModelRun(t, seed)
			m.keep = newTestKeeper(t, keep.Policies{DefaultRate: 0.5})
			m.in.SetKeeper(m.keep)
			dropped := 0
			for k := range 6 {
				if !keep.Sampled(traceID(20000+k), 0.5) {
					dropped++
				}
			}
			if dropped == 0 || dropped == 6 {
				t.Fatalf("%d of the model's 6 traces dropped: pick another rate", dropped)
			}
			m.run(150)
		})
	}
}
