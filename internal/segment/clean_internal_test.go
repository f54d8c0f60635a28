package segment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/roentgen-tracing/roentgen/internal/fixtures"
)

// parseSlow is parseOne as it was before the scanner told validation that
// no annotation needs cleaning: goccy decodes, and every map is cleaned.
func parseSlow(t *testing.T, doc []byte, opt Options) *Segment {
	t.Helper()
	s := &Segment{Raw: doc}
	if err := gojson.UnmarshalWithOption(doc, s, gojson.DecodeNoCopyString()); err != nil {
		t.Fatalf("goccy: %v: %s", err, doc)
	}
	noNilSubsegments(s)
	if err := validateTop(s, opt.withDefaults(), false); err != nil {
		t.Fatalf("validate: %v: %s", err, doc)
	}
	return s
}

// Parse skips cleanAnnotations when the scanner saw nothing it removes:
// its segments equal those of a parse that cleans every map, also for the
// entries cleaning removes (null values, empty and overlong keys), at the
// top and in subsegments.
func TestParseCleansAnnotationsAsBefore(t *testing.T) {
	sub := func(ann string) string {
		return `"subsegments":[{"name":"db","id":"53995c3f42cd8ad8","start_time":` + start() + `,"end_time":` + start() + `,"annotations":` + ann + `}]`
	}
	long := strings.Repeat("k", maxAnnotationKey)
	anns := []string{
		`{}`, `{"a":"x","n":2,"b":true}`, `{"a":null}`, `{"":1}`, `{"a":1,"":"x","b":null}`,
		`{"` + long + `":1}`, `{"` + long + `k":1}`, `{"a":null,"a":"x"}`, `{"a":"x","a":null}`, `{"n":-0,"m":1023,"o":1024,"p":0.5}`,
	}
	var docs []string
	for _, a := range anns {
		docs = append(docs, doc(`"annotations":`+a), doc(sub(a)), doc(`"annotations":{"top":1}`, sub(a)),
			doc(`"annotations":`+a, `"links":[{"trace_id":"`+tid+`","id":"53995c3f42cd8ad8","attributes":{"x":null}}]`))
	}
	opt := opts()
	opt.SkipTraceEpoch = true
	check := func(d []byte) {
		got, err := Parse(d, opt)
		if err != nil {
			t.Fatalf("%v: %s", err, d)
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], parseSlow(t, got[0].Raw, opt)) {
			t.Fatalf("Parse and the cleaning parse differ on %s\n%#v", d, got[0])
		}
	}
	for _, d := range docs {
		check([]byte(d))
	}
	for _, dg := range fixtures.Datagrams() {
		if segs, err := Parse(dg.Body(), opt); err == nil && len(segs) == 1 && dg.Body()[0] == '{' {
			check(dg.Body())
		}
	}
}

func start() string {
	return doc()[strings.Index(doc(), `"start_time":`)+len(`"start_time":`) : strings.Index(doc(), `,"end_time"`)]
}

// asciiName is nameRune for every ASCII byte, and refuses any other.
func TestASCIINameMatchesNameRune(t *testing.T) {
	for c := range 256 {
		name := string([]byte{'a', byte(c), 'b'})
		want := c < 0x80 && nameRune(rune(c))
		if got := asciiName(name); got != want {
			t.Errorf("asciiName(%q) = %v, want %v", name, got, want)
		}
	}
}

// boxFloat gives the value it is given, to the bit (-0 stays -0).
func TestBoxFloatKeepsBits(t *testing.T) {
	for _, x := range []float64{0, math.Copysign(0, -1), 1, 2, 255, 1023, 1023.5, 1024, -1, 0.5, 1e300, math.SmallestNonzeroFloat64, 1 << 62, -1 << 63} {
		v, ok := boxFloat(x).(float64)
		if !ok || math.Float64bits(v) != math.Float64bits(x) {
			t.Errorf("boxFloat(%v) = %v", x, boxFloat(x))
		}
	}
}

// Prepared options check documents as the same options unprepared do:
// the same segments, the same errors, around every time bound (trace ids'
// epochs and start and end times a second either side of them), for clocks
// with and without a fraction of a second and bounds with and without one.
func TestPreparedOptionsParseAsUnprepared(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 300 {
		now := time.Unix(1_700_000_000+r.Int64N(200_000_000), 0)
		if round%2 == 1 {
			now = now.Add(time.Duration(r.Int64N(int64(time.Second))))
		}
		opt := Options{Now: now, SkipTraceEpoch: round%5 == 4, Stored: round%7 == 6}
		if round%3 == 1 {
			opt.MaxAge = time.Duration(r.Int64N(int64(48 * time.Hour)))
			opt.MaxFuture = time.Duration(r.Int64N(int64(10 * time.Minute)))
		}
		d := opt.withDefaults()
		edges := []int64{d.Now.Add(-d.MaxAge).Unix(), d.Now.Add(d.MaxFuture).Unix(), d.Now.Unix()}
		for range 20 {
			ep := edges[r.IntN(len(edges))] + r.Int64N(5) - 2
			st := float64(edges[r.IntN(len(edges))]+r.Int64N(5)-2) + r.Float64()
			if r.IntN(4) == 0 {
				st = float64(ep-3600+r.Int64N(5)-2) + r.Float64()
			}
			et := st + r.Float64()*2
			tid := fmt.Sprintf("1-%08x-%024x", ep, r.Uint64())
			doc := fmt.Sprintf(`{"trace_id":%q,"id":"70de5b6f19ff9a0a","name":"a","start_time":%f,"end_time":%f,"subsegments":[{"id":"53995c3f42cd8ad8","name":"b","start_time":%f,"end_time":%f}]}`, tid, st, et, st, et)
			a, errA := Parse([]byte(doc), opt)
			b, errB := Parse([]byte(doc), opt.Prepared())
			if fmt.Sprint(errA) != fmt.Sprint(errB) || !reflect.DeepEqual(a, b) {
				t.Fatalf("options %+v, %s:\nunprepared %v %v\nprepared   %v %v", opt, doc, a, errA, b, errB)
			}
		}
	}
}
