package trace_test

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minlz"
	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// BenchmarkSummaryFieldCosts logs what each field of the stored (compact)
// summary costs per segment: 20,000 generated traces of each shape
// (single-segment, then ~4 segments), each summary encoded with the field
// zeroed, all of them in key order compressed as the main LSM's bottom
// level does (MinLZ balanced, 128 KiB blocks), against none zeroed. Keys
// and table overhead are left out. Times are deltas from the trace's start,
// so zeroing one costs more rather than less and is not shown. Run with
// -benchtime 1x -v (without -v the log is cut short); the numbers are
// deterministic.
func BenchmarkSummaryFieldCosts(b *testing.B) {
	for b.Loop() {
		for _, size := range []int{1, 0} {
			fieldCosts(b, size)
		}
	}
}

func fieldCosts(b *testing.B, size int) {
	g := bench.NewGenerator(1)
	end := time.Unix(1_800_000_000, 0)
	var sums []*trace.Summary
	for i := range 20000 {
		id, raws := g.Trace(end.Add(time.Duration(i-20000)*100*time.Microsecond), size)
		tr := &trace.Trace{ID: id}
		for _, r := range raws {
			segs, err := segment.Parse(r, segment.Options{Now: end})
			if err != nil {
				b.Fatal(err)
			}
			tr.Put(segs...)
		}
		sums = append(sums, trace.Summarize(trace.Assemble(tr), nil, float64(end.Unix())))
	}
	sort.SliceStable(sums, func(i, j int) bool { return sums[i].TraceID < sums[j].TraceID })
	segs := 0
	for _, s := range sums {
		segs += s.SegmentCount
	}
	measure := func(zero func(*trace.Summary)) (raw, packed float64) {
		var all []byte
		for _, s0 := range sums {
			s := *s0
			if zero != nil {
				zero(&s)
			}
			var err error
			if all, err = trace.AppendCompactSummary(all, &s, s.TraceID); err != nil {
				b.Fatal(err)
			}
		}
		n := 0
		for off := 0; off < len(all); off += 128 << 10 {
			out, err := minlz.Encode(nil, all[off:min(off+128<<10, len(all))], minlz.LevelBalanced)
			if err != nil {
				b.Fatal(err)
			}
			n += len(out)
		}
		return float64(len(all)) / float64(segs), float64(n) / float64(segs)
	}
	raw0, packed0 := measure(nil)
	b.Logf("segments per trace %d (0: ~4): %d segments, %.1f bytes per segment, %.1f compressed; zeroing a field saves:",
		size, segs, raw0, packed0)
	report := func(name string, zero func(*trace.Summary)) {
		raw, packed := measure(zero)
		if raw0-raw > 0.05 || packed0-packed > 0.05 || strings.Contains(name, " ") {
			b.Logf("  %-28s %5.1f  compressed %5.1f", name, raw0-raw, packed0-packed)
		}
	}
	typ := reflect.TypeFor[trace.Summary]()
	for i := range typ.NumField() {
		report(typ.Field(i).Name, func(s *trace.Summary) {
			v := reflect.ValueOf(s).Elem().Field(i)
			v.Set(reflect.Zero(v.Type()))
		})
	}
	// An inferred segment's fact takes its HTTP from the calling
	// subsegment, as its edge does: what leaving it out would save.
	report("Segments.HTTP of inferred", func(s *trace.Summary) {
		s.Segments = slices.Clone(s.Segments)
		for j := range s.Segments {
			if s.Segments[j].Inferred {
				s.Segments[j].HTTP = trace.HTTP{}
			}
		}
	})
	for _, list := range []string{"Segments", "Edges", "Nodes"} {
		et, _ := typ.FieldByName(list)
		for k := range et.Type.Elem().NumField() {
			report(list+"."+et.Type.Elem().Field(k).Name, func(s *trace.Summary) {
				v := reflect.ValueOf(s).Elem().FieldByName(list)
				c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
				reflect.Copy(c, v)
				for j := range c.Len() {
					f := c.Index(j).Field(k)
					f.Set(reflect.Zero(f.Type()))
				}
				v.Set(c)
			})
		}
	}
}
