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
