package red

import (
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roentgen-tracing/roentgen/internal/graph"
)

// Buckets of the classic duration histograms, in seconds. Scrapers that
// ask for protobuf also get a native histogram (finer, exponential).
var Buckets = bucketBounds[:]

// family is the counters and the histogram of one kind (service or edge)
// and the label sets admitted to them.
type family struct {
	labels                             []string
	requests, errors, faults, throttle *prometheus.CounterVec
	duration                           *prometheus.Desc     // the series' histograms are the label sets'
	sets                               map[string]*labelSet // admitted, by joined labels
	// entities maps the graph's entities to their admitted label sets, so
	// that a request costs no parsing nor joining (several entities may
	// share a set: nodes differing only in account).
	entities map[graph.Entity]*labelSet
	// hot finds entities' sets by the address of their bytes before the
	// map: the graph interns a batch's entities, so one string names an
	// entity in all of a batch's changes, and comparing its address costs
	// less than hashing it per request (~1k instructions per
	// single-segment trace). Cleared whenever entities loses one.
	hot      [hotEntities]hotEntity
	labelsOf func(graph.Entity) ([]string, bool)
	other    *labelSet   // the overflow series, once used
	mu       *sync.Mutex // Metrics.mu: guards the sets and their exemplars
}

type labelSet struct {
	values []string
	last   time.Time
	// The series, looked up once: hashing the labels on every request
	// was a quarter of the hook's cost.
	requests, errors, faults, throttles prometheus.Counter
	duration                            histogram
	// exAt starts the current exemplar interval; exMax is the largest
	// value given an exemplar in it.
	exAt  time.Time
	exMax float64
	// The latest exemplar of each classic bucket (+Inf last), held here
	// and attached when the histogram is written (durations.Collect):
	// client_golang's ObserveWithExemplar allocates ~7 objects per exemplar
	// and keeps the trace id string of the summary it came from, and those
	// live objects, made all through a load, left thousands of mostly
	// empty heap spans resident once it stopped (docs/performance.md).
	exemplars [len(bucketBounds) + 1]exemplar
}

// bucketBounds is Buckets as an array type's length.
var bucketBounds = [...]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// maxTraceID bounds the trace ids exemplars keep (X-Ray's are 35 bytes);
// a longer one is given no exemplar rather than a cut one.
const maxTraceID = 48

// exemplar is a trace id observed at a value, in place.
type exemplar struct {
	at    int64 // Unix ns; 0: none yet
	value float64
	n     uint8
	id    [maxTraceID]byte
}

// observeExemplar records id's value as the latest exemplar of its bucket
// (the bucket client_golang, and a scraper, files it under: the first
// whose upper bound is at least the value).
func (s *labelSet) observeExemplar(v float64, id string, now time.Time) {
	if len(id) > maxTraceID {
		return
	}
	e := &s.exemplars[classicBucket(v)]
	e.at, e.value, e.n = now.UnixNano(), v, uint8(copy(e.id[:], id))
}

// metric is the series' histogram at now with its exemplars attached,
// oldest first (the order Prometheus wants a native histogram's in).
func (s *labelSet) metric(desc *prometheus.Desc, now time.Time) prometheus.Metric {
	var h prometheus.Metric = &written{desc: desc, labels: prometheus.MakeLabelPairs(desc, s.values), his: s.duration.write(now)}
	var exs []prometheus.Exemplar
	for i := range s.exemplars {
		if e := &s.exemplars[i]; e.at != 0 {
			exs = append(exs, prometheus.Exemplar{Value: e.value, Timestamp: time.Unix(0, e.at),
				Labels: prometheus.Labels{"trace_id": string(e.id[:e.n])}})
		}
	}
	if len(exs) == 0 {
		return h
	}
	slices.SortStableFunc(exs, func(a, b prometheus.Exemplar) int { return a.Timestamp.Compare(b.Timestamp) })
	m, err := prometheus.NewMetricWithExemplars(h, exs...)
	if err != nil { // not with ids of at most maxTraceID bytes
		return h
	}
	return m
}

// durations collects a family's duration histograms with the exemplars
// their label sets hold.
type durations struct {
	f   *family
	now func() time.Time
}

func (d durations) Describe(ch chan<- *prometheus.Desc) { ch <- d.f.duration }

func (d durations) Collect(ch chan<- prometheus.Metric) {
	d.f.mu.Lock()
	now := d.now()
	out := make([]prometheus.Metric, 0, len(d.f.sets)+1)
	for _, s := range d.f.sets {
		out = append(out, s.metric(d.f.duration, now))
	}
	if d.f.other != nil {
		out = append(out, d.f.other.metric(d.f.duration, now))
	}
	d.f.mu.Unlock()
	for _, m := range out {
		ch <- m
	}
}

// ExemplarEvery is how often a series takes an exemplar for an ordinary
// request: making one costs more than the rest of a request's update, and
// a scrape keeps only the latest per bucket anyway. A request slower than
// every other given one in the interval takes one regardless, so the
// outliers one looks for in the slow buckets keep theirs.
const ExemplarEvery = 100 * time.Millisecond

func (f *family) newSet(values []string, now time.Time) *labelSet {
	return &labelSet{values: values,
		requests: f.requests.WithLabelValues(values...), errors: f.errors.WithLabelValues(values...),
		faults: f.faults.WithLabelValues(values...), throttles: f.throttle.WithLabelValues(values...),
		duration: newHistogram(now)}
}

func newFamily(mu *sync.Mutex, kind, what string, labels []string, labelsOf func(graph.Entity) ([]string, bool)) *family {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roentgen_" + kind + "_" + name + "_total", Help: help + " per " + what + "."}, labels)
	}
	return &family{
		labels:   labels,
		requests: counter("requests", "Completed requests"),
		errors:   counter("errors", "Requests that answered an error, throttles included (X-Ray's ErrorStatistics.TotalCount),"),
		faults:   counter("faults", "Requests that answered a fault"),
		throttle: counter("throttles", "Requests that were throttled"),
		// A classic and native histogram as client_golang's HistogramVec
		// with the options of histogram.go's constants made it, held in
		// the label sets (labelSet.duration) with their exemplars.
		duration: prometheus.NewDesc("roentgen_"+kind+"_duration_seconds",
			"Response time of completed requests per "+what+"; exemplars carry trace ids.", labels, nil),
		sets: map[string]*labelSet{}, entities: map[graph.Entity]*labelSet{}, labelsOf: labelsOf, mu: mu,
	}
}

func (f *family) register(reg prometheus.Registerer, now func() time.Time) {
	reg.MustRegister(f.requests, f.errors, f.faults, f.throttle, durations{f, now})
}

type added struct{ overflow int64 }

// observe counts the growth in d (one trace's change to one node or edge)
// under labels, or under Other when labels is new and limit label sets are
// admitted. Counters only grow: what d takes back is returned as retracted.
func (f *family) observe(e graph.Entity, d *graph.Stats, traceID string, limit int, now time.Time) (a added, retracted int64) {
	req, errs, faults, thr := d.Total(), d.ErrorOther+d.Throttle, d.Fault, d.Throttle
	retracted = max(0, -req)
	grows := req > 0 || errs > 0 || faults > 0 || thr > 0
	for _, b := range d.Response {
		grows = grows || b.Count > 0
	}
	if !grows {
		return a, retracted
	}
	set := f.entityOf(e)
	if set == nil {
		labels, ok := f.labelsOf(e)
		if !ok {
			return a, retracted
		}
		set = f.admit(labels, limit, now)
		if set != f.other {
			f.entities[e] = set
		}
	}
	set.last = now
	if set == f.other {
		a.overflow = max(0, req)
	}
	add := func(c prometheus.Counter, n int64) {
		if n > 0 {
			c.Add(float64(n))
		}
	}
	add(set.requests, req)
	add(set.errors, errs)
	add(set.faults, faults)
	add(set.throttles, thr)
	// Exemplars go on the histogram only, as Tempo's metrics-generator
	// puts them.
	for _, b := range d.Response {
		v := float64(b.Ms) / 1e3
		for range b.Count { // usually 1: one trace's requests to one node
			set.duration.observeMs(v, b.Ms, now)
			switch {
			case now.Sub(set.exAt) >= ExemplarEvery:
				set.exAt, set.exMax = now, v
			case v > set.exMax:
				set.exMax = v
			default:
				continue
			}
			set.observeExemplar(v, traceID, now)
		}
	}
	return a, retracted
}

// hotEntities is the size of family.hot: a few times the entities a
// batch's changes usually name.
const hotEntities = 256

// hotEntity is an entity string and its set. The entry keeps the string's
// bytes alive, so another string at the same address and of the same
// length is the same bytes: the address and length compared are a
// comparison of contents.
type hotEntity struct {
	e   graph.Entity
	set *labelSet
}

// entityOf is f.entities[e], through f.hot.
func (f *family) entityOf(e graph.Entity) *labelSet {
	if len(e) == 0 {
		return f.entities[e]
	}
	p := unsafe.StringData(string(e))
	h := &f.hot[uint64(uintptr(unsafe.Pointer(p)))*0x9e3779b97f4a7c15>>56%hotEntities]
	if len(h.e) == len(e) && unsafe.StringData(string(h.e)) == p {
		return h.set
	}
	set := f.entities[e]
	if set != nil {
		*h = hotEntity{e, set}
	}
	return set
}

// admit returns the label set to count under: labels' own if admitted or
// if there is room, else Other's.
func (f *family) admit(labels []string, limit int, now time.Time) *labelSet {
	key := strings.Join(labels, "\x00")
	s := f.sets[key]
	switch {
	case s != nil:
	case len(f.sets) < limit:
		s = f.newSet(labels, now)
		f.sets[key] = s
	default:
		if f.other == nil {
			o := make([]string, len(f.labels))
			for i := range o {
				o[i] = Other
			}
			f.other = f.newSet(o, now)
		}
		s = f.other
	}
	s.last = now
	return s
}

// sweep drops the series of label sets last counted in before cutoff.
func (f *family) sweep(cutoff time.Time) {
	drop := func(s *labelSet) {
		for _, v := range []*prometheus.CounterVec{f.requests, f.errors, f.faults, f.throttle} {
			v.DeleteLabelValues(s.values...)
		}
	}
	dropped := false
	for k, s := range f.sets {
		if s.last.Before(cutoff) {
			drop(s)
			delete(f.sets, k)
			dropped = true
		}
	}
	if dropped {
		f.hot = [hotEntities]hotEntity{}
		for e, s := range f.entities {
			if f.sets[strings.Join(s.values, "\x00")] != s {
				delete(f.entities, e)
			}
		}
	}
	if f.other != nil && f.other.last.Before(cutoff) {
		drop(f.other)
		f.other = nil
	}
}
