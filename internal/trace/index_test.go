package trace

import (
	"fmt"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// Put and Find give a scan's answers once the index takes over, also for
// documents appended to Docs directly and for versions that replace.
func TestIndexAgreesWithScan(t *testing.T) {
	tr := &Trace{ID: "t"}
	doc := func(i int, raw string) *segment.Segment {
		return &segment.Segment{ID: fmt.Sprintf("%016x", i), Raw: []byte(raw)}
	}
	for i := range 100 {
		if i%3 == 0 {
			tr.Docs = append(tr.Docs, doc(i, "a")) // as a store load does
		} else if !tr.Put(doc(i, "a")) {
			t.Fatalf("new document %d: no change", i)
		}
	}
	if tr.Put(doc(50, "a")) || len(tr.Docs) != 100 {
		t.Fatalf("the same document again changed the trace (%d docs)", len(tr.Docs))
	}
	if !tr.Put(doc(60, "b")) || string(tr.Find(fmt.Sprintf("%016x", 60)).Raw) != "b" || len(tr.Docs) != 100 {
		t.Fatal("a new version did not replace the old in place")
	}
	inProgress := doc(61, "c")
	inProgress.InProgress = true
	if tr.Put(inProgress) || string(tr.Find(fmt.Sprintf("%016x", 61)).Raw) != "a" {
		t.Fatal("an in-progress version replaced a complete one")
	}
	for i := range 120 {
		if got := tr.Find(fmt.Sprintf("%016x", i)); (got != nil) != (i < 100) {
			t.Fatalf("Find(%d) = %v", i, got)
		}
	}
}
