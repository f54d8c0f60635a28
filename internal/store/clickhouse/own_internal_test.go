package clickhouse

import (
	"fmt"
	"strings"
	"testing"
)

// TestAmongIndexesEveryRememberedDocument: a read looks its own documents
// up by trace, document and version (not by scanning the trace's list: a
// trace of n own documents cost n²/2 comparisons), across both
// generations, the newer one's copy first, and names each once in the
// external table.
func TestAmongIndexesEveryRememberedDocument(t *testing.T) {
	var o ownDocs
	o.perGen = 1 << 20
	doc := func(i int, v uint64, raw string) ownDoc {
		return ownDoc{doc: fmt.Sprintf("d%05d", i), ver: v, raw: []byte(raw)}
	}
	var old []ownDoc
	for i := range 3000 {
		old = append(old, doc(i, 1, fmt.Sprint("old", i)))
	}
	o.add(1<<20, []ownPut{{"T", old}, {"U", []ownDoc{doc(0, 1, "u")}}})
	// A new generation: the same key again (a duplicate within a write
	// shares its version), and a newer version of one document.
	o.add(1<<20, []ownPut{{"T", []ownDoc{doc(7, 1, "new7"), doc(8, 2, "v2")}}})
	if len(o.old["T"]) != 3000 || len(o.cur["T"]) != 2 {
		t.Fatalf("generations: old %d, current %d", len(o.old["T"]), len(o.cur["T"]))
	}
	mine, rows := o.among([]string{"T", "X"})
	if len(mine) != 3001 {
		t.Fatalf("%d documents indexed, want 3001", len(mine))
	}
	for k, want := range map[ownKey]string{{"T", "d00007", 1}: "new7", {"T", "d00008", 2}: "v2", {"T", "d00008", 1}: "old8", {"T", "d02999", 1}: "old2999"} {
		if got := string(mine[k]); got != want {
			t.Errorf("%v: %q, want %q", k, got, want)
		}
	}
	if _, ok := mine[ownKey{"U", "d00000", 1}]; ok {
		t.Error("a trace not asked for is indexed")
	}
	if n := strings.Count(string(rows), "\n"); n != 3001 {
		t.Errorf("%d external rows, want 3001", n)
	}
	if !strings.Contains(string(rows), "T\td00008\t2\n") {
		t.Errorf("external rows lack the newer version")
	}
	if m, r := o.among([]string{"X"}); m != nil || r != nil {
		t.Errorf("a trace with no own documents: %v %q", m, r)
	}
}
