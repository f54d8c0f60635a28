// Package insightstest generates the workload the insights detector is
// measured on: a small shop's traffic, minute by minute, with incidents
// injected at chosen services, written into a store as the service graph's
// statistics (what ingest would have written for those traces). It is
// deterministic for a seed.
package insightstest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Services of the shop. frontend and admin are entry points; carts,
// products and users are DynamoDB tables and bank a remote API, all
// inferred from their callers' subsegments.
//
//	client → frontend → catalog → products
//	                  → cart → carts            (cart's failures are hidden from users)
//	                  → checkout → payments → bank
//	client → admin → users                      (a couple of requests a minute)
var (
	Frontend = trace.NodeID{Name: "frontend", Type: "AWS::EC2::Instance"}
	Catalog  = trace.NodeID{Name: "catalog", Type: "AWS::ECS::Container"}
	Cart     = trace.NodeID{Name: "cart", Type: "AWS::ECS::Container"}
	Checkout = trace.NodeID{Name: "checkout", Type: "AWS::ECS::Container"}
	Payments = trace.NodeID{Name: "payments", Type: "AWS::Lambda::Function"}
	Admin    = trace.NodeID{Name: "admin", Type: "AWS::EC2::Instance"}
	Products = trace.NodeID{Name: "products", Type: "AWS::DynamoDB::Table"}
	Carts    = trace.NodeID{Name: "carts", Type: "AWS::DynamoDB::Table"}
	Users    = trace.NodeID{Name: "users", Type: "AWS::DynamoDB::Table"}
	Bank     = trace.NodeID{Name: "bank.example.com", Type: "remote"}
)

// Incident raises a service's own fault probability over [Start, End).
type Incident struct {
	Service    trace.NodeID
	Start, End time.Time
	FaultRate  float64
}

// Workload is the generator.
type Workload struct {
	rnd *rand.Rand
	// PerMinute is the mean number of frontend requests a minute.
	PerMinute int
	Incidents []Incident
	// Diurnal swings traffic over the day (±60 % around PerMinute);
	// Wander lets each service's steady rates drift (a mean-reverting
	// random walk of the log rate with this step a minute; 0.05 keeps the
	// rates within about ±20 %, 1 σ): real traffic
	// is not a constant binomial, and the false-positive measurement
	// should not pretend it is.
	Diurnal bool
	Wander  float64
	// Groups are the groups the statistics are written for (Default when
	// empty): every trace of the shop belongs to each.
	Groups []string
	traces int
	drift  map[trace.NodeID]float64
}

// New returns a workload of about 60 frontend requests a minute.
func New(seed uint64, incidents ...Incident) *Workload {
	return &Workload{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), PerMinute: 60, Incidents: incidents}
}

// own is a service's probabilities of failing by itself: fault, 4xx
// error, throttle.
type own struct{ fault, err, throttle float64 }

var steady = map[trace.NodeID]own{
	Frontend: {0.002, 0.03, 0},
	Catalog:  {0.005, 0.01, 0},
	Cart:     {0.003, 0.01, 0},
	Checkout: {0.004, 0.02, 0},
	Payments: {0.01, 0.02, 0},
	Admin:    {0.01, 0.05, 0},
	Products: {0.001, 0, 0.005},
	Carts:    {0.001, 0, 0.005},
	Users:    {0.001, 0, 0.01},
	Bank:     {0.02, 0.01, 0},
}

// propagates: does a caller fail its own request when a call to the
// callee faults?
var propagates = map[[2]trace.NodeID]float64{
	{Frontend, Catalog}:  1,
	{Frontend, Cart}:     0, // the page renders without the cart
	{Frontend, Checkout}: 1,
	{Checkout, Payments}: 1,
	{Payments, Bank}:     0.5, // retried
	{Catalog, Products}:  1,
	{Cart, Carts}:        1,
	{Admin, Users}:       1,
}

// builder assembles one trace's summary.
type builder struct {
	w   *Workload
	at  float64
	sum *trace.Summary
	idx map[trace.NodeID]int
}

func (b *builder) node(id trace.NodeID, root bool) int {
	if i, ok := b.idx[id]; ok {
		return i
	}
	inferred := id.Type == "AWS::DynamoDB::Table" || id.Type == "remote"
	b.sum.Nodes = append(b.sum.Nodes, trace.Node{NodeID: id, Names: []string{id.Name}, Root: root, Inferred: inferred})
	b.idx[id] = len(b.sum.Nodes) - 1
	return len(b.sum.Nodes) - 1
}

// call serves a request at service id (called by caller, or an entry
// point when caller is -1) and reports whether it faulted.
func (b *builder) call(caller int, id trace.NodeID, calls func() bool) bool {
	w := b.w
	i := b.node(id, caller < 0)
	p := steady[id]
	if f := math.Exp(w.drift[id]); f != 1 {
		p.fault, p.err, p.throttle = p.fault*f, p.err*f, p.throttle*f
	}
	for _, inc := range w.Incidents {
		if inc.Service == id && b.at >= float64(inc.Start.Unix()) && b.at < float64(inc.End.Unix()) {
			p.fault = inc.FaultRate
		}
	}
	start := b.at
	fault := w.rnd.Float64() < p.fault
	if calls != nil && calls() {
		fault = true
	}
	var errd, thr bool
	if !fault {
		r := w.rnd.Float64()
		thr = r < p.throttle
		errd = !thr && r < p.throttle+p.err
	}
	b.at += 0.001
	w.rnd.Uint64() // drawn for the segment id summaries held once: a seed still makes the workload it made
	b.sum.Segments = append(b.sum.Segments, trace.SegmentFact{Node: i, Root: caller < 0,
		Inferred: b.sum.Nodes[i].Inferred, Fault: fault, Error: errd || thr, Throttle: thr, Start: start, End: b.at})
	if caller >= 0 {
		b.sum.Edges = append(b.sum.Edges, trace.Edge{From: caller, To: i, Fault: fault, Error: errd || thr, Throttle: thr, Start: start, End: b.at})
	}
	return fault
}

// sub calls callee from caller and reports whether the caller fails for it.
func (b *builder) sub(caller trace.NodeID, callee trace.NodeID, next func() bool) bool {
	f := b.call(b.idx[caller], callee, next)
	return f && b.w.rnd.Float64() < propagates[[2]trace.NodeID{caller, callee}]
}

func (w *Workload) trace(at float64, admin bool) *trace.Summary {
	w.traces++
	b := &builder{w: w, at: at, idx: map[trace.NodeID]int{},
		sum: &trace.Summary{TraceID: fmt.Sprintf("1-%08x-%024x", int64(at), w.traces), Epoch: int64(at), StartTime: at}}
	if admin {
		b.call(-1, Admin, func() bool { return b.sub(Admin, Users, nil) })
	} else {
		b.call(-1, Frontend, func() bool {
			f := b.sub(Frontend, Catalog, func() bool { return b.sub(Catalog, Products, nil) })
			if w.rnd.Float64() < 0.5 {
				f = b.sub(Frontend, Cart, func() bool { return b.sub(Cart, Carts, nil) }) || f
			}
			if w.rnd.Float64() < 0.2 {
				f = b.sub(Frontend, Checkout, func() bool {
					return b.sub(Checkout, Payments, func() bool { return b.sub(Payments, Bank, nil) })
				}) || f
			}
			return f
		})
	}
	b.sum.EndTime = b.at
	b.sum.Duration = b.at - at
	return b.sum
}

// Minute writes the statistics of the traces that start in the minute
// beginning at t (for Groups) into st.
func (w *Workload) Minute(ctx context.Context, st store.Store, t time.Time) error {
	m := t.Unix() - t.Unix()%60
	per := float64(w.PerMinute)
	if w.Diurnal {
		per *= 1 + 0.6*math.Sin(2*math.Pi*float64(m%86400)/86400)
	}
	if w.Wander > 0 {
		if w.drift == nil {
			w.drift = map[trace.NodeID]float64{}
		}
		for id := range steady {
			w.drift[id] = 0.97*w.drift[id] + w.Wander*w.rnd.NormFloat64()
		}
	}
	n := int(per*0.75) + w.rnd.IntN(int(per*0.5)+1)
	acc := map[graph.Key]*graph.Stats{}
	add := func(k graph.Key, s *graph.Stats) {
		if acc[k] == nil {
			acc[k] = &graph.Stats{}
		}
		acc[k].Add(s, 1)
	}
	for i := 0; i < n; i++ {
		graph.Contribute(w.trace(float64(m)+59*float64(i)/float64(n), false), 1, add)
	}
	for i := w.rnd.IntN(3); i > 0; i-- {
		graph.Contribute(w.trace(float64(m)+w.rnd.Float64()*59, true), 1, add)
	}
	groups := w.Groups
	if len(groups) == 0 {
		groups = []string{graph.DefaultGroup}
	}
	var recs []store.StatRecord
	for k, s := range acc {
		v := s.Encode()
		for _, g := range groups {
			for _, r := range store.StatResolutions {
				recs = append(recs, store.StatRecord{StatKey: store.StatKey{Resolution: r, Bucket: k.Bucket - k.Bucket%r, Group: g, Entity: string(k.Entity)}, Value: v})
			}
		}
	}
	return st.AddStats(ctx, recs)
}
