package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

func testRetention(t *testing.T, h *Harness) {
	ctx := context.Background()
	P := int64(store.PartitionSeconds)

	t.Run("DropsWholePartitionsOnly", func(t *testing.T) {
		s := h.New(t)
		old1 := TraceID(Base-2*P+5, 1)    // partition Base-2P
		old2 := TraceID(Base-P+P-1, 2)    // last second of partition Base-P
		foreign := TraceID(0x01020304, 3) // filed under Base-P+10
		keep := TraceID(Base+1, 4)        // partition Base, which the cut falls inside
		newer := TraceID(Base+P+1, 5)     // later partition
		Put(t, s, annotated(old1, Base-2*P+5, "svc", map[string]any{"k": "v"}), Doc("aaaaaaaaaaaaaaaa", "1"))
		Put(t, s, annotated(old2, Base-1, "svc", map[string]any{"k": "v"}), Doc("aaaaaaaaaaaaaaaa", "2"))
		Put(t, s, annotated(foreign, Base-P+10, "svc", nil), Doc("aaaaaaaaaaaaaaaa", "3"))
		Put(t, s, annotated(keep, Base+1, "svc", map[string]any{"k": "v"}), Doc("aaaaaaaaaaaaaaaa", "4"))
		Put(t, s, annotated(newer, Base+P+1, "svc", nil), Doc("aaaaaaaaaaaaaaaa", "5"))
		if err := s.PutMeta(ctx, "rules", "Default", []byte("r")); err != nil {
			t.Fatal(err)
		}

		// The cut is inside partition Base: that partition still holds data
		// newer than the cut, so it stays whole.
		n, err := s.DropBefore(ctx, time.Unix(Base+P/2, 0))
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("DropBefore dropped %d partitions, want 2", n)
		}
		for _, id := range []string{old1, old2, foreign} {
			if _, err := s.Trace(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("dropped trace %s: Trace error %v, want ErrNotFound", id, err)
			}
		}
		for _, id := range []string{keep, newer} {
			if st, err := s.Trace(ctx, id); err != nil || len(st.Docs) != 1 {
				t.Errorf("kept trace %s: %v", id, err)
			}
		}
		all := store.SummaryQuery{From: 0, To: Base + 10*P}
		if got := Collect(t, s, all); !equalIDs(got, []string{newer, keep}) {
			t.Errorf("summaries after drop = %v", got)
		}
		all.AnyOf = []store.Term{annTerm("k", "v"), svcTerm("svc")}
		if got := Collect(t, s, all); !equalIDs(got, []string{newer, keep}) {
			t.Errorf("term scan after drop = %v (stale index terms?)", got)
		}
		if v, err := s.GetMeta(ctx, "rules", "Default"); err != nil || string(v) != "r" {
			t.Errorf("retention touched metadata: %q %v", v, err)
		}

		// Nothing left to drop below the same cut.
		if n, err := s.DropBefore(ctx, time.Unix(Base+P/2, 0)); err != nil || n != 0 {
			t.Errorf("second DropBefore = %d, %v; want 0", n, err)
		}
		// A dropped trace id can be written again from scratch.
		Put(t, s, Summary(old2, Base-1), Doc("bbbbbbbbbbbbbbbb", "again"))
		if st, err := s.Trace(ctx, old2); err != nil || len(st.Docs) != 1 || string(st.Docs[0].Raw) != "again" {
			t.Errorf("rewritten trace: %+v %v", st, err)
		}
	})

	t.Run("EmptyStore", func(t *testing.T) {
		s := h.New(t)
		if n, err := s.DropBefore(ctx, time.Unix(Base, 0)); err != nil || n != 0 {
			t.Errorf("DropBefore on an empty store = %d, %v", n, err)
		}
		if n, err := s.DropBefore(ctx, time.Unix(0, 0)); err != nil || n != 0 {
			t.Errorf("DropBefore(epoch 0) = %d, %v", n, err)
		}
	})
}
