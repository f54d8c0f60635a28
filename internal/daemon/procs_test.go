package daemon

import "testing"

// The governor adds Ps when the process is busy on them or its readers
// find a backlog, up to the ceiling, and gives them back only after
// calmTicks quiet intervals in a row.
func TestProcsGovernor(t *testing.T) {
	g := &procsGovernor{ceiling: 4, cur: 1}
	stepR := func(cores, full float64, queued bool, perSec float64, want int) {
		t.Helper()
		if got := g.next(cores, full, queued, perSec); got != want {
			t.Fatalf("next(%v, %v, %v, %v) = %d, want %d", cores, full, queued, perSec, got, want)
		}
	}
	stepQ := func(cores, full float64, queued bool, want int) { t.Helper(); stepR(cores, full, queued, 0, want) }
	step := func(cores, full float64, want int) { t.Helper(); stepQ(cores, full, false, want) }
	step(0.1, 0, 1)   // 10k/s: one P is plenty
	step(0.5, 0, 1)   // busy, under the mark
	step(0.1, 1, 1)   // a backlog while the process is mostly idle: a burst, or the machine not running it
	step(0.2, 0.6, 2) // a backlog, and busy (~30k/s)
	step(1.5, 0, 4)   // busy on both
	step(3.9, 1, 4)   // at the ceiling
	for range calmTicks - 1 {
		step(0.5, 0, 4) // under 0.3 of two Ps, not yet long enough
	}
	step(0.7, 0, 4) // not calm: the count starts again
	for range calmTicks - 1 {
		step(0.5, 0, 4)
	}
	step(0.5, 0, 2)
	for range calmTicks - 1 {
		step(0.1, 0, 2)
	}
	step(0.1, 0.2, 2) // a fifth of the reads full: not calm
	for range calmTicks - 2 {
		step(0.1, 0, 2)
	}
	step(0.1, 0.01, 2) // the odd full read: calm all the same
	step(0.1, 0, 1)
	for range 3 * calmTicks {
		step(0, 0, 1) // never below one
	}
	stepQ(0.1, 0, true, 1) // batches wait for uploaders for a moment (connections being made)
	stepQ(0.1, 0, false, 1)
	stepQ(0.1, 0, true, 1)
	stepQ(0.1, 0, true, 2) // and still wait while the process looks idle: a loaded host
	for range 2 * calmTicks {
		stepQ(0.1, 0, true, 4) // and not lowered while they wait
	}

	// The datagram rate raises Ps whatever CPU the process got, and
	// holds them until it falls under half the mark.
	g = &procsGovernor{ceiling: 4, cur: 1}
	stepR(0.05, 0, false, 10000, 1) // 10k/s: one P
	stepR(0.1, 0, false, 40000, 2)  // 40k/s on a loaded host, little CPU: two
	stepR(0.1, 0, false, 50000, 2)  // under 30k/s per P
	for range 2 * calmTicks {
		stepR(0.05, 0, false, 20000, 2) // calm, but over half the mark
	}
	for range calmTicks - 1 {
		stepR(0.05, 0, false, 10000, 2)
	}
	stepR(0.05, 0, false, 10000, 1)
}
