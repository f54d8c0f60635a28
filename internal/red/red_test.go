package red_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// counts are one series' RED counts (or one node's or edge's in the graph).
type counts struct{ Requests, Errors, Faults, Throttles, Observed int64 }

// workload sends traces through a real server: web (an entry point) calling
// a real backend service, an inferred DynamoDB table and a remote host, with
// every outcome.
type workload struct {
	t   *testing.T
	s   *xraytest.Server
	c   *xray.Client
	hc  *http.Client // scrapes /metrics
	now float64
	ids []string
}

func newWorkload(t *testing.T, opts ...xraytest.Option) *workload {
	s := xraytest.Start(t, opts...)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	return &workload{t: t, s: s, c: s.Client(t), hc: hc, now: float64(time.Now().UnixMicro()) / 1e6}
}

func (w *workload) traceID(n int) string {
	id := fmt.Sprintf("1-%08x-%024x", int64(w.now), n)
	w.ids = append(w.ids, id)
	return id
}

func (w *workload) put(docs ...string) {
	w.t.Helper()
	out, err := w.c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	if err != nil || len(out.UnprocessedTraceSegments) != 0 {
		w.t.Fatalf("put: %v %+v", err, out)
	}
}

// flags is the JSON of an outcome: 0 ok, 1 error, 2 throttle, 3 fault.
func flags(o int) string {
	return [...]string{``, `,"error":true`, `,"error":true,"throttle":true`, `,"fault":true`}[o]
}

// trace is web -> backend (real), -> DynamoDB (inferred), -> remote host.
func (w *workload) trace(n int) []string {
	id := w.traceID(n)
	st := w.now - 30 + float64(n)*0.01
	web := fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"web","origin":"AWS::EC2::Instance","start_time":%.6f,"end_time":%.6f%s,`+
		`"subsegments":[`+
		`{"id":"%016x","name":"backend","namespace":"remote","start_time":%.6f,"end_time":%.6f%s,"http":{"request":{"url":"http://backend/x"}}},`+
		`{"id":"%016x","name":"DynamoDB","namespace":"aws","start_time":%.6f,"end_time":%.6f%s,"aws":{"operation":"GetItem","table_name":"users"}},`+
		`{"id":"%016x","name":"api.example.com","namespace":"remote","start_time":%.6f,"end_time":%.6f%s,"http":{"request":{"url":"https://api.example.com/"}}}]}`,
		id, 0xa00000+n, st, st+0.5+float64(n%7)*0.1, flags(n%4),
		0xb00000+n, st+0.01, st+0.2, flags(n%3),
		0xc00000+n, st+0.21, st+0.25+float64(n%5)*0.01, flags((n+1)%4),
		0xd00000+n, st+0.3, st+0.4, flags(n%2*3))
	backend := fmt.Sprintf(`{"trace_id":%q,"id":"%016x","parent_id":"%016x","name":"backend","origin":"AWS::ECS::Container","start_time":%.6f,"end_time":%.6f%s}`,
		id, 0xe00000+n, 0xb00000+n, st+0.02, st+0.19, flags((n+2)%4))
	return []string{web, backend}
}

// scrape reads /metrics as a Prometheus server with native histograms does
// (protobuf, exemplars included).
func (w *workload) scrape() map[string]*dto.MetricFamily {
	w.t.Helper()
	req, _ := http.NewRequest("GET", w.s.URL("http")+"/metrics", nil)
	req.Header.Set("Accept", `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`)
	resp, err := w.hc.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	out := map[string]*dto.MetricFamily{}
	for {
		var f dto.MetricFamily
		if err := dec.Decode(&f); err == io.EOF {
			break
		} else if err != nil {
			w.t.Fatal(err)
		}
		out[f.GetName()] = &f
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// series are the RED counts of kind ("service" or "edge") by node key
// (name|type) or edge key (client|type -> server|type).
func series(t *testing.T, fams map[string]*dto.MetricFamily, kind string, traceIDs []string) map[string]counts {
	t.Helper()
	key := func(m *dto.Metric) string {
		if kind == "service" {
			return label(m, "service") + "|" + label(m, "type")
		}
		return label(m, "client") + "|" + label(m, "client_type") + " -> " + label(m, "server") + "|" + label(m, "server_type")
	}
	known := map[string]bool{}
	for _, id := range traceIDs {
		known[id] = true
	}
	out := map[string]counts{}
	for _, name := range []string{"requests", "errors", "faults", "throttles", "duration"} {
		f := fams["roentgen_"+kind+"_"+name+"_total"]
		if name == "duration" {
			f = fams["roentgen_"+kind+"_duration_seconds"]
		}
		if f == nil {
			t.Fatalf("no %s %s family in /metrics", kind, name)
		}
		for _, m := range f.GetMetric() {
			c := out[key(m)]
			switch name {
			case "requests":
				c.Requests = int64(m.GetCounter().GetValue())
			case "errors":
				c.Errors = int64(m.GetCounter().GetValue())
			case "faults":
				c.Faults = int64(m.GetCounter().GetValue())
			case "throttles":
				c.Throttles = int64(m.GetCounter().GetValue())
			case "duration":
				h := m.GetHistogram()
				c.Observed = int64(h.GetSampleCount())
				exemplars := 0
				for _, b := range h.GetBucket() {
					if e := b.GetExemplar(); e != nil {
						exemplars++
						if id := label(&dto.Metric{Label: e.GetLabel()}, "trace_id"); !known[id] {
							t.Errorf("%s %s: exemplar trace_id %q is none of the traces sent", kind, key(m), id)
						}
					}
				}
				if exemplars == 0 && len(h.GetExemplars()) == 0 {
					t.Errorf("%s %s: duration histogram has no exemplar", kind, key(m))
				}
			}
			out[key(m)] = c
		}
	}
	return out
}

// graphCounts are GetServiceGraph's node and edge counts for a window
// holding every trace sent.
func (w *workload) graphCounts() (nodes, edges map[string]counts) {
	w.t.Helper()
	out, err := w.c.GetServiceGraph(context.Background(), &xray.GetServiceGraphInput{
		StartTime: aws.Time(time.Unix(int64(w.now)-600, 0)), EndTime: aws.Time(time.Unix(int64(w.now)+60, 0))})
	if err != nil {
		w.t.Fatal(err)
	}
	ref := map[int32]string{}
	for _, s := range out.Services {
		ref[aws.ToInt32(s.ReferenceId)] = aws.ToString(s.Name) + "|" + aws.ToString(s.Type)
	}
	stat := func(total *int64, e *types.ErrorStatistics, f *types.FaultStatistics) counts {
		c := counts{Requests: aws.ToInt64(total)}
		if e != nil {
			c.Errors, c.Throttles = aws.ToInt64(e.TotalCount), aws.ToInt64(e.ThrottleCount)
		}
		if f != nil {
			c.Faults = aws.ToInt64(f.TotalCount)
		}
		c.Observed = c.Requests
		return c
	}
	nodes, edges = map[string]counts{}, map[string]counts{}
	for _, s := range out.Services {
		from := ref[aws.ToInt32(s.ReferenceId)]
		if st := s.SummaryStatistics; st != nil {
			nodes[from] = stat(st.TotalCount, st.ErrorStatistics, st.FaultStatistics)
		}
		for _, e := range s.Edges {
			if st := e.SummaryStatistics; st != nil {
				edges[from+" -> "+ref[aws.ToInt32(e.ReferenceId)]] = stat(st.TotalCount, st.ErrorStatistics, st.FaultStatistics)
			}
		}
	}
	return nodes, edges
}

func sameCounts(t *testing.T, what string, got, want map[string]counts) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s %s: /metrics %+v, GetServiceGraph %+v", what, k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s %s: on /metrics (%+v) but not in GetServiceGraph", what, k, g)
		}
	}
}

// The RED series agree with GetServiceGraph's counts for the same window,
// node by node and edge by edge, and a trace summarised again (a segment
// that completes later, a document sent twice) is counted once.
func TestREDAgreesWithServiceGraph(t *testing.T) {
	w := newWorkload(t)
	ctx := context.Background()
	for n := range 40 {
		w.put(w.trace(n)...)
	}
	// Late: a segment first in progress, summarised, then completed.
	id := w.traceID(1000)
	st := w.now - 20
	w.put(fmt.Sprintf(`{"trace_id":%q,"id":"f000000000000001","name":"web","origin":"AWS::EC2::Instance","start_time":%.6f,"in_progress":true}`, id, st))
	w.s.Ingester().Sync(ctx)
	w.put(fmt.Sprintf(`{"trace_id":%q,"id":"f000000000000001","name":"web","origin":"AWS::EC2::Instance","start_time":%.6f,"end_time":%.6f,"fault":true}`, id, st, st+1))
	w.s.Ingester().Sync(ctx)
	// Late: a segment of another service joins a trace already counted.
	w.put(w.trace(2000)...)
	w.s.Ingester().Sync(ctx)
	st = w.now - 30 + 20
	w.put(fmt.Sprintf(`{"trace_id":%q,"id":"f000000000000002","parent_id":"%016x","name":"worker","start_time":%.6f,"end_time":%.6f,"error":true}`,
		w.ids[len(w.ids)-1], 0xe00000+2000, st+0.05, st+0.1))
	w.s.Ingester().Sync(ctx)
	// Summarised again, unchanged: the whole first trace sent twice.
	w.put(w.trace(0)...)
	w.s.Ingester().Sync(ctx)

	nodes, edges := w.graphCounts()
	if nodes["web|AWS::EC2::Instance"].Requests != 42 {
		t.Fatalf("graph counts web %+v; want 42 requests (the workload did not arrive as planned)", nodes["web|AWS::EC2::Instance"])
	}
	fams := w.scrape()
	sameCounts(t, "service", series(t, fams, "service", w.ids), nodes)
	sameCounts(t, "edge", series(t, fams, "edge", w.ids), edges)
	for _, kind := range []string{"service", "edge"} {
		for _, f := range []string{"roentgen_red_overflow_requests_total", "roentgen_red_retracted_requests_total"} {
			for _, m := range fams[f].GetMetric() {
				if label(m, "kind") == kind && m.GetCounter().GetValue() != 0 {
					t.Errorf("%s{kind=%q} = %v; want 0", f, kind, m.GetCounter().GetValue())
				}
			}
		}
	}
}

// /metrics is served as OpenMetrics to those who ask for it, so that the
// exemplars show in the text format Prometheus scrapes by default.
func TestREDExemplarsInOpenMetrics(t *testing.T) {
	w := newWorkload(t)
	w.put(w.trace(1)...)
	w.s.Ingester().Sync(context.Background())
	req, _ := http.NewRequest("GET", w.s.URL("http")+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	resp, err := w.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("Content-Type %q; want OpenMetrics", ct)
	}
	want := fmt.Sprintf(`# {trace_id=%q}`, w.ids[0])
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, `roentgen_service_duration_seconds_bucket{service="web"`) && strings.Contains(line, want) {
			return
		}
	}
	t.Errorf("no web duration bucket with exemplar %s in:\n%s", want, grep(string(body), "roentgen_service_duration_seconds_bucket"))
}

func grep(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Past the limit, new services are counted under __other__ (and counted as
// overflow), so a flood of service names makes a bounded number of series
// while the totals still agree with the graph.
func TestREDCardinalityBound(t *testing.T) {
	const limit = 3
	w := newWorkload(t, func(c *app.Config) { c.REDSeriesLimit = limit })
	for n := range 8 {
		id := w.traceID(n)
		st := w.now - 10 + float64(n)
		w.put(fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"svc-%d","start_time":%.6f,"end_time":%.6f%s}`, id, 0xa0+n, n, st, st+0.1, flags(n%4)))
	}
	nodes, edges := w.graphCounts()
	if len(nodes) != 8 {
		t.Fatalf("graph has %d nodes; want 8", len(nodes))
	}
	fams := w.scrape()
	for _, kind := range []string{"service", "edge"} {
		got := series(t, fams, kind, w.ids)
		want := nodes
		if kind == "edge" {
			want = edges
		}
		if len(got) != limit+1 {
			t.Errorf("%d %s series; want %d and __other__", len(got), kind, limit)
		}
		var other, sum, total counts
		for k, c := range got {
			if strings.HasPrefix(k, "__other__|") {
				other = c
				continue
			}
			if want[k] != c {
				t.Errorf("%s %s: /metrics %+v, GetServiceGraph %+v", kind, k, c, want[k])
			}
			sum = add(sum, c)
		}
		for _, c := range want {
			total = add(total, c)
		}
		if add(sum, other) != total {
			t.Errorf("%s: admitted %+v + other %+v != graph total %+v", kind, sum, other, total)
		}
		for _, m := range fams["roentgen_red_overflow_requests_total"].GetMetric() {
			if label(m, "kind") == kind && int64(m.GetCounter().GetValue()) != other.Requests {
				t.Errorf("overflow{kind=%q} = %v; want %d (the requests under __other__)", kind, m.GetCounter().GetValue(), other.Requests)
			}
		}
	}
}

func add(a, b counts) counts {
	return counts{a.Requests + b.Requests, a.Errors + b.Errors, a.Faults + b.Faults, a.Throttles + b.Throttles, a.Observed + b.Observed}
}
