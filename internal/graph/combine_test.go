package graph_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
)

// TestCombineStatsMatchesAdd: CombineStats, which merges histograms from
// the bytes, gives byte for byte what decoding and adding each delta gives,
// over random deltas (cancelling bins and counts, several deltas to a
// value) and the ones it hands to that slower path: bins out of order or
// counting zero, and corrupt or empty deltas.
func TestCombineStatsMatchesAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 11))
	stats := func() *graph.Stats {
		s := &graph.Stats{OK: rng.Int64N(5) - 2, ErrorOther: rng.Int64N(3), Throttle: rng.Int64N(2), Fault: rng.Int64N(3) - 1,
			ResponseMicros: rng.Int64N(1e6) - 5e5, Root: rng.Int64N(3) - 1, Real: rng.Int64N(3),
			First: rng.Int64N(3) * 1e9, Last: rng.Int64N(3) * 2e9}
		for _, h := range []*graph.Histogram{&s.Response, &s.Duration} {
			for range rng.IntN(12) {
				h.Add(rng.Int64N(40)*rng.Int64N(3000), rng.Int64N(5)-2)
			}
		}
		if rng.IntN(30) == 0 && len(s.Response) > 1 { // not Encode's form
			if rng.IntN(2) == 0 {
				s.Response[0].Count = 0
			} else {
				s.Response[0], s.Response[1] = s.Response[1], s.Response[0]
			}
		}
		return s
	}
	fast := 0
	for i := range 20000 {
		var deltas [][]byte
		for range 1 + rng.IntN(8) {
			v := stats().Encode()
			for rng.IntN(4) == 0 { // concatenated deltas
				v = append(v, stats().Encode()...)
			}
			switch rng.IntN(150) {
			case 0:
				v = v[:rng.IntN(len(v))]
			case 1:
				v[rng.IntN(len(v))] ^= byte(1 + rng.IntN(255))
			}
			deltas = append(deltas, v)
		}
		got, want := graph.CombineStats(deltas), graph.CombineStatsByAdd(deltas)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d: CombineStats(%x) = %x, by adding %x", i, deltas, got, want)
		}
		if want != nil {
			fast++
		}
	}
	if fast < 10000 {
		t.Fatalf("only %d of the cases combined: the test checks little", fast)
	}
}

// BenchmarkCombineStats is Pebble's merge of one record's operands, as a
// flush or compaction meets them: 8 deltas of a busy entity's minute.
func BenchmarkCombineStats(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var deltas [][]byte
	for range 8 {
		s := graph.Stats{OK: 40, ResponseMicros: 1e6, First: 1.8e9, Last: 1.8e9 + 60}
		for range 40 {
			s.Response.Add(rng.Int64N(300), 1)
			s.Duration.Add(rng.Int64N(300), 1)
		}
		deltas = append(deltas, s.Encode())
	}
	b.ReportAllocs()
	for b.Loop() {
		graph.CombineStats(deltas)
	}
}
