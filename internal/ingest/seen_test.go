package ingest

import (
	"fmt"
	"testing"
	"time"
)

func TestSeen(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	s := newSeen(start)
	now := start.Add(time.Hour)
	after := start.Add(10 * time.Minute).Unix() // filed after since
	if !s.isNew("a", after, now) {
		t.Error("a trace filed after the process started and never summarised is not new")
	}
	if s.isNew("b", start.Unix(), now) {
		t.Error("a trace filed at start may have been summarised by the last run; want a lookup")
	}
	if s.isNew("c", now.Add(time.Hour).Unix(), now) {
		t.Error("an epoch beyond MaxFuture is not a time the filters vouch for")
	}
	s.knowStoreUpTo(start.Unix() - 600) // the store's latest summary is older
	if !s.isNew("b", start.Unix(), now) {
		t.Error("a trace filed after the store's latest summary is not new")
	}
	if s.isNew("g", start.Unix()-600, now) {
		t.Error("a trace filed at the store's latest summary may have one; want a lookup")
	}
	s.add([]string{"a"}, now)
	if s.isNew("a", after, now) {
		t.Error("a summarised trace is still new")
	}

	// Filling the filter rotates it; what only the dropped one knew falls
	// before since, so it is looked up, never wrongly new.
	s.cur.n = seenCapacity - 1
	s.add([]string{"d"}, now) // rotation 1: a and d in prev
	if s.isNew("a", after, now) || s.isNew("d", after, now) {
		t.Error("the previous filter is forgotten too early")
	}
	later := now.Add(time.Hour)
	s.cur.n = seenCapacity - 1
	s.add([]string{"e"}, later) // rotation 2: a and d dropped
	if s.isNew("a", after, later) {
		t.Error("a trace only a dropped filter knew is reported new")
	}
	if !s.isNew("f", later.Unix(), later) {
		t.Error("a trace filed after the second rotation is not new")
	}
	fp := 0
	for i := range 100000 {
		if !s.isNew(fmt.Sprint("x", i), later.Unix(), later) {
			fp++
		}
	}
	if fp > 100 {
		t.Errorf("%d false positives in 100000 on a near-empty filter", fp)
	}
}
