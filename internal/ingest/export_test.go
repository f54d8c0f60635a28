package ingest

import "time"

// Abandon stops the background flush without summarising what is pending,
// as a crash would: the tests then reopen the store and Recover.
func (in *Ingester) Abandon() {
	in.closing.Do(func() {
		close(in.stop)
		in.stopped.Wait()
	})
}

// SeenFull sets every bit of seen's filters, so that each trace is a false
// positive there: proving it new then takes a store lookup.
func (in *Ingester) SeenFull() {
	in.seen.mu.Lock()
	defer in.seen.mu.Unlock()
	for _, f := range in.seen.filters {
		for i := range f.bits {
			f.bits[i] = ^uint64(0)
		}
	}
}

// SetBackpressureWait sets how long a call over twice PendingBytes waits
// for the flush under way.
func (in *Ingester) SetBackpressureWait(d time.Duration) { in.backpressureWait = d }

// OnClaimWait runs f whenever a call starts to wait to claim its traces.
func (in *Ingester) OnClaimWait(f func()) {
	in.pend.mu.Lock()
	defer in.pend.mu.Unlock()
	in.pend.waiting = f
}

// SameStripe reports whether calls of traces a and b take one stripe lock.
func (in *Ingester) SameStripe(a, b string) bool { return len(in.stripes([]string{a, b})) == 1 }
