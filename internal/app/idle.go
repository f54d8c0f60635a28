package app

import (
	"runtime/debug"
	"time"
)

// Idle memory: a server that has taken traffic keeps its Go heap grown to
// the budget's limit and ingest's cache of parsed traces full, though
// nothing arrives (~500 MB measured after a load). Once ingest has been
// offered nothing for idleTicks checks in a row, the app empties that cache
// and returns the freed heap to the OS, once per quiet spell. Pebble keeps
// its block cache and memtables: they are bounded by the budget.
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
				a.ingest.Trim()
				debug.FreeOSMemory()
				a.log.Debug("idle: ingest's cache emptied and the freed heap returned to the OS")
			}
		}
	}
}
