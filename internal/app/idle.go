package app

import (
	"runtime/debug"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/cmem"
)

// Idle memory: a server that has taken traffic keeps its Go heap grown to
// the budget's limit, ingest's cache of parsed traces full, and Pebble's
// memtables and block cache, though nothing arrives (~280 MiB measured
// after a load). Once ingest has been offered nothing for idleTicks checks
// in a row, the app empties that cache, has the embedded store give back
// its memtables and block cache (Trim in internal/store/pebble), and
// returns the freed C and Go heap to the OS, once per quiet spell; at each
// quiet check after that it returns again what the store's work since (a
// compaction) and the heap's growth towards its next collection took:
// ~280 MiB after a load came down to 110–144 (docs/performance.md).
const (
	idleCheck = 20 * time.Second
	idleTicks = 3
)

// idleAction is what a quiet check does.
type idleAction int

const (
	idleNone    idleAction = iota // traffic, or not quiet for long enough
	idleTrimAll                   // trim the caches and the store
	idleRelease                   // already trimmed: return freed memory
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

// tick takes the activity count now and says what to do.
func (t *idleTrim) tick(activity uint64) idleAction {
	if activity != t.last {
		t.last, t.quiet, t.trimmed = activity, 0, false
		return idleNone
	}
	t.quiet++
	switch {
	case t.quiet < idleTicks:
		return idleNone
	case t.trimmed:
		return idleRelease
	}
	t.trimmed = true
	return idleTrimAll
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
			switch trim.tick(a.ingest.Activity()) {
			case idleTrimAll:
				a.trimIdle(trim)
			case idleRelease:
				releaseFreed()
			}
		}
	}
}

// releaseFreed returns freed memory to the OS: the C heap's (Pebble's,
// with cgo) and the Go heap's, after a collection (a few ms of CPU for
// an idle server's heap).
func releaseFreed() {
	cmem.Release()
	debug.FreeOSMemory()
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
	releaseFreed()
	a.log.Debug("idle: caches emptied and the freed memory returned to the OS")
}
