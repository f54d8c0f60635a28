package clickhouse

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// testCommitter records INSERTs (table:rows, in the order they returned)
// and runs its window by hand: each window it opens is sent on windows,
// and lasts until the test fires it.
type testCommitter struct {
	*committer
	windows chan chan time.Time
	mu      sync.Mutex
	inserts []string
	fail    map[string]error // table → the error its INSERTs return
	hold    chan struct{}    // when set, the first INSERT waits for it
	holding chan struct{}    // closed once that INSERT waits
}

func newTestCommitter() *testCommitter {
	tc := &testCommitter{windows: make(chan chan time.Time, 1), fail: map[string]error{}}
	tc.committer = &committer{
		window:   time.Hour,
		maxBytes: 1 << 20,
		after: func(time.Duration) <-chan time.Time {
			c := make(chan time.Time, 1)
			tc.windows <- c
			return c
		},
		insert: func(_ context.Context, table string, pieces [][]byte) error {
			rows := bytes.Join(pieces, nil)
			tc.mu.Lock()
			hold := tc.hold
			tc.hold = nil
			tc.mu.Unlock()
			if hold != nil {
				close(tc.holding)
				<-hold
			}
			tc.mu.Lock()
			defer tc.mu.Unlock()
			tc.inserts = append(tc.inserts, table+":"+string(rows))
			return tc.fail[table]
		},
	}
	return tc
}

// queued waits until n writes are queued behind the running cycle.
func (tc *testCommitter) queued(n int) {
	for {
		tc.committer.mu.Lock()
		k := len(tc.committer.queue)
		tc.committer.mu.Unlock()
		if k >= n {
			return
		}
		runtime.Gosched()
	}
}

func (tc *testCommitter) got() []string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return slices.Clone(tc.inserts)
}

func rows(table, r string) stage { return stage{{table, []byte(r)}} }

// TestCommitterGathersAWindowIntoOneInsertPerTable: three writers within
// one window make one INSERT per table per stage, a write's second stage
// goes after its first, and each writer returns once its rows are stored.
func TestCommitterGathersAWindowIntoOneInsertPerTable(t *testing.T) {
	tc := newTestCommitter()
	errs := make(chan error, 3)
	go func() { errs <- tc.commit(rows("traces", "a1"), rows("docs", "a2")) }()
	window := <-tc.windows // the first write's cycle waits out the window
	go func() { errs <- tc.commit(rows("docs", "b")) }()
	tc.queued(2)
	go func() { errs <- tc.commit(rows("traces", "c1"), rows("docs", "c2")) }()
	tc.queued(3)
	if got := tc.got(); len(got) != 0 {
		t.Fatalf("INSERTs before the window closed: %q", got)
	}
	window <- time.Time{}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := tc.got()
	slices.Sort(got[:2]) // the tables of one stage go at once
	want := []string{"docs:b", "traces:a1c1", "docs:a2c2"}
	if !slices.Equal(got, want) {
		t.Errorf("INSERTs %q, want %q", got, want)
	}
	// Empty rows make no INSERT and need no window.
	if err := tc.commit(stage{{"docs", nil}}); err != nil || len(tc.got()) != 3 {
		t.Errorf("an empty write: %v, INSERTs %q", err, tc.got())
	}
	// The cycles' goroutine ends once the queue is empty.
	for deadline := time.Now().Add(10 * time.Second); ; runtime.Gosched() {
		tc.committer.mu.Lock()
		busy, n := tc.busy, len(tc.queue)
		tc.committer.mu.Unlock()
		if !busy && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("committer left busy=%v with %d queued", busy, n)
		}
	}
}

// TestCommitterFailsExactlyTheWritesOfAFailedInsert: a failed INSERT fails
// the writes with rows in it, whose later stages are not inserted; the
// other writes of the cycle are stored.
func TestCommitterFailsExactlyTheWritesOfAFailedInsert(t *testing.T) {
	tc := newTestCommitter()
	boom := errors.New("marks refused")
	tc.fail["traces"] = boom
	errs := make(chan error, 1)
	go func() { errs <- tc.commit(rows("traces", "a1"), rows("docs", "a2")) }()
	window := <-tc.windows
	other := make(chan error, 1)
	go func() { other <- tc.commit(rows("docs", "b1"), rows("summaries", "b2")) }()
	tc.queued(2)
	window <- time.Time{}
	if err := <-errs; !errors.Is(err, boom) {
		t.Errorf("the write whose marks failed: %v, want %v", err, boom)
	}
	if err := <-other; err != nil {
		t.Errorf("the write beside it: %v", err)
	}
	got := tc.got()
	slices.Sort(got[:2])
	if want := []string{"docs:b1", "traces:a1", "summaries:b2"}; !slices.Equal(got, want) {
		t.Errorf("INSERTs %q, want %q (a2 never, its marks failed)", got, want)
	}
}

// TestCommitterStartsAFullCycleAtOnce: queued rows reaching the size bound
// end the window early.
func TestCommitterStartsAFullCycleAtOnce(t *testing.T) {
	tc := newTestCommitter()
	tc.maxBytes = 4
	errs := make(chan error, 2)
	go func() { errs <- tc.commit(rows("docs", "ab")) }()
	<-tc.windows // never fired
	go func() { errs <- tc.commit(rows("docs", "cd")) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := tc.got(); !slices.Equal(got, []string{"docs:abcd"}) {
		t.Errorf("INSERTs %q, want one of both writes", got)
	}
}

// TestCommitterQueuesBehindARunningCycle: writes that arrive while a
// cycle's INSERT is in flight go together in the next cycle, led by the
// first of them.
func TestCommitterQueuesBehindARunningCycle(t *testing.T) {
	tc := newTestCommitter()
	hold := make(chan struct{})
	tc.hold, tc.holding = hold, make(chan struct{})
	errs := make(chan error, 4)
	go func() { errs <- tc.commit(rows("docs", "a")) }()
	(<-tc.windows) <- time.Time{}
	<-tc.holding
	for _, r := range []string{"b", "c", "d"} {
		go func() { errs <- tc.commit(rows("docs", r)) }()
	}
	tc.queued(3)
	close(hold)
	(<-tc.windows) <- time.Time{} // the next cycle's window
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := tc.got()
	if len(got) != 2 || got[0] != "docs:a" || len(got[1]) != len("docs:bcd") {
		t.Errorf("INSERTs %q, want a, then b, c and d together", got)
	}
}

// TestCommitterSaysWhichStageFailed: a refused INSERT fails its writes at
// the stage (as given to commit, empty ones counted) whose rows it held,
// the earlier stages stored and the error still the server's (Apply
// tells the statistics' stage stored from it).
func TestCommitterSaysWhichStageFailed(t *testing.T) {
	tc := newTestCommitter()
	busy := errors.New("Code: 252, Too many parts")
	tc.fail["summaries"] = busy
	done := make(chan error, 1)
	go func() {
		done <- tc.commit(stage{{"stats", nil}}, rows("terms", "t"), rows("summaries", "s"), rows("traces", "m"))
	}()
	(<-tc.windows) <- time.Time{}
	err := <-done
	if !errors.Is(err, busy) || failedStage(err) != 2 {
		t.Fatalf("commit: %v at stage %d; want %v at stage 2", err, failedStage(err), busy)
	}
	if got := tc.got(); !slices.Equal(got, []string{"terms:t", "summaries:s"}) {
		t.Errorf("inserts %v: want the terms, then the refused summaries, no marks", got)
	}
	if failedStage(busy) != -1 {
		t.Error("an error of no stage has a stage")
	}
}

// failedStage is the stage at which err, from commit, failed its write; -1
// if it did not come from a stage's INSERT.
func failedStage(err error) int {
	var sf *stageFailed
	if errors.As(err, &sf) {
		return sf.stage
	}
	return -1
}

// TestCommitterBoundsAWriteThatMayGiveUp: behind an INSERT that does not
// return, a bounded write still queued gives up within its bound (its rows
// never sent), the bounded write whose INSERT is under way gives up too
// (its outcome unknown: store.ErrBusy), an unbounded one waits, and the
// committer goes on once the INSERT returns: nothing is left queued or led
// by a writer that gave up.
func TestCommitterBoundsAWriteThatMayGiveUp(t *testing.T) {
	tc := newTestCommitter()
	hold := make(chan struct{})
	tc.hold, tc.holding = hold, make(chan struct{})
	ctx := context.Background()
	inFlight := make(chan error, 1)
	go func() { inFlight <- tc.commitWithin(ctx, 20*time.Millisecond, rows("docs", "a")) }()
	(<-tc.windows) <- time.Time{}
	<-tc.holding
	if err := <-inFlight; !errors.Is(err, store.ErrBusy) {
		t.Fatalf("a bounded write held in its INSERT: %v, want ErrBusy", err)
	}
	unbounded := make(chan error, 1)
	go func() { unbounded <- tc.commit(rows("stats", "s")) }()
	tc.queued(1)
	if err := tc.commitWithin(ctx, 20*time.Millisecond, rows("docs", "b")); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("a bounded write queued behind it: %v, want ErrBusy", err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if err := tc.commitWithin(gone, time.Hour, rows("docs", "c")); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("a write whose caller left: %v, want ErrBusy", err)
	}
	select {
	case err := <-unbounded:
		t.Fatalf("the unbounded write returned %v while the INSERT before it was held", err)
	default:
	}
	close(hold)
	(<-tc.windows) <- time.Time{} // the next cycle's window
	if err := <-unbounded; err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tc.commit(rows("docs", "d")) }()
	(<-tc.windows) <- time.Time{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := tc.got(); !slices.Equal(got, []string{"docs:a", "stats:s", "docs:d"}) {
		t.Errorf("INSERTs %q, want a (given up on, stored), s, d: not b nor c", got)
	}
}
