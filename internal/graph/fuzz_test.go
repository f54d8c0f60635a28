package graph_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{
		`service("orders")`, `service(id(name: "fn", type: "AWS::Lambda::Function"))`, `service()`,
		`id(name: "a", account.id: "123")`, `edge("a", "b")`, `edge(id(name: "a"), "b")`,
		`edge("a")`, `service("x`, `id(`, `bogus("x")`, `service("x") extra`, `service("a\"b")`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		sel, err := graph.ParseSelector(src)
		if err != nil {
			if !strings.Contains(err.Error(), "character") {
				t.Errorf("error %q does not say where", err)
			}
			return
		}
		// Whatever parses selects without panicking.
		sel.Matches(graph.NodeEntity(trace.NodeID{Name: "a"}))
		sel.Matches(graph.EdgeEntity(trace.NodeID{Name: "a"}, trace.NodeID{Name: "b"}))
	})
}

func FuzzStatsDecode(f *testing.F) {
	s := graph.Stats{OK: 3, Fault: 1, ResponseMicros: 123456, First: 1700000000, Last: 1700000060,
		Response: graph.Histogram{{Ms: 5, Count: 2}, {Ms: 1230, Count: 1}}, Duration: graph.Histogram{{Ms: 7, Count: 3}}}
	f.Add(s.Encode())
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var x graph.Stats
		if x.Decode(b) != nil {
			return
		}
		// What decodes re-encodes to a record that decodes the same.
		var y graph.Stats
		if err := y.Decode(x.Encode()); err != nil || !reflect.DeepEqual(normal(x), normal(y)) {
			t.Errorf("round trip: %+v -> %+v, %v", x, y, err)
		}
	})
}

// A value of several concatenated deltas (what a store keeps when it does
// not combine them) decodes to their sum, and CombineStats sums them to the
// same thing, or refuses what does not decode.
func FuzzCombineStats(f *testing.F) {
	a := (&graph.Stats{OK: 2, ResponseMicros: 10, Response: graph.Histogram{{Ms: 5, Count: 2}}}).Encode()
	b := (&graph.Stats{OK: -1, Fault: 1, ResponseMicros: 3, Response: graph.Histogram{{Ms: 5, Count: -1}, {Ms: 9, Count: 1}}}).Encode()
	f.Add(append(append([]byte{}, a...), b...), len(a))
	f.Add([]byte{1, 0}, 1)
	f.Fuzz(func(t *testing.T, v []byte, cut int) {
		if cut < 0 || cut > len(v) {
			return
		}
		var whole graph.Stats
		werr := whole.Decode(v)
		sum := graph.CombineStats([][]byte{v[:cut], v[cut:]})
		if want := graph.CombineStatsByAdd([][]byte{v[:cut], v[cut:]}); !bytes.Equal(sum, want) {
			t.Fatalf("combined %x, by adding %x", sum, want)
		}
		if sum == nil {
			return // an operand does not decode on its own
		}
		var got graph.Stats
		if err := got.Decode(sum); err != nil {
			t.Fatalf("combined value does not decode: %v", err)
		}
		if werr == nil && !reflect.DeepEqual(normal(whole), normal(got)) {
			t.Errorf("concatenated %+v, combined %+v", whole, got)
		}
	})
}

func normal(s graph.Stats) graph.Stats {
	if len(s.Response) == 0 {
		s.Response = nil
	}
	if len(s.Duration) == 0 {
		s.Duration = nil
	}
	return s
}

func TestHistogramBins(t *testing.T) {
	for _, c := range []struct {
		sec  float64
		want int64
	}{{0.0004, 0}, {0.0006, 1}, {0.076, 76}, {0.9994, 999}, {1.2345, 1230}, {12.345, 12300}, {-1, 0}} {
		if got := graph.BinOf(c.sec); got != c.want {
			t.Errorf("BinOf(%g) = %d, want %d", c.sec, got, c.want)
		}
	}
	var h graph.Histogram
	h.Add(5, 1)
	h.Add(3, 2)
	h.Merge(graph.Histogram{{Ms: 3, Count: 2}, {Ms: 9, Count: 1}}, -1)
	if want := (graph.Histogram{{Ms: 5, Count: 1}, {Ms: 9, Count: -1}}); !reflect.DeepEqual(h, want) {
		t.Errorf("histogram = %v, want %v", h, want)
	}
}
