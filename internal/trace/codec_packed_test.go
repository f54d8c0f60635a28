package trace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/fieldcodec/fill"
)

// AppendPackedByReflection is the reference encoder, for the fixture and
// fuzz tests of package trace_test.
var AppendPackedByReflection = appendPackedByReflection

// AssertPackedEqual fails tb when AppendSummaryUnder's bytes for s differ
// from fieldcodec's, with and without the trace id left out.
func AssertPackedEqual(tb testing.TB, what string, s *Summary) {
	tb.Helper()
	for _, under := range []string{"", s.TraceID} {
		want, wantErr := appendReference([]byte("prefix"), s, under != "")
		got, gotErr := AppendSummaryUnder([]byte("prefix"), s, under)
		if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
			tb.Fatalf("%s: errors differ (under %q): fieldcodec %v, direct %v", what, under, wantErr, gotErr)
		}
		if !bytes.Equal(got, want) {
			at := 0
			for at < min(len(got), len(want)) && got[at] == want[at] {
				at++
			}
			tb.Fatalf("%s, under %q: bytes differ from fieldcodec's at %d of %d/%d:\n direct    %x\n fieldcodec %x\nsummary %#v",
				what, under, at, len(got), len(want), got, want, s)
		}
	}
}

// appendReference is what AppendSummaryUnder must write, by fieldcodec: the
// packed form, or, when fields derive, the derived form's flags and the
// packed form of s with those fields zero.
func appendReference(dst []byte, s *Summary, omitID bool) ([]byte, error) {
	d := derivedFields(s)
	if d == 0 {
		return appendPackedByReflection(dst, s, omitID)
	}
	c := *s
	if d&deriveHTTP != 0 {
		c.HTTP = HTTP{}
	}
	if d&deriveStart != 0 {
		c.StartTime = 0
	}
	if d&deriveEnd != 0 {
		c.EndTime = 0
	}
	if d&deriveDuration != 0 {
		c.Duration = 0
	}
	if d&deriveResponseTime != 0 {
		c.ResponseTime = 0
	}
	if d&deriveNames != 0 {
		c.Nodes = slices.Clone(c.Nodes)
		for i := range c.Nodes {
			c.Nodes[i].Names = nil
		}
	}
	if d&deriveResponseTimeRootCauses != 0 {
		c.ResponseTimeRootCauses = nil
	}
	if d&deriveInferredFacts != 0 {
		c.Segments = slices.Clone(c.Segments)
		for i := range c.Segments {
			if c.Segments[i].Inferred {
				c.Segments[i] = SegmentFact{Inferred: true}
			}
		}
	}
	b, err := appendPackedByReflection(binary.AppendUvarint(append(dst, summaryDerived), d), &c, omitID)
	if err != nil {
		return appendPackedByReflection(dst, s, omitID) // the fallback that reports it
	}
	// appendPackedByReflection wrote its own format byte after the flags.
	at := len(dst) + 1 + uvarintLen(d)
	return append(b[:at], b[at+1:]...), nil
}

func uvarintLen(v uint64) int { return len(binary.AppendUvarint(nil, v)) }

// The direct encoder writes fieldcodec's bytes for every field of Summary
// and the types it holds: the filler sets all of them (so a field added
// later and not to appendPackedSummary fails here), and random summaries
// add zero, nil, empty, hex, long and odd values.
func TestPackedSummaryMatchesFieldcodec(t *testing.T) {
	seeds := 3000
	if testing.Short() {
		seeds = 300
	}
	for seed := range seeds {
		s := new(Summary)
		if seed%4 == 0 {
			f := &fill.Filler{}
			for range seed / 4 {
				f.Fill(new(HTTP)) // a different value for every field, per seed
			}
			f.Fill(s)
		} else {
			r := rand.New(rand.NewPCG(uint64(seed), 15))
			randomValue(r, reflect.ValueOf(s).Elem(), 0)
		}
		AssertPackedEqual(t, fmt.Sprint("seed ", seed), s)
	}
}

// An annotation value of a type the packed form cannot hold gets
// fieldcodec's error, as before.
func TestPackedSummaryUnstorableValue(t *testing.T) {
	s := &Summary{TraceID: "1-5759e988-bd862e3fe1be46a994272793",
		Annotations: []Annotation{{Key: "k", Value: []int{1}}}}
	AssertPackedEqual(t, "[]int annotation", s)
	if _, err := EncodeSummary(s); err == nil {
		t.Fatal("a []int annotation value encoded")
	}
}

// randomValue sets v and everything it holds at random, a fifth of the
// time to its zero value, reaching the encoders' edge cases: empty strings
// that keep a data pointer (not zero to fieldcodec), hex strings, -0 and
// NaN, bodies over 127 bytes, nil against empty slices.
func randomValue(r *rand.Rand, v reflect.Value, depth int) {
	if r.IntN(5) == 0 {
		v.SetZero()
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		switch r.IntN(3) {
		case 0:
			v.SetInt(int64(r.IntN(200)) - 100)
		case 1:
			v.SetInt(int64(r.Uint64()))
		default:
			v.SetInt(math.MinInt64 + int64(r.IntN(3)))
		}
	case reflect.Float64:
		v.SetFloat([]float64{math.Copysign(0, -1), math.NaN(), math.Inf(1), r.Float64() * 2e9, 1.7e9 + r.Float64()}[r.IntN(5)])
	case reflect.String:
		v.SetString(randomString(r))
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				randomValue(r, v.Field(i), depth+1)
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		randomValue(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		n := r.IntN(4)
		if depth < 3 && r.IntN(4) == 0 {
			n = r.IntN(40) // long enough for lengths of two bytes and more
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			randomValue(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Interface:
		vals := []any{randomString(r), r.Float64(), r.IntN(2) == 0, int64(r.Uint64()), r.IntN(1000) - 500, math.Copysign(0, -1)}
		v.Set(reflect.ValueOf(vals[r.IntN(len(vals))]))
	default:
		panic(fmt.Sprintf("randomValue: %s: add this kind", v.Type()))
	}
}

func randomString(r *rand.Rand) string {
	const hex, other = "0123456789abcdef", "0123456789abcdefABCDEF-xyz/é"
	switch r.IntN(6) {
	case 0:
		return "abcd"[:0] // empty, with a data pointer
	case 1, 2: // hex digits, even or odd in number, sometimes long
		n := r.IntN(24)
		if r.IntN(4) == 0 {
			n = 100 + r.IntN(200)
		}
		var b strings.Builder
		for range n {
			b.WriteByte(hex[r.IntN(len(hex))])
		}
		return b.String()
	case 3:
		return "1-5759e988-bd862e3fe1be46a994272793"
	default:
		n := r.IntN(40)
		if r.IntN(5) == 0 {
			n = 130 + r.IntN(300)
		}
		var b strings.Builder
		for range n {
			b.WriteByte(other[r.IntN(len(other))])
		}
		return b.String()
	}
}
