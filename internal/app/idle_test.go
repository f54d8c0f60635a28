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

// An idle server's collector runs at idleGCPercent and gets its pace
// back when traffic comes; a GOGC the user set off or lower is left alone.
func TestIdleGCPercent(t *testing.T) {
	pct := 200
	set := func(p int) int { prev := pct; pct = p; return prev }
	g := &idleGC{set: set}
	if !g.lower() || pct != idleGCPercent {
		t.Fatalf("lower: GOGC %d, want %d", pct, idleGCPercent)
	}
	if g.lower() || pct != idleGCPercent {
		t.Fatalf("a second lower changed GOGC to %d", pct)
	}
	g.restore()
	if pct != 200 {
		t.Fatalf("restore: GOGC %d, want 200", pct)
	}
	g.restore()
	if pct != 200 {
		t.Fatalf("a second restore: GOGC %d", pct)
	}
	for _, user := range []int{-1, 20, idleGCPercent} {
		pct = user
		if g.lower() || pct != user {
			t.Errorf("GOGC %d: lower changed it to %d", user, pct)
		}
		g.restore()
		if pct != user {
			t.Errorf("GOGC %d: restore changed it to %d", user, pct)
		}
	}
}
