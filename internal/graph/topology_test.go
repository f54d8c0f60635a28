package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// expected is the test's own bookkeeping of what it generated: counts,
// response-time totals and histograms per node and edge, computed from the
// generator's decisions and never from Roentgen's summaries.
type expected map[string]*tally

type tally struct {
	ok, errOther, throttle, fault int64
	micros                        int64
	rt, dur                       map[int64]int64
}

func (e expected) add(key string, o outcome, rtMs, durMs int64) {
	t := e[key]
	if t == nil {
		t = &tally{rt: map[int64]int64{}, dur: map[int64]int64{}}
		e[key] = t
	}
	switch o {
	case fault:
		t.fault++
	case throttle:
		t.throttle++
	case clientErr:
		t.errOther++
	default:
		t.ok++
	}
	t.micros += rtMs * 1000
	t.rt[bin(rtMs)]++
	if durMs >= 0 {
		t.dur[bin(durMs)]++
	}
}

// bin is the documented histogram rule for the durations generated here
// (under 10 s): exact milliseconds below one second, 10 ms steps above.
func bin(ms int64) int64 {
	if ms < 1000 {
		return ms
	}
	return (ms + 5) / 10 * 10
}

type outcome int

const (
	ok outcome = iota
	clientErr
	throttle
	fault
)

func flags(doc map[string]any, o outcome) {
	status := 200
	switch o {
	case fault:
		doc["fault"], status = true, 500
	case throttle:
		doc["throttle"], doc["error"], status = true, true, 429
	case clientErr:
		doc["error"], status = true, 404
	}
	h, _ := doc["http"].(map[string]any)
	if h == nil {
		h = map[string]any{}
		doc["http"] = h
	}
	h["response"] = map[string]any{"status": status}
}

// A service of the generated topology and the calls it makes.
type service struct {
	name, origin string
	calls        []call
}

type call struct {
	kind   string // "svc", "aws", "sql", "http"
	target string // service name for "svc"
	doc    func(sub map[string]any)
	node   string // the expected callee node key for non-services
}

func typed(name, typ string) string { return typ + "|" + name }

type generator struct {
	rng      *rand.Rand
	services map[string]*service
	want     expected
	ids      int
	// batch holds callee segments sent with their caller, late those sent
	// in a later batch.
	batch, late []map[string]any
}

func (g *generator) id() string { g.ids++; return fmt.Sprintf("%016x", g.ids) }

func (g *generator) outcome() outcome {
	switch r := g.rng.IntN(100); {
	case r < 5:
		return fault
	case r < 9:
		return throttle
	case r < 15:
		return clientErr
	}
	return ok
}

// segment builds the segment of svc handling a request from start (ms
// offsets from base), returning it with its outcome and end.
func (g *generator) segment(traceID, parentID string, svc *service, base float64, startMs int64, root bool) (map[string]any, outcome, int64) {
	doc := map[string]any{"trace_id": traceID, "id": g.id(), "name": svc.name, "start_time": base + float64(startMs)/1000}
	if svc.origin != "" {
		doc["origin"] = svc.origin
	}
	if parentID != "" {
		doc["parent_id"] = parentID
	}
	self := svc.name
	if svc.origin != "" {
		self = typed(svc.name, svc.origin)
	} else {
		self = typed(svc.name, "")
	}
	t := startMs + 1
	worst := ok
	var subs []any
	for _, c := range svc.calls {
		if g.rng.IntN(4) == 0 {
			continue // not every request makes every call
		}
		sub := map[string]any{"id": g.id(), "name": c.target, "start_time": base + float64(t)/1000}
		var o outcome
		var end int64
		switch c.kind {
		case "svc":
			sub["namespace"] = "remote"
			sub["http"] = map[string]any{"request": map[string]any{"url": "http://" + c.target + "/", "traced": true}}
			callee := g.services[c.target]
			seg, co, cend := g.segment(traceID, sub["id"].(string), callee, base, t+1, false)
			o, end = co, cend+1
			if g.rng.IntN(3) == 0 {
				g.late = append(g.late, seg)
			} else {
				g.batch = append(g.batch, seg)
			}
			g.want.add(self+" -> "+typed(c.target, callee.origin), o, end-t, -1)
		default:
			o = g.outcome()
			end = t + 1 + int64(g.rng.IntN(400))
			if c.doc != nil {
				c.doc(sub)
			}
			g.want.add(self+" -> "+c.node, o, end-t, -1)
			g.want.add(c.node, o, end-t, end-t)
		}
		flags(sub, o)
		if c.kind == "svc" {
			sub["http"].(map[string]any)["request"] = map[string]any{"url": "http://" + c.target + "/", "traced": true}
		}
		sub["end_time"] = base + float64(end)/1000
		subs = append(subs, sub)
		if o > worst {
			worst = o
		}
		t = end + 1
	}
	// Faults propagate to the caller; a caller's own error or throttle is
	// its own business.
	o := g.outcome()
	if worst == fault {
		o = fault
	}
	end := t + int64(g.rng.IntN(50))
	flags(doc, o)
	doc["end_time"] = base + float64(end)/1000
	if len(subs) > 0 {
		doc["subsegments"] = subs
	}
	dur := end - startMs
	if root {
		g.want.add("client|"+svc.name+" -> "+self, o, end-startMs, -1)
	}
	g.want.add(self, o, end-startMs, dur)
	return doc, o, end
}

func topology() map[string]*service {
	table := func(name string) func(map[string]any) {
		return func(s map[string]any) {
			s["namespace"] = "aws"
			s["aws"] = map[string]any{"operation": "GetItem", "table_name": name, "retries": 2}
		}
	}
	return map[string]*service{
		"gateway": {name: "gateway", origin: "AWS::EC2::Instance", calls: []call{{kind: "svc", target: "orders"}, {kind: "svc", target: "payments"}, {kind: "svc", target: "search"}}},
		"orders": {name: "orders", origin: "AWS::ECS::Container", calls: []call{
			{kind: "aws", target: "DynamoDB", doc: table("orders-table"), node: typed("orders-table", "AWS::DynamoDB::Table")},
			{kind: "svc", target: "inventory"},
			{kind: "aws", target: "SQS", node: typed("order-events", "AWS::SQS::Queue"), doc: func(s map[string]any) {
				s["namespace"] = "aws"
				s["aws"] = map[string]any{"operation": "SendMessage", "queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/order-events"}
			}},
		}},
		"inventory": {name: "inventory", calls: []call{
			{kind: "aws", target: "S3", node: typed("blobs", "AWS::S3::Bucket"), doc: func(s map[string]any) {
				s["namespace"] = "aws"
				s["aws"] = map[string]any{"operation": "GetObject", "bucket_name": "blobs"}
			}},
			{kind: "aws", target: "DynamoDB", doc: table("orders-table"), node: typed("orders-table", "AWS::DynamoDB::Table")},
		}},
		"payments": {name: "payments", origin: "AWS::EKS::Container", calls: []call{
			{kind: "http", target: "psp.example.com", node: typed("psp.example.com", "remote"), doc: func(s map[string]any) {
				s["namespace"] = "remote"
				s["http"] = map[string]any{"request": map[string]any{"url": "https://psp.example.com/charge", "method": "POST"}}
			}},
			{kind: "svc", target: "ledger"},
		}},
		"ledger": {name: "ledger", origin: "AWS::EC2::Instance", calls: []call{
			{kind: "sql", target: "ledger@db.internal", node: typed("ledger@db.internal", "Database::SQL"), doc: func(s map[string]any) {
				s["namespace"] = "remote"
				s["sql"] = map[string]any{"url": "postgresql://db.internal/ledger", "database_type": "PostgreSQL"}
			}},
		}},
		"search": {name: "search", origin: "AWS::Lambda::Function", calls: []call{
			{kind: "http", target: "es.internal", node: typed("es.internal", "remote"), doc: func(s map[string]any) {
				s["http"] = map[string]any{"request": map[string]any{"url": "http://es.internal/_search"}}
			}},
		}},
	}
}

// fix the generator's node keys for the stats comparison: the tally uses
// "type|name" and edges "a -> b".
func render(svcs []graph.Service) map[string]string {
	byRef := map[int]graph.Service{}
	for _, s := range svcs {
		byRef[s.ReferenceId] = s
	}
	out := map[string]string{}
	line := func(s graph.Summary, rt []graph.Entry, dur []graph.Entry) string {
		return fmt.Sprintf("ok=%d err=%d thr=%d fault=%d total=%d micros=%d rt=%v dur=%v", s.OkCount, s.ErrorStatistics.OtherCount,
			s.ErrorStatistics.ThrottleCount, s.FaultStatistics.TotalCount, s.TotalCount, int64(math.Round(s.TotalResponseTime*1e6)), entries(rt), entries(dur))
	}
	for _, s := range svcs {
		key := typed(s.Name, s.Type)
		if s.SummaryStatistics != nil {
			out[key] = line(*s.SummaryStatistics, s.ResponseTimeHistogram, s.DurationHistogram)
		}
		for _, e := range s.Edges {
			to := byRef[e.ReferenceId]
			out[key+" -> "+typed(to.Name, to.Type)] = line(e.SummaryStatistics, e.ResponseTimeHistogram, nil)
		}
	}
	return out
}

func entries(es []graph.Entry) string {
	var parts []string
	for _, e := range es {
		parts = append(parts, fmt.Sprintf("%d:%d", int64(math.Round(e.Value*1000)), e.Count))
	}
	sort.Strings(parts)
	return fmt.Sprint(parts)
}

func (t *tally) render() string {
	h := func(m map[int64]int64) string {
		var es []graph.Entry
		for k, v := range m {
			es = append(es, graph.Entry{Value: float64(k) / 1000, Count: v})
		}
		return entries(es)
	}
	return fmt.Sprintf("ok=%d err=%d thr=%d fault=%d total=%d micros=%d rt=%v dur=%v", t.ok, t.errOther, t.throttle, t.fault,
		t.ok+t.errOther+t.throttle+t.fault, t.micros, h(t.rt), h(t.dur))
}

func TestGeneratedTopology(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := pebble.Open(dir, pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	agg := graph.NewAggregator(graph.AggregatorConfig{Store: st})
	in := ingest.New(ingest.Config{Store: st})
	defer in.Close()
	in.AddDeriver(agg.Prepare)
	in.AddHook(agg.Hook)

	g := &generator{rng: rand.New(rand.NewPCG(1, 2)), services: topology(), want: expected{}}
	now := time.Now()
	base := float64(now.Add(-30*time.Minute).Unix()/3600*3600) - 3600
	if base < float64(now.Add(-25*time.Hour).Unix()) {
		t.Fatal("clock")
	}
	send := func(docs ...map[string]any) {
		var raw [][]byte
		for _, d := range docs {
			b, _ := json.Marshal(d)
			raw = append(raw, b)
		}
		if rej := in.Ingest(ctx, raw, ingest.Options{Source: "test"}); len(rej) > 0 {
			t.Fatalf("rejected: %+v", rej[0].Error)
		}
		in.Sync(ctx) // each arrival summarised on its own: the orders below matter
	}
	const traces = 400
	for i := 0; i < traces; i++ {
		tb := base + float64(i*9) // spread over an hour, across bucket boundaries
		tid := fmt.Sprintf("1-%08x-%024x", int64(tb), i)
		g.batch, g.late = nil, nil
		root, _, _ := g.segment(tid, "", g.services["gateway"], tb, 0, true)
		switch i % 10 {
		case 0:
			// In progress first, complete later.
			prog := map[string]any{}
			for k, v := range root {
				prog[k] = v
			}
			delete(prog, "end_time")
			delete(prog, "subsegments")
			delete(prog, "fault")
			prog["in_progress"] = true
			send(prog)
		}
		// Callers first; a third of the callees arrive in a later batch.
		send(append([]map[string]any{root}, g.batch...)...)
		if len(g.late) > 0 {
			send(g.late...)
		}
	}
	// Traces that never complete count nowhere but their completed calls.
	for i := 0; i < 20; i++ {
		tb := base + float64(i*60) + 0.5
		tid := fmt.Sprintf("1-%08x-%024x", int64(tb), 100000+i)
		segID := g.id()
		send(map[string]any{"trace_id": tid, "id": segID, "name": "gateway", "origin": "AWS::EC2::Instance", "start_time": tb, "in_progress": true})
		sub := map[string]any{"trace_id": tid, "id": g.id(), "type": "subsegment", "parent_id": segID, "name": "DynamoDB", "namespace": "aws",
			"start_time": tb + 0.001, "end_time": tb + 0.011, "aws": map[string]any{"operation": "GetItem", "table_name": "sessions"}}
		flags(sub, ok)
		send(sub)
		g.want.add("AWS::EC2::Instance|gateway -> "+typed("sessions", "AWS::DynamoDB::Table"), ok, 10, -1)
		g.want.add(typed("sessions", "AWS::DynamoDB::Table"), ok, 10, 10)
		// A streamed subsegment still in progress counts nowhere.
		send(map[string]any{"trace_id": tid, "id": g.id(), "type": "subsegment", "parent_id": segID, "name": "S3", "namespace": "aws",
			"start_time": tb + 0.02, "in_progress": true, "aws": map[string]any{"bucket_name": "blobs"}})
	}

	want := map[string]string{}
	for k, v := range g.want {
		want[k] = v.render()
	}
	check := func(t *testing.T, agg *graph.Aggregator, from, to int64) {
		t.Helper()
		gr, err := agg.ServiceGraph(ctx, graph.DefaultGroup, from, to)
		if err != nil {
			t.Fatal(err)
		}
		got := render(gr.Services(float64(from), float64(to)))
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s:\n got %s\nwant %s", k, got[k], v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected %s: %s", k, v)
			}
		}
	}
	from, to := int64(base)-3600, int64(base)+3*3600
	t.Run("Stored", func(t *testing.T) { check(t, agg, from, to) })
	t.Run("MinuteAligned", func(t *testing.T) { check(t, agg, int64(base)-60, int64(base)+3660+120) })
	defer t.Run("Reopened", func(t *testing.T) {
		// Nothing is kept in memory: closed at once after the last
		// summary (no flush of anything but the store's own) and opened
		// again, the store answers the same, with and without the
		// combiner that sums deltas as Pebble compacts.
		in.Close()
		for _, o := range []pebble.Options{{}, {CombineStats: graph.CombineStats}} {
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if st, err = pebble.Open(dir, o); err != nil {
				t.Fatal(err)
			}
			check(t, graph.NewAggregator(graph.AggregatorConfig{Store: st}), from, to)
		}
	})
	t.Run("TimeSeries", func(t *testing.T) {
		// Per-minute counts of one service add up to its total.
		sel, err := graph.ParseSelector(`service("orders")`)
		if err != nil {
			t.Fatal(err)
		}
		pts, err := agg.Series(ctx, graph.SeriesQuery{Group: graph.DefaultGroup, Selector: sel, From: from, To: to, Period: 60})
		if err != nil {
			t.Fatal(err)
		}
		var total, micros int64
		for _, p := range pts {
			total += p.Service.TotalCount
			micros += int64(math.Round(p.Service.TotalResponseTime * 1e6))
		}
		w := g.want[typed("orders", "AWS::ECS::Container")]
		if total != w.ok+w.errOther+w.throttle+w.fault || micros != w.micros || len(pts) < 30 {
			t.Errorf("series: %d points, total %d, micros %d; want total %d, micros %d", len(pts), total, micros, w.ok+w.errOther+w.throttle+w.fault, w.micros)
		}
		for _, period := range []int64{300, 3600} {
			pp, err := agg.Series(ctx, graph.SeriesQuery{Group: graph.DefaultGroup, Selector: sel, From: from, To: to, Period: period})
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			for _, p := range pp {
				n += p.Service.TotalCount
			}
			if n != total {
				t.Errorf("period %d: total %d, want %d", period, n, total)
			}
		}
	})
}
