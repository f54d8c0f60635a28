package sampling

import (
	"context"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// sharedFleet splits each rule's reservoir among every client of every
// process on a shared store (store.QuotaLedger), where each process alone
// would hand out the whole reservoir to its own clients.
//
// A round of reports is answered in four steps:
//  1. read the newest report of every client of the round's rules (the
//     ledger: every process writes its reports there), the state fleet
//     keeps in memory for one process;
//  2. compute each client's quota with the same split (grant);
//  3. write the reports with those quotas: the claims;
//  4. read the reports again and lower each claim to the reservoir minus the
//     unexpired quotas every other client holds now, writing the lowered
//     quota back (a correction).
//
// Why the quotas in force never sum past a reservoir, however rounds on
// different processes interleave: of any set of claims in force at one
// moment, take the one whose step 4 read started last. Every other claim of
// the set was written before that read started (its own read came after
// its write, and started earlier), so that read saw all of them, at their
// claimed quota or a lower correction, and the last claim was lowered to fit
// beside them. Concurrent rounds may both lower their claims (then the
// reservoir is under-used until the clients' next reports), never
// overshoot. This needs a store whose acknowledged writes every later read
// sees (ClickHouse on one server does; a cluster needs
// insert_distributed_sync and one replica per shard read, docs/clickhouse.md).
type sharedFleet struct {
	ledger store.QuotaLedger
	// step, if set, runs after step 1 ("loaded") and after step 3
	// ("claimed"): tests interleave two processes' rounds there.
	step func(name string)
}

// lookBack is how far back a client's last report counts: grant clamps the
// time between two reports to a minute.
const lookBack = time.Minute

// quotaReq is one accepted report with its rule's reservoir.
type quotaReq struct {
	stat Statistics
	size int64
}

// load is the fleet's state of rules, as fleet keeps it for one process.
func (f *sharedFleet) load(ctx context.Context, rules []string, now time.Time) (map[string]map[string]*client, error) {
	out := make(map[string]map[string]*client, len(rules))
	for _, r := range rules {
		out[r] = map[string]*client{}
	}
	err := f.ledger.QuotaReports(ctx, rules, now.Add(-lookBack), func(r store.QuotaReport) bool {
		if m := out[r.Rule]; m != nil {
			m[r.Client] = &client{lastReport: r.At, rate: r.Rate, quota: r.Quota, expires: r.Expires}
		}
		return true
	})
	return out, err
}

// quotas answers a round of reports taken at now with each client's quota
// and its expiry, in the order of reqs.
func (f *sharedFleet) quotas(ctx context.Context, reqs []quotaReq, now time.Time) ([]store.QuotaReport, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	var rules []string
	size := map[string]int64{}
	for _, q := range reqs {
		if _, ok := size[q.stat.RuleName]; !ok {
			rules = append(rules, q.stat.RuleName)
		}
		size[q.stat.RuleName] = q.size
	}
	state, err := f.load(ctx, rules, now)
	if err != nil {
		return nil, err
	}
	if f.step != nil {
		f.step("loaded")
	}
	claims := make([]store.QuotaReport, len(reqs))
	for i, q := range reqs {
		d := q.stat
		clients := state[d.RuleName]
		quota, exp := grant(clients, d.ClientID, d.RequestCount, q.size, now)
		claims[i] = store.QuotaReport{Rule: d.RuleName, Client: d.ClientID, At: now, Window: d.Timestamp.Truncate(windowWidth),
			Rate: clients[d.ClientID].rate, Quota: quota, Expires: exp,
			Requests: d.RequestCount, Sampled: d.SampledCount, Borrowed: d.BorrowCount}
	}
	if err := f.ledger.AddQuotaReports(ctx, claims); err != nil {
		return nil, err
	}
	if f.step != nil {
		f.step("claimed")
	}
	after, err := f.load(ctx, rules, now)
	if err != nil {
		return nil, err
	}
	var fixes []store.QuotaReport
	for i := range claims {
		c := &claims[i]
		held := int64(0)
		for id, o := range after[c.Rule] {
			if id != c.Client && now.Before(o.expires) {
				held += o.quota
			}
		}
		if q := max(min(c.Quota, size[c.Rule]-held), 0); q < c.Quota {
			c.Quota = q
			fix := *c
			fix.Requests, fix.Sampled, fix.Borrowed = 0, 0, 0 // counted once, in the claim
			fixes = append(fixes, fix)
		}
	}
	if err := f.ledger.AddQuotaReports(ctx, fixes); err != nil {
		return nil, err
	}
	return claims, nil
}

// windows sums what every process's clients reported, per rule and window.
func (f *sharedFleet) windows(ctx context.Context, since time.Time) ([]Summary, error) {
	var out []Summary
	err := f.ledger.QuotaWindows(ctx, since, func(w store.QuotaWindow) bool {
		out = append(out, Summary{RuleName: w.Rule, Timestamp: w.Window, RequestCount: w.Requests,
			SampledCount: w.Sampled, BorrowCount: w.Borrowed})
		return true
	})
	return out, err
}
