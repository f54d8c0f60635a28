package clickhouse

import (
	"context"
	"sync"
)

// batcher is a group commit for one table. A ClickHouse INSERT costs a new
// part on disk and later merges whatever its size (about 15 ms of server
// CPU for 50 rows on 18.16, the same for 2,000), so the rows of concurrent
// writers go in one INSERT: while one is in flight, later writers queue
// their rows, and when it returns, the first of them inserts everything
// queued. Nobody waits for a timer, so a lone writer pays no latency, and
// every writer still returns only once its own rows are stored.
type batcher struct {
	insert  func(rows []byte) error
	mu      sync.Mutex
	busy    bool
	rows    []byte
	waiters []chan batchResult
}

type batchResult struct {
	err  error
	lead bool // the receiver inserts the queued rows next
}

func newBatcher(c *client, table, cols string) *batcher {
	// Not a writer's context: the other writers' rows ride on the INSERT.
	return &batcher{insert: func(rows []byte) error { return c.insert(context.Background(), table, cols, rows) }}
}

// add inserts rows, alone or with other writers', and returns once they are
// stored (or the INSERT that carried them failed).
func (b *batcher) add(rows []byte) error {
	if len(rows) == 0 {
		return nil
	}
	w := make(chan batchResult, 1)
	b.mu.Lock()
	b.rows = append(b.rows, rows...)
	b.waiters = append(b.waiters, w)
	if !b.busy {
		b.busy = true
		b.mu.Unlock()
		return b.lead(w)
	}
	b.mu.Unlock()
	if r := <-w; !r.lead {
		return r.err
	}
	return b.lead(w)
}

// lead inserts everything queued, tells each writer of it the outcome, and
// hands the next batch to the first writer that queued meanwhile.
func (b *batcher) lead(self chan batchResult) error {
	b.mu.Lock()
	rows, ws := b.rows, b.waiters
	b.rows, b.waiters = nil, nil
	b.mu.Unlock()
	err := b.insert(rows)
	var mine error
	for _, w := range ws {
		if w == self {
			mine = err
		} else {
			w <- batchResult{err: err}
		}
	}
	b.mu.Lock()
	if len(b.waiters) == 0 {
		b.busy = false
		b.mu.Unlock()
		return mine
	}
	next := b.waiters[0]
	b.mu.Unlock()
	next <- batchResult{lead: true}
	return mine
}
