// Package red exports RED metrics (rate, errors, duration) per service and
// per edge of the service graph on /metrics, as Prometheus counters and
// histograms whose exemplars carry trace ids (docs/metrics.md).
//
// It is fed by an ingest hook with every summarised trace and counts what
// the service graph counts (graph.Contribute), so its series agree with
// GetServiceGraph. A trace summarised again (late segments) adds only what
// changed: the contribution of the new summary minus the previous one's.
package red

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Defaults of Config.
const (
	DefaultLimit = 1000
	DefaultIdle  = 15 * time.Minute
)

// Other is the label value of every label of the series that takes what
// does not fit under the limit.
const Other = "__other__"

// Config configures the RED metrics.
type Config struct {
	// Limit bounds the label sets of the service families and, separately,
	// of the edge families (each then holds at most Limit+1 series, the
	// last being Other's). 0 means DefaultLimit.
	Limit int
	// Idle: a label set not counted in for this long is dropped, freeing
	// its place under Limit (as Tempo's metrics-generator drops stale
	// series). 0 means DefaultIdle; negative keeps series forever.
	Idle time.Duration
	// Now overrides the clock (tests).
	Now func() time.Time
}

// Metrics holds the RED collectors and the label sets admitted.
type Metrics struct {
	cfg      Config
	service  *family
	edge     *family
	overflow *prometheus.CounterVec // kind
	retract  *prometheus.CounterVec // kind

	mu        sync.Mutex
	lastSweep time.Time
	acc       map[graph.Entity]*graph.Stats // reused by Hook
	free      []*graph.Stats                // reused by Hook
}

// New registers the RED collectors in reg.
func New(reg prometheus.Registerer, cfg Config) *Metrics {
	if cfg.Limit <= 0 {
		cfg.Limit = DefaultLimit
	}
	if cfg.Idle == 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Metrics{
		cfg: cfg,
		overflow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roentgen_red_overflow_requests_total",
			Help: "Requests counted under the __other__ series because the RED series limit was reached, by kind (service, edge)."}, []string{"kind"}),
		retract: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roentgen_red_retracted_requests_total",
			Help: "Requests the service graph took back (a trace's later version moved or removed them) that RED counters, which only grow, keep; by kind."}, []string{"kind"}),
		acc: map[graph.Entity]*graph.Stats{},
	}
	m.service = newFamily(&m.mu, "service", "service", []string{"service", "type"}, nodeLabels)
	m.edge = newFamily(&m.mu, "edge", "edge (from client to server, as the caller saw it)", []string{"client", "client_type", "server", "server_type"}, edgeLabels)
	for _, k := range []string{"service", "edge"} {
		m.overflow.WithLabelValues(k)
		m.retract.WithLabelValues(k)
	}
	reg.MustRegister(m.overflow, m.retract)
	m.service.register(reg, cfg.Now)
	m.edge.register(reg, cfg.Now)
	return m
}

// Hook is an ingest hook (ingest.Ingester.AddHook): it counts what each
// update adds to the service graph, computing it. The app counts through
// Observe instead, which is given what the statistics computed.
func (m *Metrics) Hook(_ context.Context, updates []store.TraceUpdate) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.begin()
	for _, u := range updates {
		if u.Summary == nil {
			continue
		}
		m.count(u.Summary, u.Previous, now)
	}
}

// Observe is the service graph's observer (graph.Aggregator.AddObserver):
// it counts each stored update's changes, which the graph computed with
// its statistics, as Hook counts them.
func (m *Metrics) Observe(updates []store.TraceUpdate, changes func(i int) []graph.Change) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.begin()
	for i, u := range updates {
		if u.Summary == nil {
			continue
		}
		for _, c := range changes(i) {
			m.observe(c.Entity, c.Stats, u.Summary.TraceID, now)
		}
	}
}

// begin starts counting a batch (m.mu held): it sweeps first, so that what
// is idle makes room for what comes now.
func (m *Metrics) begin() time.Time {
	now := m.cfg.Now()
	if m.cfg.Idle > 0 && now.Sub(m.lastSweep) >= time.Minute {
		m.lastSweep = now
		m.service.sweep(now.Add(-m.cfg.Idle))
		m.edge.sweep(now.Add(-m.cfg.Idle))
	}
	return now
}

// count adds Contribute(sum) − Contribute(prev), summed over minutes, per
// node and edge.
func (m *Metrics) count(sum, prev *trace.Summary, now time.Time) {
	for _, d := range m.acc {
		*d = graph.Stats{Response: d.Response[:0], Duration: d.Duration[:0]}
		m.free = append(m.free, d)
	}
	clear(m.acc)
	add := func(k graph.Key, st *graph.Stats) {
		d := m.acc[k.Entity]
		if d == nil {
			if n := len(m.free); n > 0 {
				d, m.free = m.free[n-1], m.free[:n-1]
			} else {
				d = &graph.Stats{}
			}
			m.acc[k.Entity] = d
		}
		d.Add(st, 1)
	}
	graph.Contribute(prev, -1, add)
	graph.Contribute(sum, 1, add)
	for e, d := range m.acc {
		m.observe(e, d, sum.TraceID, now)
	}
}

// observe counts one trace's change d to one node or edge.
func (m *Metrics) observe(e graph.Entity, d *graph.Stats, traceID string, now time.Time) {
	f, kind := m.service, "service"
	if e.IsEdge() {
		f, kind = m.edge, "edge"
	}
	added, retracted := f.observe(e, d, traceID, m.cfg.Limit, now)
	if retracted > 0 {
		m.retract.WithLabelValues(kind).Add(float64(retracted))
	}
	if added.overflow > 0 {
		m.overflow.WithLabelValues(kind).Add(float64(added.overflow))
	}
}

func nodeLabels(e graph.Entity) ([]string, bool) {
	n := e.Node()
	return []string{n.Name, n.Type}, true
}

func edgeLabels(e graph.Entity) ([]string, bool) {
	from, to, ok := e.Edge()
	return []string{from.Name, from.Type, to.Name, to.Type}, ok
}
