package ingest

import (
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// A flush that failed is requeued; a newer version of one of its documents,
// staged meanwhile, replaces it, and the bytes awaiting summaries count it
// once (they bound the backlog, so an overcount would stall writers).
func TestRequeueCountsReplacedDocumentsOnce(t *testing.T) {
	doc := func(id string, n int) *segment.Segment { return &segment.Segment{ID: id, Raw: make([]byte, n)} }
	p := newPendingSet()
	p.add(&staged{id: "t", docs: trace.Trace{ID: "t", Docs: []*segment.Segment{doc("a", 100), doc("b", 10)}}})
	taken := p.take(nil)
	if p.rawBytes() != 0 || len(taken) != 1 {
		t.Fatalf("after take: %d bytes, %d entries", p.rawBytes(), len(taken))
	}
	p.add(&staged{id: "t", docs: trace.Trace{ID: "t", Docs: []*segment.Segment{doc("a", 120)}}}) // in_progress -> complete
	p.requeue(taken)
	if got := p.rawBytes(); got != 130 {
		t.Fatalf("awaiting %d bytes, want 130 (a's newer 120 and b's 10)", got)
	}
	es := p.take(nil)
	if len(es) != 1 || len(es[0].docs.Docs) != 2 || es[0].docs.Find("a").Raw == nil || len(es[0].docs.Find("a").Raw) != 120 {
		t.Fatalf("merged entry %+v", es)
	}
	if p.rawBytes() != 0 {
		t.Fatalf("after the last take: %d bytes", p.rawBytes())
	}
}

// Traces quiet for less than the flush delay wait, unless the backlog is
// over its limit: then the oldest are taken until it is down to three
// quarters of the limit, not merely under it, so flushes under sustained
// load are few and large.
func TestTakeReadyOverLimitLeavesThreeQuarters(t *testing.T) {
	p := newPendingSet()
	for i := range 10 {
		id := string(rune('a' + i))
		p.add(&staged{id: id, docs: trace.Trace{ID: id, Docs: []*segment.Segment{{ID: id, Raw: make([]byte, 100)}}}})
	}
	longAgo := time.Now().Add(-time.Hour) // nobody has been quiet long enough
	if got := p.takeReady(longAgo, 1000); len(got) != 0 {
		t.Fatalf("at the limit: took %d traces, want none", len(got))
	}
	got := p.takeReady(longAgo, 800)
	if len(got) != 4 || got[0].id != "a" || got[3].id != "d" || p.rawBytes() != 600 {
		t.Fatalf("over the limit of 800: took %d traces, %d bytes left; want a-d taken, 600 left", len(got), p.rawBytes())
	}
}
