package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Candidates per query of a scan: the first query takes few, since a page
// of GetTraceSummaries wants 100 summaries, and each next one more, up to
// tracesPerQuery, for a filter that matches few of its candidates.
const (
	firstCandidates = 128
	candidateGrowth = 4
)

// Summaries implements store.Store. A trace is listed by its newest
// summary. Each round reads, newest first, a bounded number of candidates
// (epoch, trace, version) in the time range: index-term rows with AnyOf or
// AnyIn, else summary rows; then the summaries of those traces alone are
// read, by key. The summaries table holds a row per summary version, so a
// summary row counts only if its version is its trace's newest. A version
// writes only the terms its trace did not carry before in that epoch
// (addedTerms), so a term row counts if its epoch is the newest summary's
// and that summary still carries a term of every set of the query (a term
// the trace lost stays in the table, as in the embedded store). The cost of a round
// is thus its candidates', not the range's: the term rows of a value sit
// together in the terms table (ORDER BY field, value, epoch), and the
// summaries are read by trace id through the primary key.
func (s *Store) Summaries(ctx context.Context, q store.SummaryQuery, fn func(*trace.Summary) bool) error {
	if q.From >= q.To {
		return nil
	}
	after := q.After
	// Partitions are read newest first, one, then four times as many as
	// the window before: a page of a selective filter over ten hours
	// usually fills from the newest hour, and every partition read costs
	// a look at each of its parts.
	first, last := int64(part(q.From)), int64(part(q.To-1))
	if !after.IsZero() && after.Epoch < q.To {
		last = max(first, int64(part(after.Epoch)))
	}
	width := int64(1)
	lo := max(first, last-(width-1)*store.PartitionSeconds)
	lead, rest, any, none := q.Conjunction()
	if none {
		return nil
	}
	table, where := "summaries", ""
	if any {
		table, where = "terms", " AND ("+termCond(lead)+")"
	}
	// A further set of a conjunction: the candidate's trace carries one of
	// its terms too, checked in the same query (and again on the summary).
	var also []string
	for _, set := range rest {
		also = append(also, termCond(set))
	}
	type candidate struct {
		epoch int64
		trace string
		ver   uint64
	}
	limit := firstCandidates
	for {
		var cursor string
		if !after.IsZero() {
			cursor = fmt.Sprintf(" AND epoch <= %d AND (epoch < %d OR trace < %s)", after.Epoch, after.Epoch, quote(after.TraceID))
		}
		// Newest first; of one trace's versions in one second, the
		// newest first, so a round that stops among them has seen it.
		rng := fmt.Sprintf("p >= %d AND p <= %d AND epoch >= %d AND epoch < %d", lo, last, q.From, q.To)
		var conj string
		for _, c := range also {
			conj += fmt.Sprintf(" AND trace IN (SELECT trace FROM terms WHERE %s AND (%s))", rng, c)
		}
		r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT DISTINCT epoch, trace, ver FROM %s WHERE %s%s%s%s
			ORDER BY epoch DESC, trace DESC, ver DESC LIMIT %d`, table, rng, where, conj, cursor, limit))
		if err != nil {
			return err
		}
		var cands []candidate
		ids := map[string]bool{}
		for r.more() {
			c := candidate{epoch: r.i64(), trace: r.str(), ver: r.u64()}
			if r.err == nil {
				cands = append(cands, c)
				ids[c.trace] = true
			}
		}
		if r.err != nil {
			return r.err
		}
		var newest map[string]newestSummary
		if len(cands) > 0 {
			if newest, err = s.newestSummaries(ctx, ids); err != nil {
				return err
			}
		}
		for _, c := range cands {
			n, ok := newest[c.trace]
			if !ok || any && n.epoch != c.epoch || !any && n.ver != c.ver {
				continue // an older version's row, or one not yet readable
			}
			sum, err := trace.DecodeSummary(n.sum)
			if err != nil {
				return fmt.Errorf("clickhouse: summary of trace %s: %w", c.trace, err)
			}
			if any && !carries(sum, lead, rest) {
				continue // a term the trace has lost since
			}
			delete(newest, c.trace) // listed once
			if !fn(sum) {
				return nil
			}
		}
		if len(cands) < limit {
			// The window is done: on to the partitions before it.
			if lo <= first {
				return nil
			}
			last = lo - store.PartitionSeconds
			after = store.Cursor{} // the window's partitions are all before lo
			width *= candidateGrowth
			lo = max(first, last-(width-1)*store.PartitionSeconds)
			continue
		}
		c := cands[len(cands)-1]
		after = store.Cursor{Epoch: c.epoch, TraceID: c.trace}
		limit = min(limit*candidateGrowth, tracesPerQuery)
	}
}

// termCond is the condition that a terms row is indexed under a term of
// set.
func termCond(set store.TermSet) string {
	var any []string
	if len(set.Terms) > 0 {
		terms := make([]string, len(set.Terms))
		for i, t := range set.Terms {
			terms[i] = "(" + quote(t.Field) + ", " + quote(t.Value) + ")"
		}
		any = append(any, "(field, value) IN ("+strings.Join(terms, ", ")+")")
	}
	for _, r := range set.Ranges { // numeric terms, whose values sort as their numbers
		any = append(any, fmt.Sprintf("(field = %s AND value >= %s AND value <= %s)", quote(r.Field), quote(r.From), quote(r.To)))
	}
	return strings.Join(any, " OR ")
}

// carries reports whether sum is indexed under a term of lead and of each
// set of rest.
func carries(sum *trace.Summary, lead store.TermSet, rest []store.TermSet) bool {
	terms := store.TermsOf(sum)
	for _, set := range append([]store.TermSet{lead}, rest...) {
		if !slices.ContainsFunc(terms, set.Has) {
			return false
		}
	}
	return true
}

// addedTerms are those of terms (u.Summary's, sorted as store.TermsOf
// returns them) that u.Previous does not carry under the same epoch: the
// rows a version must write. A trace that moved epoch writes them all.
func addedTerms(u *store.TraceUpdate, terms []store.Term) []store.Term {
	p := u.Previous
	if p == nil || p.Epoch != u.Epoch {
		return terms
	}
	old := store.TermsOf(p)
	out := terms[:0:0]
	i := 0
	for _, t := range terms {
		for i < len(old) && (old[i].Field < t.Field || old[i].Field == t.Field && old[i].Value < t.Value) {
			i++
		}
		if i < len(old) && old[i] == t {
			continue
		}
		out = append(out, t)
	}
	return out
}

type newestSummary struct {
	epoch int64
	ver   uint64
	sum   []byte
}

// newestSummaries reads the newest summary of each of ids, by key.
func (s *Store) newestSummaries(ctx context.Context, ids map[string]bool) (map[string]newestSummary, error) {
	q := make([]string, 0, len(ids))
	for id := range ids {
		q = append(q, id)
	}
	r, err := s.c.selectRows(ctx, `SELECT trace, argMax(epoch, ver), max(ver), argMax(sum, ver) FROM summaries PREWHERE trace IN `+
		inSet(q)+` GROUP BY trace`)
	if err != nil {
		return nil, err
	}
	out := make(map[string]newestSummary, len(ids))
	for r.more() {
		id, ep, v, b := r.str(), r.i64(), r.u64(), r.raw()
		if r.err == nil {
			out[id] = newestSummary{epoch: ep, ver: v, sum: b}
		}
	}
	return out, r.err
}
