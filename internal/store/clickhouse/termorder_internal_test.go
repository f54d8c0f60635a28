package clickhouse

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// generatedUpdates are n summaries of generated traces as a flush's Apply
// gets them, with their added terms: some traces summarised before in the
// same epoch (only the terms they gained), some twice in one Apply, some
// drops (no terms), epochs over three hours.
func generatedUpdates(tb testing.TB, n int) ([]store.TraceUpdate, [][]store.Term) {
	tb.Helper()
	g := bench.NewGenerator(7)
	base := time.Unix(1_765_000_000, 0)
	updates := make([]store.TraceUpdate, 0, n)
	termsOf := make([][]store.Term, 0, n)
	for i := range n {
		id, docs := g.Trace(base.Add(time.Duration(i%3)*time.Hour+time.Duration(i)*time.Millisecond), 1+i%5)
		tr := &trace.Trace{ID: id}
		for _, d := range docs {
			segs, err := segment.Parse(d, segment.Options{Now: base.Add(4 * time.Hour)})
			if err != nil {
				tb.Fatal(err)
			}
			tr.Docs = append(tr.Docs, segs...)
		}
		u := store.TraceUpdate{TraceID: id, Summary: trace.SummarizeTrace(tr, nil, 1.8e9)}
		u.Epoch = u.Summary.Epoch
		switch i % 7 {
		case 1: // summarised before from its first document
			first := &trace.Trace{ID: id, Docs: tr.Docs[:1]}
			u.Previous = trace.SummarizeTrace(first, nil, 1.8e9)
		case 2: // the same trace again in this Apply
			if len(updates) > 0 {
				prev := updates[len(updates)-1]
				u.TraceID, u.Epoch = prev.TraceID, prev.Epoch
			}
		case 3:
			u.Drop = true
		}
		var ts []store.Term
		if !u.Drop {
			ts = addedTerms(&u, store.TermsOf(u.Summary))
		}
		updates, termsOf = append(updates, u), append(termsOf, ts)
	}
	return updates, termsOf
}

// TestTermsInKeyOrder: the rows are the ones Apply wrote before, update by
// update, each once; in the terms table's key order (field, value, epoch,
// trace, in byte order); and rows of one key keep their updates' order.
func TestTermsInKeyOrder(t *testing.T) {
	updates, termsOf := generatedUpdates(t, 700)
	type row struct {
		field, value string
		epoch        int64
		trace        string
		upd          int
	}
	var want []row
	for i, ts := range termsOf {
		for _, x := range ts {
			want = append(want, row{x.Field, x.Value, updates[i].Epoch, updates[i].TraceID, i})
		}
	}
	var got []row
	for _, r := range termsInKeyOrder(updates, termsOf) {
		u := &updates[r.upd]
		got = append(got, row{r.field, r.value, u.Epoch, u.TraceID, int(r.upd)})
	}
	if len(got) != len(want) || len(want) < 5000 {
		t.Fatalf("%d rows, want %d (at least 5,000)", len(got), len(want))
	}
	key := func(a, b row) int {
		return cmp.Or(strings.Compare(a.field, b.field), strings.Compare(a.value, b.value),
			cmp.Compare(a.epoch, b.epoch), strings.Compare(a.trace, b.trace))
	}
	ties := 0
	for i := 1; i < len(got); i++ {
		switch c := key(got[i-1], got[i]); {
		case c > 0:
			t.Fatalf("row %d %+v before %+v", i, got[i-1], got[i])
		case c == 0:
			ties++
			if got[i-1].upd >= got[i].upd {
				t.Fatalf("rows of one key out of their updates' order: %+v, %+v", got[i-1], got[i])
			}
		}
	}
	if ties == 0 {
		t.Fatal("no trace summarised twice: the generator changed")
	}
	byAll := func(a, b row) int { return cmp.Or(key(a, b), cmp.Compare(a.upd, b.upd)) }
	slices.SortFunc(want, byAll)
	if !slices.Equal(got, want) {
		t.Fatal("not the rows Apply lists update by update")
	}
}

// BenchmarkTermsInKeyOrder is the Go side's cost of the sorted terms, per
// row (a flush of 1,000 traces writes ~13,000).
func BenchmarkTermsInKeyOrder(b *testing.B) {
	updates, termsOf := generatedUpdates(b, 1000)
	n := 0
	for _, ts := range termsOf {
		n += len(ts)
	}
	b.ResetTimer()
	cpu := bench.CPUTime()
	for range b.N {
		termsInKeyOrder(updates, termsOf)
	}
	b.ReportMetric(float64(bench.CPUTime()-cpu)/float64(b.N*n), "cpu-ns/row")
	b.ReportMetric(float64(n), "rows")
}
