package api

import (
	"cmp"
	"container/heap"
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	keeppolicy "github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// TraceAggregates (POST /roentgen/TraceAggregates) is a Roentgen operation,
// not an X-Ray one: what the console shows about many traces (counts, the
// response-time distribution, percentiles, top-N breakdowns, the traces
// sorted by a key) computed over every trace that matches a window and a
// filter expression, where GetTraceSummaries would have the client page
// through them all. It selects traces exactly as GetTraceSummaries does
// (same parser, same index terms, same store query), so its numbers equal a
// computation over every page of that search (docs/aggregates.md).

const (
	aggDefaultLimit   = 100
	aggMaxLimit       = 1000
	aggDefaultTopN    = 10
	aggMaxTopN        = 100
	aggDefaultBuckets = 40
	aggMaxBuckets     = 200
	// aggMaxKeys bounds the annotation keys broken down: the keys on most
	// traces win.
	aggMaxKeys = 20
	// aggMaxScan bounds one request's work; beyond it the answer says
	// Truncated and covers the newest traces scanned.
	aggMaxScan = 2_000_000
)

type traceAggregatesInput struct {
	StartTime        *Timestamp
	EndTime          *Timestamp
	TimeRangeType    string
	FilterExpression *string
	// SortBy orders Traces: ResponseTime, Duration or StartTime (default).
	SortBy    string
	Ascending bool
	// Limit is how many sorted traces to return (default 100, at most 1000).
	Limit *int
	// TopN bounds each breakdown and Slowest (default 10, at most 100).
	TopN *int
	// Buckets is the histogram's bucket count (default 40, at most 200).
	Buckets *int
	// HistogramFrom and HistogramTo fix the histogram's span (seconds), so
	// that two sets of traces can be drawn on the same buckets; values
	// outside it count in the first or last bucket.
	HistogramFrom *float64
	HistogramTo   *float64
	// TimeBuckets, when set (at most 1000), splits the window into that many
	// equal intervals by trace start time (OverTime).
	TimeBuckets int
}

// TimeBucket is the traces that started in [Start, End). Each counts once,
// by its worst state: fault, else throttle, else error, else ok.
type TimeBucket struct {
	Start, End                           float64
	Count, Ok, Faults, Throttles, Errors int64
	// MeanResponseTime is 0 when Count is.
	MeanResponseTime float64
	sum              float64
}

// Stats summarises a distribution in seconds. Percentiles are nearest-rank:
// Pq is the smallest value with at least q of the values at or below it.
type Stats struct {
	Min, Max, Mean, P50, P90, P95, P99 float64
}

// Bucket is one histogram bar: Count traces with Lower <= value < Upper
// (the last bucket includes its Upper).
type Bucket struct {
	Lower, Upper float64
	Count        int64
}

// ValueCount is one row of a breakdown: how many matching traces have Value.
type ValueCount struct {
	Value any
	Count int64
}

// KeyBreakdown is the values of one annotation key.
type KeyBreakdown struct {
	Key    string
	Count  int64 // traces with the key
	Values []ValueCount
}

type slowTrace struct {
	Id           string
	ResponseTime float64
}

type traceAggregatesOutput struct {
	TracesMatched   int64
	TracesProcessed int64
	Truncated       bool
	// NewestTraceTime is the epoch of the newest stored trace, matching or
	// not (0: the store is empty), so a client can tell "nothing in this
	// window" from "nothing at all".
	NewestTraceTime int64
	Faults          int64
	Errors          int64
	Throttles       int64
	ResponseTime    *Stats `json:",omitempty"`
	Duration        *Stats `json:",omitempty"`
	Histogram       []Bucket
	OverTime        []TimeBucket `json:",omitempty"`
	Slowest         []slowTrace
	Traces          []traceSummaryOut
	Urls            []ValueCount
	HttpStatuses    []ValueCount
	Users           []ValueCount
	EntryServices   []ValueCount
	// RootCauses is the services blamed by any root cause; the three
	// below by kind.
	RootCauses             []ValueCount
	FaultRootCauses        []ValueCount
	ErrorRootCauses        []ValueCount
	ResponseTimeRootCauses []ValueCount
	Annotations            []KeyBreakdown
}

func boundedInt(p *int, def, hi int, name string) (int, error) {
	if p == nil {
		return def, nil
	}
	if *p < 1 || *p > hi {
		return 0, invalid("%s must be between 1 and %d, not %d", name, hi, *p)
	}
	return *p, nil
}

func (s *Server) traceAggregates(ctx context.Context, in *traceAggregatesInput) (any, error) {
	// The same checks, in the same order and words, as GetTraceSummaries.
	if in.StartTime == nil || in.EndTime == nil {
		return nil, invalid("StartTime and EndTime are required")
	}
	start, end := float64(*in.StartTime), float64(*in.EndTime)
	if end <= start {
		return nil, invalid("EndTime (%s) must be after StartTime (%s)", ftoa(end), ftoa(start))
	}
	rangeType := in.TimeRangeType
	if rangeType == "" {
		rangeType = "TraceId"
	}
	if rangeType != "TraceId" && rangeType != "Event" && rangeType != "Service" {
		return nil, invalid("TimeRangeType must be TraceId, Event or Service, not %q", in.TimeRangeType)
	}
	var key func(*trace.Summary) float64
	switch in.SortBy {
	case "", "StartTime":
		key = func(s *trace.Summary) float64 { return s.StartTime }
	case "ResponseTime":
		key = func(s *trace.Summary) float64 { return round6(s.ResponseTime) }
	case "Duration":
		key = func(s *trace.Summary) float64 { return round6(s.Duration) }
	default:
		return nil, invalid("SortBy must be ResponseTime, Duration or StartTime, not %q", in.SortBy)
	}
	limit, err := boundedInt(in.Limit, aggDefaultLimit, aggMaxLimit, "Limit")
	if err != nil {
		return nil, err
	}
	topN, err := boundedInt(in.TopN, aggDefaultTopN, aggMaxTopN, "TopN")
	if err != nil {
		return nil, err
	}
	buckets, err := boundedInt(in.Buckets, aggDefaultBuckets, aggMaxBuckets, "Buckets")
	if err != nil {
		return nil, err
	}
	if in.TimeBuckets < 0 || in.TimeBuckets > 1000 {
		return nil, invalid("TimeBuckets must be between 0 and 1000, not %d", in.TimeBuckets)
	}
	if (in.HistogramFrom == nil) != (in.HistogramTo == nil) || in.HistogramFrom != nil && !(*in.HistogramTo > *in.HistogramFrom) {
		return nil, invalid("HistogramFrom and HistogramTo go together, with HistogramTo above HistogramFrom")
	}
	expr, q, none, err := s.searchQuery(in.FilterExpression, start, end, rangeType)
	if err != nil {
		return nil, err
	}

	a := newAggregator(key, in.Ascending, limit)
	if in.TimeBuckets > 0 {
		a.times = make([]TimeBucket, in.TimeBuckets)
		a.t0, a.tw = start, (end-start)/float64(in.TimeBuckets)
		for i := range a.times {
			a.times[i].Start, a.times[i].End = start+float64(i)*a.tw, start+float64(i+1)*a.tw
		}
	}
	indexed, err := s.indexingShare(ctx)
	if err != nil {
		return nil, err
	}
	out := traceAggregatesOutput{}
	scan := s.cfg.Store.Summaries
	if none || indexed <= 0 {
		scan = func(context.Context, store.SummaryQuery, func(*trace.Summary) bool) error { return nil }
	}
	err = scan(ctx, q, func(sum *trace.Summary) bool {
		if out.TracesProcessed >= aggMaxScan {
			out.Truncated = true
			return false
		}
		if out.TracesProcessed%4096 == 4095 && ctx.Err() != nil {
			return false
		}
		out.TracesProcessed++ // counted, so that the scan stays bounded
		if !keeppolicy.Indexed(sum.TraceID, indexed) {
			return true // not indexed for search (indexing.go)
		}
		switch rangeType {
		case "Event":
			if _, ok := eventIn(sum, start, end); !ok {
				return true
			}
		case "Service":
			if !serviceEndIn(sum, start, end) {
				return true
			}
		}
		if expr != nil && !expr.Match(sum) {
			return true
		}
		a.add(sum)
		return true
	})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.finish(&out, topN, buckets)
	if in.HistogramFrom != nil {
		out.Histogram = HistogramOver(a.rt, *in.HistogramFrom, *in.HistogramTo, buckets)
	}
	if out.NewestTraceTime, err = s.cfg.Store.LatestEpoch(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// ranked is one trace in the sorted selection.
type ranked struct {
	key float64
	pos store.Cursor
	sum *trace.Summary
}

// rankHeap keeps the best `limit` traces with the worst on top, so each
// new trace costs O(log limit).
type rankHeap struct {
	items []ranked
	asc   bool
}

// better orders the selection: by key (as the API rounds it), ties newest
// first (the search's order), so the answer does not depend on scan order.
func (h *rankHeap) better(a, b ranked) bool {
	if a.key != b.key {
		return (a.key < b.key) == h.asc
	}
	return b.pos.Before(a.pos)
}
func (h *rankHeap) Len() int           { return len(h.items) }
func (h *rankHeap) Less(i, j int) bool { return h.better(h.items[j], h.items[i]) }
func (h *rankHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *rankHeap) Push(x any)         { h.items = append(h.items, x.(ranked)) }
func (h *rankHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

type counter map[string]int64

type aggregator struct {
	key   func(*trace.Summary) float64
	limit int
	top   rankHeap
	slow  rankHeap // by response time, descending

	rt, du                         []float64
	faults, errors, throttles      int64
	urls, statuses, users, entries counter
	roots                          counter
	rootsBy                        [3]counter
	annKeys                        counter
	ann                            map[string]counter
	annVals                        map[string]map[string]any
	times                          []TimeBucket
	t0, tw                         float64
}

func newAggregator(key func(*trace.Summary) float64, asc bool, limit int) *aggregator {
	return &aggregator{key: key, limit: limit, top: rankHeap{asc: asc},
		urls: counter{}, statuses: counter{}, users: counter{}, entries: counter{}, roots: counter{},
		rootsBy: [3]counter{{}, {}, {}},
		annKeys: counter{}, ann: map[string]counter{}, annVals: map[string]map[string]any{}}
}

func keep(h *rankHeap, r ranked, n int) {
	if h.Len() < n {
		heap.Push(h, r)
	} else if h.better(r, h.items[0]) {
		h.items[0] = r
		heap.Fix(h, 0)
	}
}

func (a *aggregator) add(s *trace.Summary) {
	a.rt = append(a.rt, s.ResponseTime)
	a.du = append(a.du, s.Duration)
	if s.HasFault {
		a.faults++
	}
	if s.HasError {
		a.errors++
	}
	if s.HasThrottle {
		a.throttles++
	}
	if len(a.times) > 0 {
		b := &a.times[BucketOf(s.StartTime, a.t0, a.tw, len(a.times))]
		b.Count++
		b.sum += s.ResponseTime
		switch {
		case s.HasFault:
			b.Faults++
		case s.HasThrottle:
			b.Throttles++
		case s.HasError:
			b.Errors++
		default:
			b.Ok++
		}
	}
	pos := store.CursorOf(s)
	keep(&a.top, ranked{key: a.key(s), pos: pos, sum: s}, a.limit)
	keep(&a.slow, ranked{key: round6(s.ResponseTime), pos: pos, sum: s}, aggMaxTopN)
	if s.HTTP.URL != "" {
		a.urls[s.HTTP.URL]++
	}
	if s.HTTP.Status != 0 {
		a.statuses[strconv.Itoa(s.HTTP.Status)]++
	}
	if s.EntryPoint >= 0 && s.EntryPoint < len(s.Nodes) {
		a.entries[s.Nodes[s.EntryPoint].Name]++
	}
	once(a.users, len(s.Users), func(i int) string { return s.Users[i].Name })
	var roots []string
	for k, rcs := range [][]trace.RootCause{s.FaultRootCauses, s.ErrorRootCauses, s.ResponseTimeRootCauses} {
		var these []string
		for _, rc := range rcs {
			for _, svc := range rc.Services {
				these = append(these, svc.Name)
			}
		}
		once(a.rootsBy[k], len(these), func(i int) string { return these[i] })
		roots = append(roots, these...)
	}
	once(a.roots, len(roots), func(i int) string { return roots[i] })
	once(a.annKeys, len(s.Annotations), func(i int) string { return s.Annotations[i].Key })
	seen := map[[2]string]bool{}
	for _, an := range s.Annotations {
		v, ok := annotationKey(an.Value)
		if !ok || seen[[2]string{an.Key, v}] {
			continue
		}
		seen[[2]string{an.Key, v}] = true
		if a.ann[an.Key] == nil {
			a.ann[an.Key] = counter{}
			a.annVals[an.Key] = map[string]any{}
		}
		a.ann[an.Key][v]++
		a.annVals[an.Key][v] = an.Value
	}
}

// once counts each distinct non-empty value of a trace once.
func once(c counter, n int, at func(int) string) {
	if n == 1 { // the common case, without a set
		if v := at(0); v != "" {
			c[v]++
		}
		return
	}
	seen := make(map[string]bool, n)
	for i := range n {
		if v := at(i); v != "" && !seen[v] {
			seen[v] = true
			c[v]++
		}
	}
}

// annotationKey tells annotation values apart by type and value, so the
// string "1" and the number 1 are counted separately.
func annotationKey(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return "s" + x, true
	case float64:
		return "n" + strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return "b" + strconv.FormatBool(x), true
	}
	return "", false
}

// topOf is a breakdown's n largest counts, ties by value, so answers are
// deterministic.
func topOf(c counter, n int, value func(string) any) []ValueCount {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c[a] != c[b] {
			return cmp.Compare(c[b], c[a])
		}
		return strings.Compare(a, b)
	})
	out := []ValueCount{}
	for _, k := range keys[:min(n, len(keys))] {
		out = append(out, ValueCount{Value: value(k), Count: c[k]})
	}
	return out
}

func same(k string) any { return k }

// sortedHeap empties a heap into best-first order.
func sortedHeap(h *rankHeap) []ranked {
	out := make([]ranked, h.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(h).(ranked)
	}
	return out
}

func (a *aggregator) finish(out *traceAggregatesOutput, topN, buckets int) {
	out.TracesMatched = int64(len(a.rt))
	out.Faults, out.Errors, out.Throttles = a.faults, a.errors, a.throttles
	out.Histogram = Histogram(a.rt, buckets)
	for i := range a.times {
		if b := &a.times[i]; b.Count > 0 {
			b.MeanResponseTime = round6(b.sum / float64(b.Count))
		}
	}
	out.OverTime = a.times
	if len(a.rt) > 0 {
		out.ResponseTime = statsOf(a.rt)
		out.Duration = statsOf(a.du)
	}
	out.Traces = []traceSummaryOut{}
	for _, r := range sortedHeap(&a.top) {
		out.Traces = append(out.Traces, summaryOutput(r.sum))
	}
	out.Slowest = []slowTrace{}
	slow := sortedHeap(&a.slow)
	for _, r := range slow[:min(topN, len(slow))] {
		out.Slowest = append(out.Slowest, slowTrace{Id: r.sum.TraceID, ResponseTime: round6(r.sum.ResponseTime)})
	}
	out.Urls = topOf(a.urls, topN, same)
	out.HttpStatuses = topOf(a.statuses, topN, func(k string) any { n, _ := strconv.Atoi(k); return n })
	out.Users = topOf(a.users, topN, same)
	out.EntryServices = topOf(a.entries, topN, same)
	out.RootCauses = topOf(a.roots, topN, same)
	out.FaultRootCauses = topOf(a.rootsBy[0], topN, same)
	out.ErrorRootCauses = topOf(a.rootsBy[1], topN, same)
	out.ResponseTimeRootCauses = topOf(a.rootsBy[2], topN, same)
	out.Annotations = []KeyBreakdown{}
	for _, kc := range topOf(a.annKeys, aggMaxKeys, same) {
		k := kc.Value.(string)
		vals := a.annVals[k]
		out.Annotations = append(out.Annotations, KeyBreakdown{Key: k, Count: kc.Count,
			Values: topOf(a.ann[k], topN, func(v string) any { return vals[v] })})
	}
}

// statsOf sorts v in place.
func statsOf(v []float64) *Stats {
	slices.Sort(v)
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	return &Stats{Min: round6(v[0]), Max: round6(v[len(v)-1]), Mean: round6(sum / float64(len(v))),
		P50: round6(Percentile(v, 0.5)), P90: round6(Percentile(v, 0.9)), P95: round6(Percentile(v, 0.95)), P99: round6(Percentile(v, 0.99))}
}

// Percentile is the nearest-rank percentile of sorted values.
func Percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Histogram puts values into n equal buckets from their minimum to their
// maximum (one bucket when all are equal; none when there are no values).
func Histogram(v []float64, n int) []Bucket {
	if len(v) == 0 {
		return []Bucket{}
	}
	lo, hi := slices.Min(v), slices.Max(v)
	if hi == lo {
		return []Bucket{{Lower: round6(lo), Upper: round6(hi), Count: int64(len(v))}}
	}
	return HistogramOver(v, lo, hi, n)
}

// HistogramOver puts values into n equal buckets spanning [lo, hi].
func HistogramOver(v []float64, lo, hi float64, n int) []Bucket {
	w := (hi - lo) / float64(n)
	out := make([]Bucket, n)
	for i := range out {
		out[i] = Bucket{Lower: round6(lo + float64(i)*w), Upper: round6(lo + float64(i+1)*w)}
	}
	out[n-1].Upper = round6(hi)
	for _, x := range v {
		out[BucketOf(x, lo, w, n)].Count++
	}
	return out
}

// BucketOf is the bucket of x in a histogram of n buckets of width w from lo.
func BucketOf(x, lo, w float64, n int) int {
	return max(0, min(int((x-lo)/w), n-1))
}
