package sampling

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Quota timing (spec §5.5). SDKs report every Interval seconds while a rule
// matches traffic. A client counts as active for activeFor after a report;
// its quota is valid for quotaTTL, long enough to bridge one late report
// and short enough that a vanished client's share returns to the fleet
// within half a minute.
const (
	Interval  = 10 * time.Second
	activeFor = 3 * Interval
	quotaTTL  = 2 * Interval
	// incumbency is how much larger another client's fractional share must
	// be to take over a leftover unit.
	incumbency = 0.1
)

// fleet is the per-rule, per-client state the quota split needs. It lives
// in memory only: after a restart every client is re-learnt from its next
// report, and until then SDKs borrow (one trace per second each).
type fleet struct {
	mu    sync.Mutex
	rules map[string]map[string]*client // rule → client id → state
}

type client struct {
	lastReport time.Time
	rate       float64 // requests per second over its last report interval
	quota      int64
	expires    time.Time
}

func newFleet() *fleet { return &fleet{rules: map[string]map[string]*client{}} }

func (f *fleet) forget(rule string) {
	f.mu.Lock()
	delete(f.rules, rule)
	f.mu.Unlock()
}

// quota records a client's report for a rule whose fleet-wide reservoir is
// size traces per second and returns the client's new quota and its expiry.
//
// The algorithm:
//  1. The client's request rate is RequestCount over the time since its
//     previous report (Interval for a first report), clamped to 1..60 s.
//  2. Active clients are those that reported within activeFor.
//  3. size is split among active clients in proportion to their rates by
//     largest remainder: each gets the floor of its exact share, and the
//     units left over go to the largest fractional parts (then the
//     busiest, then the lowest id), so the shares sum to exactly size.
//     With no traffic at all the split is even.
//  4. The client gets its share, but never more than size minus the
//     unexpired quotas other clients hold, so the quotas in force never
//     sum past size even while shares shift; a client whose share shrank
//     gives the difference back at its next report (≤ Interval later).
func (f *fleet) quota(rule, id string, requests int64, size int64, now time.Time) (int64, time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	clients := f.rules[rule]
	if clients == nil {
		clients = map[string]*client{}
		f.rules[rule] = clients
	}
	c := clients[id]
	if c == nil {
		c = &client{}
		clients[id] = c
	}
	elapsed := Interval
	if !c.lastReport.IsZero() {
		elapsed = now.Sub(c.lastReport)
	}
	elapsed = min(max(elapsed, time.Second), time.Minute)
	c.rate = float64(max(requests, 0)) / elapsed.Seconds()
	c.lastReport = now

	var active []string
	held := int64(0) // unexpired quotas of the other clients
	for cid, o := range clients {
		live := now.Sub(o.lastReport) <= activeFor
		if live {
			active = append(active, cid)
		}
		if cid != id && now.Before(o.expires) {
			held += o.quota
		}
		if !live && !now.Before(o.expires) {
			delete(clients, cid)
		}
	}
	share := split(size, active, clients, now)[id]
	q := max(min(share, size-held), 0)
	c.quota, c.expires = q, now.Add(quotaTTL)
	return q, c.expires
}

// split divides size among the active clients by largest remainder. A
// client that already holds a leftover unit keeps it against near-ties
// (hysteresis): otherwise small rate jitter would move the unit every
// round, and the unit is unusable while it moves.
func split(size int64, active []string, clients map[string]*client, now time.Time) map[string]int64 {
	out := make(map[string]int64, len(active))
	if size <= 0 || len(active) == 0 {
		return out
	}
	total := 0.0
	for _, id := range active {
		total += clients[id].rate
	}
	type part struct {
		id   string
		frac float64
		rate float64
	}
	parts := make([]part, 0, len(active))
	given := int64(0)
	for _, id := range active {
		exact := float64(size) / float64(len(active))
		if total > 0 {
			exact = float64(size) * clients[id].rate / total
		}
		whole := int64(math.Floor(exact + 1e-9))
		out[id] = whole
		given += whole
		frac := exact - float64(whole)
		if c := clients[id]; c.quota > whole && now.Before(c.expires) {
			frac += incumbency
		}
		parts = append(parts, part{id, frac, clients[id].rate})
	}
	sort.Slice(parts, func(i, j int) bool {
		a, b := parts[i], parts[j]
		if math.Abs(a.frac-b.frac) > 1e-9 {
			return a.frac > b.frac
		}
		if a.rate != b.rate {
			return a.rate > b.rate
		}
		return a.id < b.id
	})
	for i := 0; given < size && i < len(parts); i++ { // given ≤ size: floors never sum past it
		out[parts[i].id]++
		given++
	}
	return out
}
