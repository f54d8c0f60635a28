package app

import (
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/cmem"
)

// Idle memory: a server that has taken traffic keeps its Go heap grown to
// the budget's limit, ingest's cache of parsed traces full, and Pebble's
// memtables and block cache, though nothing arrives (~280 MiB measured
// after a load). Once nothing has been ingested or asked (activity) for
// idleTicks checks in a row, the app empties that cache, has the embedded
// store give back its memtables and block cache (Trim in
// internal/store/pebble), and
// returns the freed C and Go heap to the OS, once per quiet spell; at each
// quiet check after that it returns again what the store's work since (a
// compaction) and the heap's growth towards its next collection took:
// ~280 MiB after a load came down to 110–144 (docs/performance.md).
const (
	idleCheck = 20 * time.Second
	idleTicks = 3
)

// activity counts what keeps a server busy: ingest offered and requests
// answered (a query node of a fleet, or dashboards over a quiet spell,
// takes no ingest but decodes much, and wants its caches and its
// collector's pace).
func (a *App) activity() uint64 { return a.ingest.Activity() + a.requests.Load() }

// countRequests counts the requests h serves, but for /metrics scrapes,
// health checks and profiles, which come whether anyone uses the server
// or not.
func (a *App) countRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/metrics", p == "/health", strings.HasPrefix(p, "/debug/"):
		default:
			a.requests.Add(1)
		}
		h.ServeHTTP(w, r)
	})
}

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
	trim := &idleTrim{last: a.activity()}
	gc := &idleGC{set: debug.SetGCPercent}
	defer gc.restore()
	// wake, while the collector paces an idle heap, looks for traffic
	// more often than the quiet checks, to give it back its pace soon.
	wake := time.NewTicker(idleWake)
	wake.Stop()
	defer wake.Stop()
	for {
		select {
		case <-a.done:
			return
		case <-wake.C:
			if a.activity() != trim.last {
				gc.restore()
				wake.Stop()
			}
		case <-t.C:
			switch trim.tick(a.activity()) {
			case idleTrimAll:
				a.trimIdle(trim)
				if gc.lower() {
					wake.Reset(idleWake)
				}
			case idleRelease:
				releaseFreed()
			case idleNone:
				gc.restore()
				wake.Stop()
			}
		}
	}
}

// idleGCPercent paces the collector of a trimmed, idle server: GOGC=200
// (cmd/roentgen) lets an idle heap of ~13 MiB live grow to ~40 MiB of
// what background work (compactions, table statistics, the insights
// detector's reads each minute, scrapes) leaves behind before a
// collection, and the runtime keeps that resident between quiet checks;
// at 25 it stays within 1.25x the live heap. An idle server allocates
// little, so the extra collections cost a few ms a minute.
const idleGCPercent = 25

// idleWake is how often a trimmed server looks for traffic.
const idleWake = time.Second

// idleGC lowers GOGC while the server is idle and restores it when
// traffic comes.
type idleGC struct {
	set  func(int) int // debug.SetGCPercent
	prev int
	low  bool
}

// lower sets idleGCPercent, unless GOGC is off or already as low; it
// reports whether it changed it.
func (g *idleGC) lower() bool {
	if g.low {
		return false
	}
	prev := g.set(idleGCPercent)
	if prev < 0 || prev <= idleGCPercent {
		g.set(prev) // GOGC=off (the memory limit paces) or lower: the user's
		return false
	}
	g.prev, g.low = prev, true
	return true
}

// restore gives the collector back its pace.
func (g *idleGC) restore() {
	if g.low {
		g.set(g.prev)
		g.low = false
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
