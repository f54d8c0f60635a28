package ingest

import (
	"fmt"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// TestKnownDocsPrefersThePendingAndTheLast: a document id found among the
// pending documents is taken from them, not from the cached summary's, and
// of equal ids the last wins, whether the documents are looked through one
// by one or put in a map (past knownScan).
func TestKnownDocsPrefersThePendingAndTheLast(t *testing.T) {
	for _, n := range []int{1, knownScan / 2, knownScan} { // documents in each list
		var cached, mine []*segment.Segment
		for i := range n {
			cached = append(cached, &segment.Segment{ID: fmt.Sprint("c", i), Name: "cached"})
			cached = append(cached, &segment.Segment{ID: fmt.Sprint("both", i), Name: "cached"})
			mine = append(mine, &segment.Segment{ID: fmt.Sprint("both", i), Name: "first"})
			mine = append(mine, &segment.Segment{ID: fmt.Sprint("both", i), Name: "mine"})
		}
		find := knownDocs(cached, mine)
		for i := range n {
			if s := find(fmt.Sprint("c", i)); s == nil || s.Name != "cached" {
				t.Errorf("%d each: c%d: %+v, want the cached one", n, i, s)
			}
			if s := find(fmt.Sprint("both", i)); s == nil || s.Name != "mine" {
				t.Errorf("%d each: both%d: %+v, want the last pending one", n, i, s)
			}
		}
		if s := find("none"); s != nil {
			t.Errorf("%d each: an unknown id found %+v", n, s)
		}
	}
}
