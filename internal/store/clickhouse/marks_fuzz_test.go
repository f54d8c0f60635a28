package clickhouse

import (
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
