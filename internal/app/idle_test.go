package app

import "testing"

// A server trims once per quiet spell: after idleTicks checks without
// activity, not again until traffic has come and gone.
func TestIdleTrimOncePerQuietSpell(t *testing.T) {
	tr := &idleTrim{}
	var got []bool
	for _, activity := range []uint64{0, 0, 0, 0, 0, 5, 5, 5, 7, 7, 7, 7, 7} {
		got = append(got, tr.tick(activity))
	}
	want := []bool{false, false, true, false, false, false, false, false, false, false, false, true, false}
	if idleTicks != 3 {
		t.Fatalf("the expectations assume idleTicks = 3, not %d", idleTicks)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tick %d: trim %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
}
