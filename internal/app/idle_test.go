package app

import "testing"

// A server trims once per quiet spell: after idleTicks checks without
// activity, not again until traffic has come and gone; in between it
// only returns freed memory.
func TestIdleTrimOncePerQuietSpell(t *testing.T) {
	tr := &idleTrim{}
	var got []idleAction
	for _, activity := range []uint64{0, 0, 0, 0, 0, 5, 5, 5, 7, 7, 7, 7, 7} {
		got = append(got, tr.tick(activity))
	}
	const n, T, R = idleNone, idleTrimAll, idleRelease
	// After the trim, each quiet check returns freed memory again.
	want := []idleAction{n, n, T, R, R, n, n, n, n, n, n, T, R}
	if idleTicks != 3 {
		t.Fatalf("the expectations assume idleTicks = 3, not %d", idleTicks)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tick %d: trim %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
}

// A trim the store could not do (busy compacting) is tried again at the
// next quiet check, and only until one succeeds.
func TestIdleTrimRetriesABusyStore(t *testing.T) {
	tr := &idleTrim{}
	for range idleTicks - 1 {
		if tr.tick(0) != idleNone {
			t.Fatal("acted before idleTicks quiet checks")
		}
	}
	if tr.tick(0) != idleTrimAll {
		t.Fatal("no trim after idleTicks quiet checks")
	}
	tr.retry()
	if tr.tick(0) != idleTrimAll {
		t.Fatal("no second try at the check after a busy store")
	}
	if tr.tick(0) != idleRelease {
		t.Fatal("trimmed again after a trim that succeeded")
	}
	tr.retry()
	if tr.tick(3) != idleNone {
		t.Fatal("a retry acted while traffic came")
	}
}
