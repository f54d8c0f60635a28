package clickhouse

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Sampling reports (store.QuotaLedger): one row per client report per rule,
// and one per correction of a quota, never changed. They are partitioned
// by the hour of the report, and partitions older than quotaKeep are
// dropped as new reports arrive: the quota split looks back a minute and
// GetSamplingStatisticSummaries an hour.

const quotaKeep = 2 * time.Hour

// createReports is migration 3 (schema.go).
const createReports = `CREATE TABLE IF NOT EXISTS sampling_reports (p UInt32, rule String, client String, at Int64, ver UInt64, win Int64,
		rate Float64, quota Int64, expires Int64, requests Int64, sampled Int64, borrowed Int64)
		ENGINE = MergeTree PARTITION BY p ORDER BY (rule, client, ver)`

var _ store.QuotaLedger = (*Store)(nil)

// quotaPrune remembers, per store, the hour up to which partitions of
// sampling_reports were last dropped.
var quotaPrune sync.Map // server and database → *pruneState

type pruneState struct {
	mu  sync.Mutex
	cut uint32
}

func (w *rowWriter) f64(v float64) { w.u64(math.Float64bits(v)) }

func (r *rowReader) f64() float64 { return math.Float64frombits(r.u64()) }

// AddQuotaReports implements store.QuotaLedger: one INSERT.
func (s *Store) AddQuotaReports(ctx context.Context, reports []store.QuotaReport) error {
	if len(reports) == 0 {
		return nil
	}
	var w rowWriter
	newest := int64(0)
	for _, r := range reports {
		at := r.At.UnixNano()
		newest = max(newest, at)
		w.u32(part(r.At.Unix()))
		w.str(r.Rule)
		w.str(r.Client)
		w.i64(at)
		w.u64(s.ver())
		w.i64(r.Window.UnixNano())
		w.f64(r.Rate)
		w.i64(r.Quota)
		w.i64(r.Expires.UnixNano())
		w.i64(r.Requests)
		w.i64(r.Sampled)
		w.i64(r.Borrowed)
	}
	if err := s.c.insert(ctx, "sampling_reports",
		"p, rule, client, at, ver, win, rate, quota, expires, requests, sampled, borrowed", w.b); err != nil {
		return err
	}
	return s.pruneQuotaReports(ctx, time.Unix(0, newest).Add(-quotaKeep))
}

// pruneQuotaReports drops the partitions of reports older than before, at
// most once per hour of the clock the reports carry.
func (s *Store) pruneQuotaReports(ctx context.Context, before time.Time) error {
	return s.pruneOnce(ctx, &quotaPrune, "sampling_reports", before)
}

// QuotaReports implements store.QuotaLedger.
func (s *Store) QuotaReports(ctx context.Context, rules []string, since time.Time, fn func(store.QuotaReport) bool) error {
	if len(rules) == 0 {
		return nil
	}
	q := make([]string, len(rules))
	for i, r := range rules {
		q[i] = quote(r)
	}
	r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT rule, client, argMax(at, ver), argMax(win, ver), argMax(rate, ver),
		argMax(quota, ver), argMax(expires, ver) FROM sampling_reports
		WHERE p >= %d AND at >= %d AND rule IN (%s) GROUP BY rule, client`,
		part(since.Unix()), since.UnixNano(), strings.Join(q, ", ")))
	if err != nil {
		return err
	}
	for r.more() {
		rep := store.QuotaReport{Rule: r.str(), Client: r.str()}
		rep.At = time.Unix(0, r.i64())
		rep.Window = time.Unix(0, r.i64())
		rep.Rate = r.f64()
		rep.Quota = r.i64()
		rep.Expires = time.Unix(0, r.i64())
		if r.err == nil && !fn(rep) {
			return nil
		}
	}
	return r.err
}

// QuotaWindows implements store.QuotaLedger.
func (s *Store) QuotaWindows(ctx context.Context, since time.Time, fn func(store.QuotaWindow) bool) error {
	// A report's window is its client's timestamp, within an hour of the
	// report (sampling refuses staler ones), so its partition is at most
	// an hour later than the window.
	r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT rule, win, sum(requests), sum(sampled), sum(borrowed)
		FROM sampling_reports WHERE p >= %d AND win >= %d GROUP BY rule, win ORDER BY rule, win`,
		part(since.Add(-time.Hour).Unix()), since.UnixNano()))
	if err != nil {
		return err
	}
	for r.more() {
		w := store.QuotaWindow{Rule: r.str()}
		w.Window = time.Unix(0, r.i64())
		w.Requests, w.Sampled, w.Borrowed = r.i64(), r.i64(), r.i64()
		if r.err == nil && !fn(w) {
			return nil
		}
	}
	return r.err
}

// dropOld drops the hour partitions of table before cut, on every node.
func (s *Store) dropOld(ctx context.Context, table string, cut uint32) error {
	for _, node := range s.nodes() {
		if err := dropOldOn(ctx, node, table, cut); err != nil {
			return err
		}
	}
	return nil
}

func dropOldOn(ctx context.Context, node *client, table string, cut uint32) error {
	r, err := node.selectRows(ctx, fmt.Sprintf(`SELECT DISTINCT partition FROM system.parts
		WHERE database = %s AND table = %s AND active`, quote(node.database), quote(table)))
	if err != nil {
		return err
	}
	var drops []string
	for r.more() {
		p := r.str()
		var n uint32
		if _, err := fmt.Sscan(p, &n); err == nil && n < cut {
			drops = append(drops, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %d", table, n))
		}
	}
	if r.err != nil {
		return r.err
	}
	for _, d := range drops {
		if err := node.exec(ctx, d); err != nil {
			return err
		}
	}
	return nil
}
