package clickhouse

import (
	"fmt"
	"slices"
	"testing"
)

// FuzzGroupMarks reads arbitrary answers as markUnionSQL's rows: no input
// panics; a whole answer groups each trace once, its open marks ascending
// and distinct, and a cut one is an error.
func FuzzGroupMarks(f *testing.F) {
	var w rowWriter
	for _, r := range []struct {
		id      string
		ver     uint64
		ep      int64
		pending uint8
	}{{"a", 2, 10, 1}, {"a", 2, 11, 1}, {"b", 3, 10, 1}, {"a", 1, 9, 0}, {"b", 3, 12, 2}, {"a", 5, 9, 1}} {
		w.str(r.id)
		w.u64(r.ver)
		w.i64(r.ep)
		w.u8(r.pending)
	}
	f.Add(w.b)
	f.Add([]byte{1, 'x', 1, 0, 0, 0, 0, 0, 0, 0, 2})
	f.Fuzz(func(t *testing.T, answer []byte) {
		tms, err := groupMarks(&rowReader{b: answer})
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, tm := range tms {
			if seen[tm.id] {
				t.Fatalf("trace %q grouped twice", tm.id)
			}
			seen[tm.id] = true
			if !slices.IsSorted(tm.open) || len(slices.Compact(slices.Clone(tm.open))) != len(tm.open) {
				t.Fatalf("open marks %v not ascending and distinct", tm.open)
			}
		}
		if len(answer) > 0 {
			if _, err := groupMarks(&rowReader{b: answer[:len(answer)-1]}); err == nil {
				t.Fatal("an answer cut short grouped without an error")
			}
		}
	})
}

// BenchmarkGroupMarks groups a flush's mark rows as the server answers
// them: 1,000 traces, four documents at one version and a summary that
// clears it each (~5 rows per trace), in no order of traces.
func BenchmarkGroupMarks(b *testing.B) {
	var w rowWriter
	for k := range 5 {
		for i := range 1000 {
			w.str(fmt.Sprintf("1-5f000000-%024d", (i*7919)%1000))
			w.u64(uint64(1000 + i%3))
			w.i64(1_765_000_000)
			w.u8(uint8(min(k, 2)) % 3)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if tms, err := groupMarks(&rowReader{b: w.b}); err != nil || len(tms) != 1000 {
			b.Fatal(len(tms), err)
		}
	}
}
