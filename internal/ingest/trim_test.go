package ingest_test

import (
	"context"
	"testing"
)

// Trim empties the cache of parsed traces (an idle server's memory): a
// trace's later segment then merges with what the store holds, as after an
// eviction, and the activity count tells the app that traffic came.
func TestTrimThenLateSegment(t *testing.T) {
	e := newEnv(t, 0)
	id := traceID(1)
	before := e.in.Activity()
	e.ingest(t, seg(id, "aaaaaaaaaaaaaaaa", "front", ""))
	if e.in.Activity() == before {
		t.Fatal("a call left the activity count unchanged")
	}
	e.in.Trim()
	e.ingest(t, seg(id, "bbbbbbbbbbbbbbbb", "back", `,"parent_id":"aaaaaaaaaaaaaaaa"`))
	st := e.trace(t, id)
	if len(st.Docs) != 2 {
		t.Fatalf("after a trim: %d documents, want both", len(st.Docs))
	}
	if st.Summary == nil || st.Summary.Revision != 1 {
		t.Fatalf("after a trim: summary %+v, want revision 1 over both documents", st.Summary)
	}
}

// Trim also drops the filters that tell a trace is new without a store
// lookup (seen). After Recover has learnt the store, a trace's first part is
// summarised as new; after the trim its later part must still merge with
// it: forgotten never means new.
func TestTrimForgetsSeenTracesSafely(t *testing.T) {
	e := newEnv(t, 0)
	if _, err := e.in.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	id := traceID(2)
	e.ingest(t, seg(id, "aaaaaaaaaaaaaaaa", "front", ""))
	e.in.Trim()
	e.ingest(t, seg(id, "bbbbbbbbbbbbbbbb", "back", `,"parent_id":"aaaaaaaaaaaaaaaa"`))
	st := e.trace(t, id)
	if len(st.Docs) != 2 || st.Summary == nil || st.Summary.Revision != 1 {
		t.Fatalf("after a trim: %d documents, summary %+v; want revision 1 over both", len(st.Docs), st.Summary)
	}
}
