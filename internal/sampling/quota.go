package sampling

import (
	"math"
	"sync"
	"time"
)

// Quota timing (spec §5.5). SDKs report every Interval seconds while a rule
// matches traffic. A client's quota is valid for quotaTTL, and it counts
// as active for activeFor after a report: both bridge a late report (SDKs
// add jitter) and are short enough that the share of a client that went
// away returns to the rest of the fleet within half a minute.
const (
	Interval  = 10 * time.Second
	activeFor = 25 * time.Second
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
	return grant(clients, id, requests, size, now)
}

// grant is the quota split of fleet.quota over one rule's clients, which it
// updates with the report.
func grant(clients map[string]*client, id string, requests int64, size int64, now time.Time) (int64, time.Time) {
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

	held := int64(0) // unexpired quotas of the other clients
	for cid, o := range clients {
		if cid != id && now.Before(o.expires) {
			held += o.quota
		}
		if now.Sub(o.lastReport) > activeFor && !now.Before(o.expires) {
			delete(clients, cid)
		}
	}
	share := shareOf(size, id, clients, now)
	q := max(min(share, size-held), 0)
	c.quota, c.expires = q, now.Add(quotaTTL)
	return q, c.expires
}

// shareOf is client id's part of size when it is divided among the active
// clients by largest remainder. It ranks only id's remainder against the
// others' (O(clients), no sorting), as a report needs only its own share.
//
// A client that already holds a leftover unit keeps it against near-ties
// (hysteresis): otherwise small rate jitter would move the unit every
// round, and the unit is unusable while it moves.
func shareOf(size int64, id string, clients map[string]*client, now time.Time) int64 {
	if size <= 0 {
		return 0
	}
	n, total := 0, 0.0
	for _, c := range clients {
		if now.Sub(c.lastReport) <= activeFor {
			n++
			total += c.rate
		}
	}
	type part struct {
		whole int64
		frac  float64
		rate  float64
		id    string
	}
	partOf := func(cid string, c *client) part {
		exact := float64(size) / float64(n)
		if total > 0 {
			exact = float64(size) * c.rate / total
		}
		whole := int64(math.Floor(exact + 1e-9))
		frac := exact - float64(whole)
		if c.quota > whole && now.Before(c.expires) {
			frac += incumbency
		}
		return part{whole, frac, c.rate, cid}
	}
	ahead := func(a, b part) bool { // a gets a leftover unit before b
		if math.Abs(a.frac-b.frac) > 1e-9 {
			return a.frac > b.frac
		}
		if a.rate != b.rate {
			return a.rate > b.rate
		}
		return a.id < b.id
	}
	me, ok := clients[id]
	if !ok || now.Sub(me.lastReport) > activeFor {
		return 0
	}
	mine := partOf(id, me)
	given, rank := int64(0), int64(0)
	for cid, c := range clients {
		if now.Sub(c.lastReport) > activeFor {
			continue
		}
		p := mine
		if cid != id {
			p = partOf(cid, c)
			if ahead(p, mine) {
				rank++
			}
		}
		given += p.whole
	}
	if rank < size-given { // floors never sum past size
		return mine.whole + 1
	}
	return mine.whole
}
