package clickhouse

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestBatcherGroupsWritersQueuedBehindAnInsert holds the first INSERT open
// until three more writers have queued, then checks that the second INSERT
// carries all three, that each writer returns its own INSERT's outcome, and
// that a lone writer afterwards inserts at once.
func TestBatcherGroupsWritersQueuedBehindAnInsert(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var inserts []string
	failSecond := errors.New("second insert failed")
	b := &batcher{insert: func(rows []byte) error {
		mu.Lock()
		inserts = append(inserts, string(rows))
		n := len(inserts)
		mu.Unlock()
		switch n {
		case 1:
			<-release
		case 2:
			return failSecond
		}
		return nil
	}}
	errs := make(chan error, 4)
	go func() { errs <- b.add([]byte("a")) }()
	waitFor := func(cond func() bool) {
		for {
			b.mu.Lock()
			mu.Lock()
			ok := cond()
			mu.Unlock()
			b.mu.Unlock()
			if ok {
				return
			}
			runtime.Gosched()
		}
	}
	waitFor(func() bool { return len(inserts) == 1 })
	for _, r := range []string{"b", "c", "d"} {
		go func() { errs <- b.add([]byte(r)) }()
	}
	waitFor(func() bool { return len(b.waiters) == 3 })
	close(release)
	var got []error
	for range 4 {
		got = append(got, <-errs)
	}
	if n := len(slices.DeleteFunc(got, func(e error) bool { return e == nil })); n != 3 {
		t.Errorf("%d writers saw the failed second INSERT, want the 3 that rode on it: %v", n, got)
	}
	if len(inserts) != 2 || inserts[0] != "a" || len(inserts[1]) != 3 {
		t.Fatalf("inserts = %q, want a, then b, c and d together", inserts)
	}
	if err := b.add([]byte("e")); err != nil || len(inserts) != 3 || inserts[2] != "e" {
		t.Errorf("a lone writer: %v, inserts %q", err, inserts)
	}
	if b.busy || len(b.waiters) != 0 {
		t.Errorf("batcher left busy=%v with %d waiters", b.busy, len(b.waiters))
	}
}
