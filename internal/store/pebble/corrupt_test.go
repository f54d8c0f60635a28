package pebble

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// A summary record that does not decode costs its trace, not the window:
// the scan answers every other trace, counts the bad one and logs it once.
func TestCorruptSummarySkipped(t *testing.T) {
	ctx := context.Background()
	rec := &records{}
	s, err := Open(t.TempDir(), Options{Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 50
	var ids []string
	for i := range n {
		id := storetest.TraceID(storetest.Base+int64(i), i)
		ids = append(ids, id)
		storetest.Put(t, s, storetest.Summary(id, storetest.Base+int64(i)))
	}
	bad := ids[20]
	if err := s.main.Set(s.summaryKey(storetest.Base+20, bad), []byte{0xff, 0x01, 0x02}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	for scan := range 2 {
		var got []string
		err := s.Summaries(ctx, store.SummaryQuery{From: storetest.Base, To: storetest.Base + n}, func(sum *trace.Summary) bool {
			got = append(got, sum.TraceID)
			return true
		})
		if err != nil {
			t.Fatalf("scan %d: %v", scan, err)
		}
		if len(got) != n-1 {
			t.Fatalf("scan %d: %d summaries, want the %d that decode", scan, len(got), n-1)
		}
		for _, id := range got {
			if id == bad {
				t.Fatalf("the corrupt summary was answered")
			}
		}
	}
	if c := s.CorruptSummaries(); c != 2 {
		t.Fatalf("%d corrupt summaries counted over two scans, want 2", c)
	}
	logged := 0
	for _, l := range rec.got {
		if strings.Contains(l, "ERROR") && strings.Contains(l, "does not decode") && strings.Contains(l, "trace_id="+bad) {
			logged++
		}
	}
	if logged != 1 {
		t.Fatalf("logged %d times, want once with the trace id: %q", logged, rec.got)
	}
}

// A search narrowed by index terms passes over a corrupt summary too.
func TestCorruptSummarySkippedByIndexedSearch(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{Logger: slog.New(&records{})})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 50
	var ids []string
	var term store.Term
	for i := range n {
		id := storetest.TraceID(storetest.Base+int64(i), i)
		ids = append(ids, id)
		sum := storetest.Summary(id, storetest.Base+int64(i))
		if i == 0 {
			term = store.TermsOf(sum)[0]
		}
		storetest.Put(t, s, sum)
	}
	bad := ids[20]
	if err := s.main.Set(s.summaryKey(storetest.Base+20, bad), []byte{0xff, 0x01, 0x02}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = s.Summaries(ctx, store.SummaryQuery{From: storetest.Base, To: storetest.Base + n, AnyOf: []store.Term{term}}, func(sum *trace.Summary) bool {
		got = append(got, sum.TraceID)
		return true
	})
	if err != nil {
		t.Fatalf("indexed search: %v", err)
	}
	if len(got) != n-1 || slices.Contains(got, bad) {
		t.Fatalf("indexed search answered %d summaries (corrupt one included: %v), want the %d that decode", len(got), slices.Contains(got, bad), n-1)
	}
	if c := s.CorruptSummaries(); c != 1 {
		t.Fatalf("%d corrupt summaries counted, want 1", c)
	}
}
