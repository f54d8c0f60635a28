package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// committer is the store's group commit. A ClickHouse INSERT costs a new
// part on disk and later merges nearly whatever its size (2 to 9 ms of
// server CPU each on 18.16 here, a 10,000-row one about twice a 40-row
// one), so every write of the process (documents, pending marks,
// summaries, terms, statistics, tombstones, lease rows) joins one cycle:
// the writes that arrive within a short window, or until a size bound,
// are sent as one INSERT per table.
//
// A write is a sequence of stages, each stage rows for some tables; a
// stage goes only once the write's earlier stages are stored (the
// ordering the crash rules need, e.g. pending marks before documents). A
// cycle runs level by level: level k inserts the k-th stage of every write
// in it, one INSERT per table, the tables of a level at once. A write is
// told its outcome when its last stage is stored; an INSERT that fails
// fails exactly the writes with rows in it, which go no further. Versions
// are fixed by the writers, so rows of one key may share an INSERT in any
// order.
//
// While a cycle runs, new writes queue; when it ends, the next cycle takes
// them (run, one goroutine while writes come). A cycle waits out the rest
// of the window from its first write's arrival, so writes queued behind a
// slow cycle do not wait again. A write may bound its wait (commitWithin).
type committer struct {
	insert   func(ctx context.Context, table string, rows [][]byte) error
	window   time.Duration
	maxBytes int // a cycle starts early once this many bytes are queued
	// after is time.After; tests replace it to run the window by hand.
	after func(d time.Duration) <-chan time.Time

	mu    sync.Mutex
	busy  bool
	queue []*write
	bytes int
	full  chan struct{} // closed when bytes reaches maxBytes
}

// stage is rows for some tables, inserted together.
type stage []tableRows

type tableRows struct {
	table string
	rows  []byte
}

type write struct {
	stages []stage
	// orig are the stages' indexes among those commit was given (empty
	// ones are left out).
	orig    []int
	arrived time.Time
	bytes   int // its rows' bytes
	done    chan writeResult
}

type writeResult struct {
	err error
}

// defaultCommitWindow is how long a cycle gathers writes: a few ms costs a
// lone writer little and lets the writes of a busy process share INSERTs.
const defaultCommitWindow = 5 * time.Millisecond

// commitMaxBytes bounds one cycle's rows (the body of its INSERTs).
const commitMaxBytes = 16 << 20

func newCommitter(c *client, window time.Duration) *committer {
	return &committer{
		// Not a writer's context: the other writers' rows ride on it.
		insert: func(ctx context.Context, table string, rows [][]byte) error {
			return c.insertPieces(ctx, table, tableColumns[table], rows)
		},
		window:   window,
		maxBytes: commitMaxBytes,
		after:    time.After,
	}
}

// commit stores the stages in order, with other writers' rows, and returns
// once all are stored or one of their INSERTs failed.
func (m *committer) commit(stages ...stage) error {
	return m.commitWithin(context.Background(), 0, stages...)
}

// commitWithin is commit for a write whose outcome may stay unknown: if it
// is not stored within limit (none: 0), or ctx ends first, it returns
// errNotCommitted (store.ErrBusy, a ThrottledException to the caller's
// client, which resends it). Its rows are then never sent if they were
// still queued, and may yet be stored if their INSERT was under way: only
// for rows that are harmless twice, and unacknowledged (a document: a
// resent one is a newer version of the same id, and one stored unasked is
// a pending mark the adopting loop summarises). Not for a stage after
// which the caller must know what was stored (Apply's statistics).
func (m *committer) commitWithin(ctx context.Context, limit time.Duration, stages ...stage) error {
	w := &write{done: make(chan writeResult, 1)}
	for i, st := range stages {
		var kept stage
		for _, t := range st {
			if len(t.rows) > 0 {
				kept = append(kept, t)
				w.bytes += len(t.rows)
			}
		}
		if len(kept) > 0 {
			w.stages = append(w.stages, kept)
			w.orig = append(w.orig, i)
		}
	}
	if len(w.stages) == 0 {
		return nil
	}
	m.mu.Lock()
	w.arrived = time.Now()
	m.queue = append(m.queue, w)
	m.bytes += w.bytes
	if m.bytes >= m.maxBytes && m.full != nil {
		close(m.full)
		m.full = nil
	}
	if !m.busy {
		m.busy = true
		go m.run()
	}
	m.mu.Unlock()
	var timeout <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case r := <-w.done:
		return r.err
	case <-timeout:
	case <-ctx.Done():
	}
	// Given up: out of the queue if it is still there (never sent).
	m.mu.Lock()
	if i := slices.Index(m.queue, w); i >= 0 {
		m.queue = slices.Delete(m.queue, i, i+1)
		m.bytes -= w.bytes
	}
	m.mu.Unlock()
	return errNotCommitted
}

// errNotCommitted is a write commitWithin gave up on.
var errNotCommitted = fmt.Errorf("clickhouse: the write was not committed in time: %w", store.ErrBusy)

// stageFailed is a write's failure at one of its stages (an index among
// those commit was given): the stages before it are stored, it and those
// after it not.
type stageFailed struct {
	err    error
	stage  int
	tables map[string]bool // the write's tables of that stage that were refused
}

func (e *stageFailed) Error() string { return e.err.Error() }
func (e *stageFailed) Unwrap() error { return e.err }

// stored says whether a write's table of the given stage went in, for a
// commit that answered err: a stage before the failed one did, a later
// one was never sent, and in the failed stage every table not refused did
// (one INSERT per table, sent side by side).
func stored(err error, stage int, table string) bool {
	var sf *stageFailed
	if !errors.As(err, &sf) {
		return err == nil
	}
	switch {
	case stage < sf.stage:
		return true
	case stage > sf.stage:
		return false
	}
	return !sf.tables[table]
}

// run runs cycles while writes queue: each for the queue as it is once
// the window from its first write's arrival has passed (so writes queued
// behind a slow cycle do not wait again), or at once when full.
func (m *committer) run() {
	for {
		m.mu.Lock()
		if len(m.queue) == 0 {
			m.busy = false
			m.mu.Unlock()
			return
		}
		if m.bytes < m.maxBytes {
			if wait := m.window - time.Since(m.queue[0].arrived); wait > 0 {
				full := make(chan struct{})
				m.full = full
				m.mu.Unlock()
				select {
				case <-m.after(wait):
				case <-full:
				}
				m.mu.Lock()
				m.full = nil
			}
		}
		ws := m.queue
		m.queue, m.bytes = nil, 0
		m.mu.Unlock()
		m.cycle(ws)
	}
}

// cycle inserts the writes' stages level by level and tells each write
// its outcome once it is known (a write given up on is told too: done
// holds one answer).
func (m *committer) cycle(ws []*write) {
	tell := func(w *write, err error) { w.done <- writeResult{err: err} }
	ctx := context.Background()
	for level := 0; len(ws) > 0; level++ {
		// One INSERT per table, of every write's rows at this level.
		// The writes' rows are sent as they are, not copied into one buffer.
		var tables []string
		rows := map[string][][]byte{}
		for _, w := range ws {
			for _, t := range w.stages[level] {
				if _, ok := rows[t.table]; !ok {
					tables = append(tables, t.table)
				}
				rows[t.table] = append(rows[t.table], t.rows)
			}
		}
		errs := make([]error, len(tables))
		var wg sync.WaitGroup
		for i, t := range tables {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = m.insert(ctx, t, rows[t])
			}()
		}
		wg.Wait()
		failed := map[string]error{}
		for i, t := range tables {
			if errs[i] != nil {
				failed[t] = errs[i]
			}
		}
		next := ws[:0:0]
		for _, w := range ws {
			var err error
			var refused map[string]bool
			for _, t := range w.stages[level] {
				if e := failed[t.table]; e != nil {
					if err == nil {
						err, refused = e, map[string]bool{}
					}
					refused[t.table] = true
				}
			}
			switch {
			case err != nil:
				tell(w, &stageFailed{err: err, stage: w.orig[level], tables: refused})
			case level == len(w.stages)-1:
				tell(w, nil)
			default:
				next = append(next, w)
			}
		}
		ws = next
	}
}
