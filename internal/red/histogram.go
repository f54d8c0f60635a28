package red

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The native histogram's settings, as client_golang was given them
// (NativeHistogramBucketFactor 1.1, MaxBucketNumber 160, MinResetDuration
// an hour, no zero-bucket widening); the scrape must stay what it was.
const (
	nativeSchema     = 3 // client_golang's pickSchema(1.1): 2^(2^-3) ≤ 1.1
	nativeMinSchema  = -4
	nativeMaxBuckets = 160
	nativeMinReset   = time.Hour
)

// nativeBounds are the fractions splitting a power of two into schema 3's
// eight buckets, 2^(i/8 - 1), spelled as client_golang spells them: the
// nearest float64 math.Exp2 gives is a bit off for some, and a value on a
// boundary must land in the bucket a reference histogram puts it in.
// Schemas 2 and 1 use every second and fourth.
var nativeBounds = [8]float64{
	0.5, 0.5452538663326288, 0.5946035575013605, 0.6484197773255048,
	0.7071067811865475, 0.7711054127039704, 0.8408964152537144, 0.9170040432046711,
}

// histogram is one series' duration histogram: what client_golang's
// Histogram with the settings above holds, in one block. client_golang
// keeps each native bucket as its own small object in two sync.Maps (hot
// and cold); made all through a load and scattered over heap spans, they
// kept an idle server's heap from giving pages back (docs/performance.md).
//
// Its observations are made under Metrics.mu, one at a time, so it needs
// none of client_golang's hot/cold swapping; what that gives a serial
// caller is reproduced exactly (TestHistogramMatchesClientGolang).
type histogram struct {
	// created is when the counts started (client_golang's lastResetTime,
	// written as the created timestamp), Unix ns.
	created int64
	// resetAt is the reset client_golang would have scheduled with a timer
	// when the bucket limit was first exceeded within nativeMinReset of
	// created; it is made on the first observation or scrape at or after
	// it instead. 0: none.
	resetAt int64
	sum     float64
	count   uint64
	classic [len(bucketBounds)]uint64 // +Inf's is count
	zero    uint64
	schema  int8
	pos     run
	neg     run
}

// run is the native buckets on one side of zero, dense from key first.
type run struct {
	first  int32
	n      uint32 // buckets with a count (client_golang's map entries)
	counts []uint64
}

func newHistogram(now time.Time) histogram {
	return histogram{created: now.UnixNano(), schema: nativeSchema}
}

// observe counts v at now.
func (h *histogram) observe(v float64, now time.Time) { h.observeMs(v, -1, now) }

// observeMs counts v at now, where v is ms/1e3 for a whole number of
// milliseconds ms (-1: v is not).
func (h *histogram) observeMs(v float64, ms int64, now time.Time) {
	t := now.UnixNano()
	h.due(t)
	h.addMs(v, ms)
	if h.pos.n+h.neg.n <= nativeMaxBuckets || math.IsNaN(v) {
		return
	}
	// client_golang's limitBuckets: reset if the counts are old enough and
	// no reset is pending, else schedule one and halve the resolution.
	if h.resetAt == 0 && t-h.created >= int64(nativeMinReset) {
		h.reset(t)
		h.addMs(v, ms)
		return
	}
	if h.resetAt == 0 {
		h.resetAt = h.created + int64(nativeMinReset)
	}
	if h.schema > nativeMinSchema {
		h.schema--
		h.pos.halve()
		h.neg.halve()
	}
}

// due makes the scheduled reset if its time has come.
func (h *histogram) due(t int64) {
	if h.resetAt != 0 && t >= h.resetAt {
		h.reset(h.resetAt)
	}
}

func (h *histogram) reset(t int64) {
	*h = histogram{created: t, schema: nativeSchema}
}

func (h *histogram) add(v float64) {
	if i := classicBucket(v); i < len(h.classic) {
		h.classic[i]++
	}
	h.sum += v
	h.count++
	if math.IsNaN(v) {
		return
	}
	switch {
	case v > prometheus.DefNativeHistogramZeroThreshold:
		h.pos.add(nativeKey(v, h.schema), 1)
	case v < -prometheus.DefNativeHistogramZeroThreshold:
		h.neg.add(nativeKey(v, h.schema), 1)
	default:
		h.zero++
	}
}

// msKeys[ms] are the classic bucket and schema 3's native key of ms/1e3,
// for the whole milliseconds below a second that the graph's bins hold
// (exact there): classicBucket's and nativeKey's scans and Frexp per
// request counted were a third of RED's CPU on the ingest path.
var msKeys = func() (t [1000]struct {
	classic uint8
	native  int16
}) {
	for ms := 1; ms < len(t); ms++ {
		v := float64(ms) / 1e3
		t[ms].classic, t[ms].native = uint8(classicBucket(v)), int16(nativeKey(v, nativeSchema))
	}
	return t
}()

// addMs is add(v), where v is ms/1e3 for a whole number of milliseconds
// ms (-1: v is not).
func (h *histogram) addMs(v float64, ms int64) {
	if ms <= 0 || ms >= int64(len(msKeys)) || h.schema != nativeSchema {
		h.add(v)
		return
	}
	k := &msKeys[ms]
	h.classic[k.classic]++ // below a second: never +Inf's
	h.sum += v
	h.count++
	h.pos.add(int(k.native), 1) // a millisecond is past the zero threshold
}

// classicBucket is the classic bucket of v, len(bucketBounds) for +Inf's:
// the first whose bound is at least v (sort.SearchFloat64s, as a scan of
// fifteen bounds without its closure: it runs twice per request counted).
func classicBucket(v float64) int {
	i := 0
	for i < len(bucketBounds) && !(bucketBounds[i] >= v) {
		i++
	}
	return i
}

// nativeKey is the index of the bucket of |v| at schema: bucket k holds
// (2^((k-1)/2^schema), 2^(k/2^schema)]; ±Inf one past the largest float's.
func nativeKey(v float64, schema int8) int {
	inf := math.IsInf(v, 0)
	if inf {
		v = math.MaxFloat64
	}
	frac, exp := math.Frexp(math.Abs(v))
	var key int
	if schema > 0 {
		step := 1 << (nativeSchema - schema)
		n := len(nativeBounds) / step
		i := 0 // the first bound at or above frac (a scan of at most 8)
		for i < n && !(nativeBounds[i*step] >= frac) {
			i++
		}
		key = i + (exp-1)*n
	} else {
		key = exp
		if frac == 0.5 {
			key--
		}
		key = (key + 1<<-schema - 1) >> -schema
	}
	if inf {
		key++
	}
	return key
}

// add counts n in bucket key.
func (r *run) add(key int, n uint64) {
	k := int32(key)
	switch {
	case len(r.counts) == 0:
		r.first = k
		r.counts = append(r.counts[:0], 0)
	case k < r.first:
		grown := make([]uint64, int(r.first-k)+len(r.counts), int(r.first-k)+cap(r.counts))
		copy(grown[r.first-k:], r.counts)
		r.first, r.counts = k, grown
	case int(k-r.first) >= len(r.counts):
		r.counts = append(r.counts, make([]uint64, int(k-r.first)+1-len(r.counts))...)
	}
	c := &r.counts[k-r.first]
	if *c == 0 {
		r.n++
	}
	*c += n
}

// halve merges pairs of buckets into the next lower schema's: key k goes
// to ⌈k/2⌉.
func (r *run) halve() {
	if len(r.counts) == 0 {
		return
	}
	old, first := r.counts, int(r.first)
	*r = run{counts: make([]uint64, 0, (len(old)+3)/2)}
	for i, c := range old {
		if c != 0 {
			r.add((first+i+1)>>1, c)
		}
	}
}

// spans writes the populated buckets as client_golang does: a gap of up
// to two empty buckets is written as zeros, a longer one starts a span.
func (r *run) spans() ([]*dto.BucketSpan, []int64) {
	var (
		spans  []*dto.BucketSpan
		deltas []int64
		prev   int64
		next   int
	)
	for i, c := range r.counts {
		if c == 0 {
			continue
		}
		key := int(r.first) + i
		gap := int32(key - next)
		if len(spans) == 0 || gap > 2 {
			spans = append(spans, &dto.BucketSpan{Offset: &gap, Length: new(uint32)})
		} else {
			for range gap {
				*spans[len(spans)-1].Length++
				deltas = append(deltas, -prev)
				prev = 0
			}
		}
		*spans[len(spans)-1].Length++
		deltas = append(deltas, int64(c)-prev)
		prev = int64(c)
		next = key + 1
	}
	return spans, deltas
}

// write is the histogram as client_golang's Write gives it (exemplars
// apart: prometheus.NewMetricWithExemplars attaches them), at now.
func (h *histogram) write(now time.Time) *dto.Histogram {
	h.due(now.UnixNano())
	count, sum := h.count, h.sum
	his := &dto.Histogram{
		Bucket:           make([]*dto.Bucket, len(bucketBounds)),
		SampleCount:      &count,
		SampleSum:        &sum,
		CreatedTimestamp: timestamppb.New(time.Unix(0, h.created)),
	}
	var cum uint64
	for i := range bucketBounds {
		cum += h.classic[i]
		c, le := cum, bucketBounds[i]
		his.Bucket[i] = &dto.Bucket{CumulativeCount: &c, UpperBound: &le}
	}
	threshold, schema, zero := prometheus.DefNativeHistogramZeroThreshold, int32(h.schema), h.zero
	his.ZeroThreshold, his.Schema, his.ZeroCount = &threshold, &schema, &zero
	his.NegativeSpan, his.NegativeDelta = h.neg.spans()
	his.PositiveSpan, his.PositiveDelta = h.pos.spans()
	return his
}

// written is one series' histogram as collected, for the registry to
// write after Metrics.mu is released.
type written struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	his    *dto.Histogram
}

func (w *written) Desc() *prometheus.Desc { return w.desc }

func (w *written) Write(out *dto.Metric) error {
	out.Label, out.Histogram = w.labels, w.his
	return nil
}
