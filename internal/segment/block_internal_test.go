package segment

import (
	"fmt"
	"testing"
	"time"
	"unsafe"
)

// A document's block, with the runtime's 8-byte header, stays in the
// 896-byte size class: the annotation string slots use its room left.
func TestDocBlockSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(docBlock{}) + 8; n > 896 {
		t.Fatalf("docBlock takes %d bytes with its header, past 896", n)
	}
}

// Annotation strings boxed in the block read as strings converted the
// usual way, past the slots' number too, and each document keeps its own.
func TestAnnotationStringsInBlock(t *testing.T) {
	opt := Options{Now: time.Now(), SkipTraceEpoch: true, Stored: true}
	var kept []*Segment
	for i := range 4 {
		doc := fmt.Sprintf(`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"a00000000000000%d","name":"a","start_time":1,"end_time":2,`+
			`"annotations":{"a":"x%d","n":1,"b":"y%d","c":"z%d","t":true,"d":"w%d","e":"v%d"}}`, i, i, i, i, i, i)
		segs, err := Parse([]byte(doc), opt)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, segs[0])
	}
	for i, s := range kept {
		for k, want := range map[string]any{"a": "x", "b": "y", "c": "z", "d": "w", "e": "v"} {
			want := want.(string) + fmt.Sprint(i)
			if got, ok := s.Annotations[k].(string); !ok || got != want || s.Annotations[k] != any(want) {
				t.Fatalf("document %d: annotation %s is %#v, want %q", i, k, s.Annotations[k], want)
			}
		}
	}
}
