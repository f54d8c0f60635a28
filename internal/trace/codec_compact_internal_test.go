package trace

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// clockTimes are times as the server and the SDKs make them: microseconds
// written as decimals, nanoseconds of a clock divided by 1e9, and values
// that are neither (-0, NaN, infinities, huge, tiny, random bits).
func clockTimes(r *rand.Rand) float64 {
	switch r.IntN(8) {
	case 0:
		return float64(1_700_000_000_000_000+r.Int64N(1e12)) / 1e6
	case 1:
		return float64(1_700_000_000_000_000_000+r.Int64N(1e15)) / 1e9
	case 2:
		return float64(r.Int64N(1e9)) / 1e6 // a duration
	case 3:
		return []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -9e9, 5e-324, math.MaxFloat64}[r.IntN(9)]
	case 4:
		return math.Float64frombits(r.Uint64())
	case 5:
		return 1.7e9 + r.Float64()
	default:
		return float64(1_800_000_000+r.IntN(3600)) + float64(r.IntN(1000))/1000
	}
}

// Random summaries (randomDerivable, with times of every kind, strings
// that escape and trace ids that carry their epoch half the time) decode from the compact form,
// under their id or not, as from the packed one.
func TestCompactFormRandomSummaries(t *testing.T) {
	seeds := 3000
	if testing.Short() {
		seeds = 300
	}
	var seen uint64
	for seed := range seeds {
		s := randomDerivable(seed)
		r := rand.New(rand.NewPCG(uint64(seed), 24))
		timeFields(s, 0, func(f *float64) {
			if r.IntN(4) > 0 {
				*f = clockTimes(r)
			}
		})
		escapable := func() string {
			return []string{fmt.Sprintf("%d.%d.%d.%d", r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256)),
				fmt.Sprintf("i-%017x", r.Uint64()), fmt.Sprintf("%x", r.Uint64()>>r.IntN(64)), "010.0.0.1"}[r.IntN(4)]
		}
		if r.IntN(2) == 0 {
			s.InstanceIDs = append(s.InstanceIDs, escapable())
			s.ResourceARNs = append(s.ResourceARNs, "arn:aws:ecs:task/"+escapable())
			s.HTTP.ClientIP = escapable()
			for i := range s.Segments {
				s.Segments[i].HTTP.ClientIP = escapable()
			}
		}
		if r.IntN(2) == 0 {
			s.Epoch = int64(r.IntN(1 << 32))
			s.TraceID = fmt.Sprintf("1-%08x-%024x", s.Epoch, r.Uint64())
			if r.IntN(4) == 0 {
				s.Epoch++ // not the id's
			}
		}
		for _, under := range []string{"", s.TraceID, "1-00000001-000000000000000000000000"} {
			got, ok := appendCompact(nil, s, under)
			if !ok {
				continue // an unstorable annotation value: the packed fallback reports it
			}
			seen |= binaryFlags(got)
			want, err := appendPackedByReflection(nil, s, false)
			if err != nil {
				t.Fatal(err)
			}
			gotS, err := DecodeSummaryUnder(got, under)
			if err != nil {
				t.Fatalf("seed %d under %q: %v", seed, under, err)
			}
			wantS, err := DecodeSummaryUnder(want, under)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotS, wantS) && !samePacked(t, gotS, wantS) {
				t.Fatalf("seed %d under %q: compact form decodes to\n%#v\npacked to\n%#v", seed, under, gotS, wantS)
			}
		}
	}
	if seen != compactKnown {
		t.Errorf("the random summaries derived only %#x of %#x", seen, compactKnown)
	}
}

func binaryFlags(b []byte) uint64 {
	d, _ := binary.Uvarint(b[1:])
	return d
}

// Every time decodes bit for bit; those of a clock take at most 5 bytes,
// microseconds near the base 3 or fewer.
func TestTimeCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		w := timeWriter{base: epochMicros(int64(r.IntN(1 << 34)))}
		if r.IntN(2) == 0 {
			w.base = 1_700_000_000_000_000 + r.Int64N(1e12)
		}
		base := w.base
		f := clockTimes(r)
		b := w.append(nil, f)
		var got float64
		rd := timeReader{b: b, base: base}
		rd.read(&got)
		if rd.err != nil || len(rd.b) != 0 || math.Float64bits(got) != math.Float64bits(f) || rd.base != w.base {
			t.Fatalf("%v (%x) from base %d: %x decodes to %v (base %d, %v)", f, math.Float64bits(f), base, b, got, rd.base, rd.err)
		}
	}
	for _, c := range []struct {
		base int64
		f    float64
		max  int
	}{
		{1_800_000_000e6, 1800000000.504015, 4},
		{1_800_000_000e6, 1799999999.5, 3},
		{1_800_000_000e6, 1800000000.000001, 1},
		{1_800_000_000e6, float64(1_800_000_001_123_456_789) / 1e9, 5},
		{1_800_000_000e6, 0, 1},
	} {
		w := timeWriter{base: c.base}
		if b := w.append(nil, c.f); len(b) > c.max {
			t.Errorf("%v from %d takes %d bytes (%x), want at most %d", c.f, c.base, len(b), b, c.max)
		}
	}
}

// Compact forms that cannot be read fail with an error.
func TestCompactFormErrors(t *testing.T) {
	s := &Summary{TraceID: "1-6b49d23c-fefd6b1bc2459aff03c5da52", Epoch: 0x6b49d23c, StartTime: 1, EndTime: 2,
		Segments: []SegmentFact{{Start: 1800000000.25, End: 1800000000.5}}, UpdatedAt: 1800000001}
	good, ok := appendCompact(nil, s, s.TraceID)
	if !ok || binaryFlags(good)&deriveEpoch == 0 {
		t.Fatalf("%x", good)
	}
	if got, err := DecodeSummaryUnder(good, s.TraceID); err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("%+v, %v", got, err)
	}
	for name, b := range map[string][]byte{
		"unknown flag":        append(binary.AppendUvarint([]byte{summaryCompact}, compactKnown+1), good[3:]...),
		"flags cut short":     {summaryCompact, 0x80},
		"no length":           {summaryCompact, 0},
		"length past the end": {summaryCompact, 0, 5, 0},
		"times cut short":     good[:len(good)-1],
		"a float cut short":   {summaryCompact, 0, 0, 1, 0, 0},
		"bytes after":         append(append([]byte(nil), good...), 0),
		"bad body":            {summaryCompact, 0, 2, 0xff, 0xff, 0},
	} {
		if got, err := DecodeSummaryUnder(b, s.TraceID); err == nil {
			t.Errorf("%s: decoded to %+v", name, got)
		}
	}
	// The epoch is derived from the key's id: without one it cannot be.
	if got, err := DecodeSummary(good); err == nil {
		t.Errorf("decoded without its trace id: %+v", got)
	}
	if got, err := DecodeSummaryUnder(good, "1-xyz"); err == nil {
		t.Errorf("decoded under an id without an epoch: %+v", got)
	}
}

// timeFields calls fn with each time the compact form stores apart
// (timeWriter.appendAll): what derivations leave (d) of the trace's start and
// end, each fact's start and end but those of inferred facts derived from
// their edges, each edge's, and when the trace was updated.
func timeFields(s *Summary, d uint64, fn func(*float64)) {
	if d&deriveStart == 0 {
		fn(&s.StartTime)
	}
	if d&deriveEnd == 0 {
		fn(&s.EndTime)
	}
	for i := range s.Segments {
		if f := &s.Segments[i]; !f.Inferred || d&deriveInferredFacts == 0 {
			fn(&f.Start)
			fn(&f.End)
		}
	}
	for i := range s.Edges {
		fn(&s.Edges[i].Start)
		fn(&s.Edges[i].End)
	}
	fn(&s.UpdatedAt)
}
