package red

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// refDurations is what the service duration family was: a client_golang
// HistogramVec, each series written with the latest exemplar of each of
// its classic buckets (a model of labelSet.exemplars).
type refDurations struct {
	vec *prometheus.HistogramVec
	ex  map[string]map[int]prometheus.Exemplar // by joined labels, classic bucket
	lvs map[string][]string
}

func (r *refDurations) Describe(ch chan<- *prometheus.Desc) { r.vec.Describe(ch) }

func (r *refDurations) Collect(ch chan<- prometheus.Metric) {
	for k, lv := range r.lvs {
		h := r.vec.WithLabelValues(lv...).(prometheus.Metric)
		var exs []prometheus.Exemplar
		for _, e := range r.ex[k] {
			exs = append(exs, e)
		}
		if len(exs) == 0 {
			ch <- h
			continue
		}
		slices.SortFunc(exs, func(a, b prometheus.Exemplar) int { return a.Timestamp.Compare(b.Timestamp) })
		ch <- prometheus.MustNewMetricWithExemplars(h, exs...)
	}
}

func (r *refDurations) observe(lv []string, v float64, id string, at time.Time) {
	k := strings.Join(lv, "|")
	if r.lvs[k] == nil {
		r.lvs[k], r.ex[k] = lv, map[int]prometheus.Exemplar{}
	}
	r.vec.WithLabelValues(lv...).Observe(v)
	b := 0
	for b < len(Buckets) && Buckets[b] < v {
		b++
	}
	r.ex[k][b] = prometheus.Exemplar{Value: v, Labels: prometheus.Labels{"trace_id": id}, Timestamp: at}
}

func (r *refDurations) drop(lv []string) {
	k := strings.Join(lv, "|")
	r.vec.DeleteLabelValues(lv...)
	delete(r.lvs, k)
	delete(r.ex, k)
}

// A scrape of the service durations is, in every format /metrics serves
// (text, OpenMetrics, protobuf), what client_golang's HistogramVec gave
// for the same requests: across series admitted, sent to __other__ past
// the limit, dropped when idle and admitted again from zero, with wide
// spreads of durations that exceed the native bucket limit, and with
// scrapes in between.
func TestScrapeMatchesClientGolang(t *testing.T) {
	const name = "roentgen_service_duration_seconds"
	now := time.Unix(1.7e9, 0)
	reg, refReg := prometheus.NewRegistry(), prometheus.NewRegistry()
	m := New(reg, Config{Limit: 2, Now: func() time.Time { return now }})
	opts := refOpts
	opts.Name, opts.Help = name, "Response time of completed requests per service; exemplars carry trace ids."
	ref := &refDurations{vec: prometheus.NewHistogramVec(opts, []string{"service", "type"}),
		ex: map[string]map[int]prometheus.Exemplar{}, lvs: map[string][]string{}}
	refReg.MustRegister(ref)

	r := rand.New(rand.NewPCG(3, 4))
	n := 0
	put := func(svc string, series []string, seconds float64) {
		now = now.Add(ExemplarEvery) // each request takes an exemplar
		id := fmt.Sprintf("1-%08x-%024x", int64(1.7e9), n)
		n++
		m.Hook(context.Background(), []store.TraceUpdate{{Summary: &trace.Summary{TraceID: id,
			Nodes:    []trace.Node{{NodeID: trace.NodeID{Name: svc}, Root: true}},
			Segments: []trace.SegmentFact{{Node: 0, Root: true, Start: 1.7e9, End: 1.7e9 + seconds}}}}})
		ref.observe(series, float64(graph.BinOf(seconds))/1e3, id, now)
	}
	scrape := func(when string) {
		t.Helper()
		got, want := gathered(t, reg, name), gathered(t, refReg, name)
		if !bytes.Equal(wireOf(t, got), wireOf(t, want)) {
			t.Fatalf("%s: scrape differs from client_golang's:\n got %v\nwant %v", when, got, want)
		}
		for _, f := range []expfmt.Format{expfmt.NewFormat(expfmt.TypeTextPlain), expfmt.NewFormat(expfmt.TypeOpenMetrics), expfmt.NewFormat(expfmt.TypeProtoDelim)} {
			if g, w := encode(t, got, f), encode(t, want, f); !bytes.Equal(g, w) {
				t.Fatalf("%s, %s: scrape differs from client_golang's:\n got %s\nwant %s", when, f, g, w)
			}
		}
	}
	other := []string{Other, Other}
	// a and b are admitted, c and d go to __other__; a's durations spread
	// over 1 ms to 11 days (more than 160 native buckets).
	for i := range 3000 {
		switch i % 4 {
		case 0:
			put("a", []string{"a", ""}, math.Exp(math.Log(1e-3)+r.Float64()*math.Log(1e9)))
		case 1:
			put("b", []string{"b", ""}, r.ExpFloat64()/10)
		case 2:
			put("c", other, r.ExpFloat64())
		default:
			put("d", other, 0)
		}
		if i%500 == 0 {
			scrape(fmt.Sprintf("request %d", i))
		}
	}
	scrape("after the first 3000 requests")
	// Everything idle past DefaultIdle is dropped: b and e are admitted
	// afresh.
	now = now.Add(DefaultIdle + time.Minute)
	for _, lv := range [][]string{{"a", ""}, {"b", ""}, other} {
		ref.drop(lv)
	}
	for i := range 100 {
		if i%2 == 0 {
			put("b", []string{"b", ""}, r.ExpFloat64())
		} else {
			put("e", []string{"e", ""}, r.ExpFloat64()*100)
		}
	}
	scrape("after the idle series were dropped")
	if got := gathered(t, reg, name); len(got.GetMetric()) != 2 {
		t.Errorf("%d series after the sweep; want b and e", len(got.GetMetric()))
	}
}

func gathered(t *testing.T, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	t.Fatalf("no %s", name)
	return nil
}

// encode is f as /metrics writes it in format, its created timestamps
// (the reference's are the wall clock's) left out.
func encode(t *testing.T, f *dto.MetricFamily, format expfmt.Format) []byte {
	t.Helper()
	f = proto.Clone(f).(*dto.MetricFamily)
	for _, m := range f.GetMetric() {
		m.GetHistogram().CreatedTimestamp = nil
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, format)
	if err := enc.Encode(f); err != nil {
		t.Fatal(err)
	}
	if c, ok := enc.(expfmt.Closer); ok {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}
