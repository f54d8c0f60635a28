package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// testStats covers the service-graph statistics records: put, get,
// replace, delete, scans by resolution, group, bucket range and entity,
// and retention.
func testStats(t *testing.T, h *Harness) {
	ctx := context.Background()
	P := int64(store.PartitionSeconds)
	rec := func(res, bucket int64, group, entity, value string) store.StatRecord {
		r := store.StatRecord{StatKey: store.StatKey{Resolution: res, Bucket: bucket, Group: group, Entity: entity}}
		if value != "" {
			r.Value = []byte(value)
		}
		return r
	}
	scan := func(t *testing.T, s store.Store, q store.StatQuery) []string {
		t.Helper()
		var out []string
		if err := s.Stats(ctx, q, func(r store.StatRecord) bool {
			out = append(out, fmt.Sprintf("%d/%s/%s=%s", r.Bucket-Base, r.Group, r.Entity, r.Value))
			return true
		}); err != nil {
			t.Fatalf("Stats(%+v): %v", q, err)
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

	t.Run("PutGetScan", func(t *testing.T) {
		s := h.New(t)
		// Entities may hold any bytes, including the separators a backend uses.
		odd := "e\x00a\x00b\x01\xff"
		if err := s.PutStats(ctx, []store.StatRecord{
			rec(60, Base, "Default", "n1", "a"),
			rec(60, Base+60, "Default", "n1", "b"),
			rec(60, Base+P, "Default", "n1", "c"), // next partition
			rec(60, Base+60, "Default", odd, "d"),
			rec(60, Base+60, "g1", "n1", "e"),
			rec(60, Base+60, "Default-2", "n1", "x"), // a group whose name extends another's
			rec(300, Base, "Default", "n1", "f"),
			rec(3600, Base, "Default", "n1", "g"),
		}); err != nil {
			t.Fatal(err)
		}
		v, err := s.GetStat(ctx, store.StatKey{Resolution: 60, Bucket: Base + 60, Group: "Default", Entity: odd})
		if err != nil || string(v) != "d" {
			t.Errorf("GetStat = %q, %v", v, err)
		}
		if _, err := s.GetStat(ctx, store.StatKey{Resolution: 60, Bucket: Base + 120, Group: "Default", Entity: "n1"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetStat of a missing record: %v, want ErrNotFound", err)
		}
		same(t, scan(t, s, store.StatQuery{Resolution: 60, Group: "Default", From: Base, To: Base + 2*P}),
			"0/Default/n1=a", fmt.Sprintf("%d/Default/n1=c", P), "60/Default/"+odd+"=d", "60/Default/n1=b")
		same(t, scan(t, s, store.StatQuery{Resolution: 60, Group: "Default", From: Base + 60, To: Base + 120}),
			"60/Default/"+odd+"=d", "60/Default/n1=b")
		same(t, scan(t, s, store.StatQuery{Resolution: 60, Group: "g1", From: Base, To: Base + P}), "60/g1/n1=e")
		same(t, scan(t, s, store.StatQuery{Resolution: 300, Group: "Default", From: Base, To: Base + P}), "0/Default/n1=f")
		same(t, scan(t, s, store.StatQuery{Resolution: 3600, Group: "Default", From: Base, To: Base + P}), "0/Default/n1=g")
		same(t, scan(t, s, store.StatQuery{Resolution: 60, Group: "Default", From: Base, To: Base + 2*P, Want: func(e string) bool { return e == "n1" }}),
			"0/Default/n1=a", fmt.Sprintf("%d/Default/n1=c", P), "60/Default/n1=b")
		if err := s.Stats(ctx, store.StatQuery{Resolution: 7, Group: "Default", From: Base, To: Base + 60}, func(store.StatRecord) bool { return true }); err == nil {
			t.Error("a resolution that is not kept scanned without error")
		}
		n := 0
		_ = s.Stats(ctx, store.StatQuery{Resolution: 60, Group: "Default", From: Base, To: Base + 2*P}, func(store.StatRecord) bool { n++; return false })
		if n != 1 {
			t.Errorf("fn returning false saw %d records, want 1", n)
		}
	})

	t.Run("ReplaceAndDelete", func(t *testing.T) {
		s := h.New(t)
		k := rec(60, Base, "Default", "n1", "old")
		if err := s.PutStats(ctx, []store.StatRecord{k}); err != nil {
			t.Fatal(err)
		}
		k.Value = []byte("new")
		if err := s.PutStats(ctx, []store.StatRecord{k}); err != nil {
			t.Fatal(err)
		}
		same(t, scan(t, s, store.StatQuery{Resolution: 60, Group: "Default", From: Base, To: Base + 60}), "0/Default/n1=new")
		k.Value = nil
		if err := s.PutStats(ctx, []store.StatRecord{k}); err != nil {
			t.Fatal(err)
		}
		same(t, scan(t, s, store.StatQuery{Resolution: 60, Group: "Default", From: Base, To: Base + 60}))
	})

	t.Run("Retention", func(t *testing.T) {
		s := h.New(t)
		Put(t, s, Summary(TraceID(Base-P+5, 1), Base-P+5))
		Put(t, s, Summary(TraceID(Base+5, 2), Base+5))
		if err := s.PutStats(ctx, []store.StatRecord{
			rec(60, Base-P, "Default", "n1", "old"), rec(3600, Base-P, "Default", "n1", "old"),
			rec(60, Base, "Default", "n1", "new"), rec(3600, Base, "Default", "n1", "new"),
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DropBefore(ctx, time.Unix(Base, 0)); err != nil {
			t.Fatal(err)
		}
		for _, res := range []int64{60, 3600} {
			same(t, scan(t, s, store.StatQuery{Resolution: res, Group: "Default", From: Base - 2*P, To: Base + P}), "0/Default/n1=new")
		}
	})
}
