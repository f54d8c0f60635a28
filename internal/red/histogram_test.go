package red

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/roentgen-tracing/roentgen/internal/graph"
)

// refOpts are the options the duration histograms had as client_golang
// HistogramVecs; histogram must write what such a histogram writes.
var refOpts = prometheus.HistogramOpts{Name: "ref", Buckets: Buckets,
	NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: 160, NativeHistogramMinResetDuration: time.Hour,
	NativeHistogramMaxExemplars: -1}

func refWrite(t testing.TB, h prometheus.Histogram) *dto.Histogram {
	t.Helper()
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram()
}

// wireOf is a histogram's encoding without its created timestamp (a
// reference takes the wall clock's), compared as bytes so that NaN sums
// compare equal.
func wireOf(t testing.TB, h proto.Message) []byte {
	t.Helper()
	h = proto.Clone(h)
	switch h := h.(type) {
	case *dto.Histogram:
		h.CreatedTimestamp = nil
	case *dto.MetricFamily:
		for _, m := range h.GetMetric() {
			m.GetHistogram().CreatedTimestamp = nil
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameAs(t testing.TB, what string, got, want proto.Message) {
	t.Helper()
	if !bytes.Equal(wireOf(t, got), wireOf(t, want)) {
		t.Fatalf("%s differs from client_golang's:\n got %v\nwant %v", what, prototext.Format(got), prototext.Format(want))
	}
}

// feed observes vs in ours and in a client_golang histogram, scraping
// both (a client_golang scrape moves its counts between two halves, which
// its bucket limiting then sees) where scrape says, and compares every
// scrape and the last.
func feed(t testing.TB, vs []float64, scrape func(i int) bool) *dto.Histogram {
	t.Helper()
	now := time.Now()
	h, ref := newHistogram(now), prometheus.NewHistogram(refOpts)
	for i, v := range vs {
		h.observe(v, now)
		ref.Observe(v)
		if scrape(i) {
			sameAs(t, fmt.Sprintf("histogram after observation %d", i), h.write(now), refWrite(t, ref))
		}
	}
	got := h.write(now)
	sameAs(t, "histogram", got, refWrite(t, ref))
	return got
}

func logUniform(r *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo)))
}

// Within an hour of its start, a histogram is client_golang's for any
// values: on the classic and the native buckets' boundaries, durations as
// the hook observes them, spread wide enough to exceed 160 native buckets
// (client_golang then halves the resolution, again and again), and values
// a duration never is (negative, infinite, NaN).
func TestHistogramMatchesClientGolang(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var bounds []float64
	for _, b := range Buckets {
		bounds = append(bounds, b, math.Nextafter(b, 0), math.Nextafter(b, 2*b))
	}
	for k := -100; k <= 100; k++ {
		b := math.Exp2(float64(k) / 8)
		bounds = append(bounds, b, math.Nextafter(b, 0), math.Nextafter(b, 2*b))
	}
	for _, s := range []int{1, 2, 3} {
		for _, f := range nativeBounds {
			bounds = append(bounds, math.Ldexp(f, s), math.Ldexp(math.Nextafter(f, 1), s))
		}
	}
	bounds = append(bounds, 0, math.SmallestNonzeroFloat64, prometheus.DefNativeHistogramZeroThreshold)
	durations := func(lo, hi float64, n int) []float64 {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = float64(graph.BinOf(logUniform(r, lo, hi))) / 1e3
		}
		return vs
	}
	odd := []float64{-1, -0.003, math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, -math.MaxFloat64, 1e-300, -1e-300, 0.5, 2}
	for name, vs := range map[string][]float64{
		"boundaries": bounds,
		"durations":  durations(1e-3, 1e3, 5000),
		"wide":       durations(1e-3, 1e12, 5000),
		"odd":        append(append([]float64{}, odd...), durations(1e-3, 1e12, 400)...),
	} {
		t.Run(name, func(t *testing.T) {
			if h := feed(t, vs, func(i int) bool { return false }); name == "wide" && h.GetSchema() >= nativeSchema {
				t.Errorf("wide values end at schema %d; the test wants them to exceed the bucket limit", h.GetSchema())
			}
			feed(t, vs, func(i int) bool { return i%37 == 0 })
			feed(t, vs, func(int) bool { return r.IntN(5) == 0 })
		})
	}
}

// Past the bucket limit within an hour of its start, client_golang halves
// the resolution and schedules a reset (a timer) for when the hour is up;
// past it later, it resets at once, keeping the observation that exceeded
// it. A histogram makes the scheduled reset at its first observation or
// scrape at or after that time, and starts its counts there.
func TestHistogramResets(t *testing.T) {
	t0 := time.Unix(1.7e9, 0)
	wide := func(n, from int) []float64 { // n values in n distinct native buckets
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = math.Exp2((float64(from+i) - 0.5) / 8) // inside bucket from+i
		}
		return vs
	}
	fresh := func(vs ...float64) *dto.Histogram {
		ref := prometheus.NewHistogram(refOpts)
		for _, v := range vs {
			ref.Observe(v)
		}
		return refWrite(t, ref)
	}

	h := newHistogram(t0)
	vs := wide(170, -40)
	for _, v := range vs {
		h.observe(v, t0.Add(time.Minute))
	}
	if h.schema >= nativeSchema || h.resetAt != t0.Add(time.Hour).UnixNano() {
		t.Fatalf("past the limit: schema %d, reset at %v; want a lower schema and a reset at %v", h.schema, time.Unix(0, h.resetAt), t0.Add(time.Hour))
	}
	sameAs(t, "halved", h.write(t0.Add(59*time.Minute)), fresh(vs...))
	h.observe(3, t0.Add(59*time.Minute)) // still before the reset
	sameAs(t, "halved, then observed", h.write(t0.Add(time.Hour-1)), fresh(append(vs, 3)...))
	got := h.write(t0.Add(time.Hour))
	sameAs(t, "at the scheduled reset", got, fresh())
	if !got.GetCreatedTimestamp().AsTime().Equal(t0.Add(time.Hour)) {
		t.Errorf("created %v after the reset; want %v", got.GetCreatedTimestamp().AsTime(), t0.Add(time.Hour))
	}

	// Observed past the reset without a scrape: the reset comes first.
	h = newHistogram(t0)
	for _, v := range vs {
		h.observe(v, t0)
	}
	h.observe(0.25, t0.Add(2*time.Hour))
	got = h.write(t0.Add(2 * time.Hour))
	sameAs(t, "observed after the scheduled reset", got, fresh(0.25))
	if !got.GetCreatedTimestamp().AsTime().Equal(t0.Add(time.Hour)) {
		t.Errorf("created %v; want the scheduled reset's time %v", got.GetCreatedTimestamp().AsTime(), t0.Add(time.Hour))
	}

	// Past the limit after the hour, no reset pending: a reset now,
	// keeping the value that exceeded it.
	h = newHistogram(t0)
	for _, v := range wide(160, -40) {
		h.observe(v, t0)
	}
	at := t0.Add(90 * time.Minute)
	h.observe(1e6, at)
	got = h.write(at)
	sameAs(t, "reset at the limit", got, fresh(1e6))
	if !got.GetCreatedTimestamp().AsTime().Equal(at) || h.resetAt != 0 {
		t.Errorf("created %v, reset scheduled at %d; want %v and none", got.GetCreatedTimestamp().AsTime(), h.resetAt, at)
	}
}

// FuzzHistogram feeds arbitrary values (9 bytes each: a flag asking for a
// scrape after it, the float's bits) to a histogram and to client_golang's.
func FuzzHistogram(f *testing.F) {
	seed := func(vs ...float64) []byte {
		var b []byte
		for i, v := range vs {
			b = append(b, byte(i%3))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	f.Add(seed(0, 0.001, 0.0025, 1, 60, 61, math.Inf(1), math.NaN(), -2))
	f.Add(seed(1e-300, 1e300, 1e-200, 1e200, 1e-100, 1e100, 1e-50, 1e50))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 9*2000 {
			return
		}
		var vs []float64
		var scrapes []bool
		for ; len(data) >= 9; data = data[9:] {
			scrapes = append(scrapes, data[0]&1 == 1)
			vs = append(vs, math.Float64frombits(binary.LittleEndian.Uint64(data[1:])))
		}
		feed(t, vs, func(i int) bool { return scrapes[i] })
	})
}

// observeMs, with its table of keys below a second, holds the same counts
// as observe of the same values: over whole milliseconds across the
// table's end, with enough distinct values to halve the schema (off the
// table) and a reset that brings it back.
func TestObserveMsMatchesObserve(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	r := rand.New(rand.NewPCG(3, 4))
	var a, b histogram
	a, b = newHistogram(t0), newHistogram(t0)
	at := t0
	for i := range 200_000 {
		ms := int64(r.IntN(1100))
		if i%7 == 0 {
			ms = int64(r.IntN(1 << 20)) // many keys: the schema halves
		}
		if i == 100_000 {
			at = at.Add(2 * time.Hour) // past the reset
		}
		v := float64(ms) / 1e3
		a.observe(v, at)
		b.observeMs(v, ms, at)
		if i%1000 == 0 && !reflect.DeepEqual(a, b) {
			t.Fatalf("after %d (ms %d): observe %+v, observeMs %+v", i, ms, a, b)
		}
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("observe %+v, observeMs %+v", a, b)
	}
	for ms := range int64(len(msKeys)) {
		v := float64(ms) / 1e3
		a, b = newHistogram(t0), newHistogram(t0)
		a.observe(v, t0)
		b.observeMs(v, ms, t0)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%d ms: observe %+v, observeMs %+v", ms, a, b)
		}
	}
}
