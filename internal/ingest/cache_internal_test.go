package ingest

import (
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// A trace too big to cache leaves a size-only entry: its summary must not
// keep the trace's documents alive through strings parsed out of them.
func TestSizeOnlyEntryKeepsNoDocuments(t *testing.T) {
	now := time.Now()
	id := fmt.Sprintf("1-%08x-%024x", now.Unix(), 1)
	start := float64(now.Unix())
	doc := fmt.Appendf(nil, `{"trace_id":%q,"id":"70de5b6f19ff9a0a","name":"checkout","start_time":%f,"end_time":%f,"user":"alice","annotations":{"order":"o-1"}}`, id, start, start+0.5)
	c := newCache(1024) // any trace is a quarter of it
	raw := func() weak.Pointer[byte] {
		segs, err := segment.Parse(doc, segment.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		tr := &trace.Trace{ID: id}
		tr.Put(segs[0])
		sum := trace.Summarize(trace.Assemble(tr), nil, start+1)
		c.put(&entry{trace: tr, summary: sum, bytes: len(doc)})
		return weak.Make(unsafe.SliceData(segs[0].Raw))
	}()
	e := c.get(id)
	if e == nil || e.trace != nil || e.summary == nil || e.bytes != len(doc) {
		t.Fatalf("entry = %+v; want a size-only entry with the summary", e)
	}
	if e.summary.TraceID != id || e.summary.Duration != 0.5 {
		t.Errorf("summary = %+v", e.summary)
	}
	runtime.GC()
	runtime.GC()
	if raw.Value() != nil {
		t.Error("the size-only entry keeps the trace's document alive")
	}
	runtime.KeepAlive(e)
}

// byTrace groups a call's documents by trace, in order of first
// appearance, with each group's room ending where the next begins.
func TestByTrace(t *testing.T) {
	var segs []*segment.Segment
	for _, id := range []string{"a", "b", "a", "c", "b", "a"} {
		segs = append(segs, &segment.Segment{TraceID: id})
	}
	order, groups := byTrace(segs)
	if fmt.Sprint(order, groups) != "[a b c] [[0 2 5] [1 4] [3]]" {
		t.Fatalf("byTrace = %v %v", order, groups)
	}
	_ = append(groups[0], 99)
	if fmt.Sprint(groups) != "[[0 2 5] [1 4] [3]]" {
		t.Errorf("appending to a group wrote into the next: %v", groups)
	}
	if o, g := byTrace(nil); len(o) != 0 || len(g) != 0 {
		t.Errorf("byTrace(nil) = %v %v", o, g)
	}
}
