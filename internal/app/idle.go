package app

import (
	"runtime/debug"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/cmem"
)

// Idle memory: a server that has taken traffic keeps its Go heap grown to
// the budget's limit and ingest's cache of parsed traces full, though
// nothing arrives (~500 MB measured after a load). Once ingest has been
// offered nothing for idleTicks checks in a row, the app empties that cache,
// has the embedded store give back its memtables and block cache (Trim in
// internal/store/pebble), and returns the freed C and Go heap to the OS,
// once per quiet spell: 486 MiB after a load came down to ~215 MiB with
// the cache alone, and to ~50 with the store's too (docs/performance.md).
const (
	idleCheck = 20 * time.Second
	idleTicks = 3
)

// idleTrim decides when to trim from a count of ingest's activity sampled
// at each check.
type idleTrim struct {
	last    uint64
	quiet   int
	trimmed bool
}

// retry makes the next quiet tick trim again: the store was busy.
func (t *idleTrim) retry() { t.trimmed = false }

// tick takes the activity count now and reports whether to trim.
func (t *idleTrim) tick(activity uint64) bool {
	if activity != t.last {
		t.last, t.quiet, t.trimmed = activity, 0, false
		return false
	}
	t.quiet++
	if t.quiet < idleTicks || t.trimmed {
		return false
	}
	t.trimmed = true
	return true
}

func (a *App) idleLoop() {
	t := time.NewTicker(idleCheck)
	defer t.Stop()
	trim := &idleTrim{last: a.ingest.Activity()}
	for {
		select {
		case <-a.done:
			return
		case <-t.C:
			if trim.tick(a.ingest.Activity()) {
				a.trimIdle(trim)
			}
		}
	}
}

// trimmer is a store that can give back memory it keeps to go faster
// (the embedded store; ClickHouse's memory is its own).
type trimmer interface{ Trim() error }

func (a *App) trimIdle(trim *idleTrim) {
	a.ingest.Trim()
	if st, ok := a.store.(trimmer); ok {
		if err := st.Trim(); err != nil {
			// Busy flushing or compacting: try at the next check.
			trim.retry()
			a.log.Debug("idle: the store kept its memory", "err", err)
		}
	}
	cmem.Release()
	debug.FreeOSMemory()
	a.log.Debug("idle: caches emptied and the freed memory returned to the OS")
}
