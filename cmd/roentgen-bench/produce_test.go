package main

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// The producer's request bodies carry the stream's documents, in order,
// each exactly once, in batches of the stream's size.
func TestProducerWritesTheStreamsDocuments(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	want := bench.NewGenerator(4).Batches(at, 1234, 50)
	p := startProducer(bench.NewGenerator(4).Stream(at, bench.NominalTraceRate, 1234, 50), true, 3)
	defer p.close()
	i := 0
	for b := range p.ready {
		var req struct{ TraceSegmentDocuments []string }
		if err := json.Unmarshal(b.body, &req); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		raw := 0
		for j, d := range req.TraceSegmentDocuments {
			if d != string(want[i][j]) {
				t.Fatalf("batch %d document %d:\n%s\nwant\n%s", i, j, d, want[i][j])
			}
			raw += len(d)
		}
		if len(req.TraceSegmentDocuments) != len(want[i]) || raw != b.raw {
			t.Fatalf("batch %d: %d documents of %d bytes (counted %d), want %d", i, len(req.TraceSegmentDocuments), raw, b.raw, len(want[i]))
		}
		p.refill(b)
		i++
	}
	if i != len(want) {
		t.Fatalf("%d batches, want %d", i, len(want))
	}
}

// From a generator writing its documents escaped, the producer's request
// bodies and raw byte counts are byte for byte those it makes escaping the
// same seed's documents itself, for both trace shapes.
func TestProducerBodiesFromEscapedDocumentsAreTheSame(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	for _, size := range []int{0, 1} {
		raw, esc := bench.NewGenerator(9), bench.NewGenerator(9)
		raw.TraceSize, esc.TraceSize, esc.Escaped = size, size, true
		want := startProducer(raw.Stream(at, bench.NominalTraceRate, 2345, 50), true, 3)
		got := startProducer(esc.Stream(at, bench.NominalTraceRate, 2345, 50), true, 3)
		i := 0
		for w := range want.ready {
			g, ok := <-got.ready
			if !ok {
				t.Fatalf("size %d: %d batches from escaped documents, want more", size, i)
			}
			if string(g.body) != string(w.body) || g.raw != w.raw || g.n != w.n {
				t.Fatalf("size %d batch %d: body of %d bytes (%d raw, %d documents), want %d (%d raw, %d documents)",
					size, i, len(g.body), g.raw, g.n, len(w.body), w.raw, w.n)
			}
			want.refill(w)
			got.refill(g)
			i++
		}
		if _, ok := <-got.ready; ok {
			t.Fatalf("size %d: more batches from escaped documents than %d", size, i)
		}
		want.close()
		got.close()
	}
}

// A run stopped early (its deadline, a sender's error) stops the producer
// wherever it is: batches sent after are not made anew.
func TestProducerStopsEarly(t *testing.T) {
	p := startProducer(bench.NewGenerator(1).Stream(time.Now(), bench.NominalTraceRate, 1_000_000, 50), true, 2)
	b := <-p.ready
	p.close()
	p.close()
	p.refill(b)
	<-p.ready
	select {
	case b, ok := <-p.ready:
		t.Fatalf("a batch made after close: %v, %v", b, ok)
	default:
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add([]byte(`{"message":"Cannot invoke \"Order.getId()\" because\n\t<x> & é"}`))
	f.Add([]byte("\x00\x1f\\"))
	f.Fuzz(func(t *testing.T, s []byte) {
		if !utf8.Valid(s) {
			return // the generator writes valid UTF-8; appendJSONString promises nothing else
		}
		q := appendJSONString([]byte("x"), s)[1:]
		var got string
		if err := json.Unmarshal(q, &got); err != nil || got != string(s) {
			t.Fatalf("%q quoted as %s: %q, %v", s, q, got, err)
		}
	})
}

// BenchmarkAppendRequest is the harness's cost per document of writing a
// request body (escaping each document once).
func BenchmarkAppendRequest(b *testing.B) {
	docs := bench.NewGenerator(1).Batches(time.Now(), 50, 50)[0]
	var body []byte
	cpu := bench.StartCPU()
	for b.Loop() {
		body = appendRequest(body[:0], docs)
	}
	cpu.Report(b)
	b.SetBytes(int64(len(body)))
}

// BenchmarkProduceBodies is the producer's cost per segment over HTTP (one
// op is one segment document, generated and put in a request body), with
// the documents escaped here (escape) and written escaped (escaped).
func BenchmarkProduceBodies(b *testing.B) {
	for _, size := range []int{0, 1} {
		for _, escaped := range []bool{false, true} {
			name := map[int]string{0: "mixed", 1: "single"}[size] + map[bool]string{false: "/escape", true: "/escaped"}[escaped]
			b.Run(name, func(b *testing.B) {
				g := bench.NewGenerator(1)
				g.TraceSize, g.Escaped = size, escaped
				p := startProducer(g.Stream(time.Unix(1_800_000_000, 0), bench.NominalTraceRate, b.N, 50), true, 4)
				defer p.close()
				cpu := bench.StartCPU()
				b.ResetTimer()
				for bt := range p.ready {
					p.refill(bt)
				}
				b.StopTimer()
				cpu.Report(b)
			})
		}
	}
}

// Senders refilling batches at once make the stream's batches between
// them, each exactly once.
func TestProducerRefilledBySendersAtOnce(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	want := map[string]int{}
	for _, b := range bench.NewGenerator(6).Batches(at, 4321, 50) {
		want[string(appendRequest(nil, b))]++
	}
	p := startProducer(bench.NewGenerator(6).Stream(at, bench.NominalTraceRate, 4321, 50), true, 8)
	defer p.close()
	got := make(chan map[string]int, 4)
	for range 4 {
		go func() {
			seen := map[string]int{}
			for b := range p.ready {
				seen[string(b.body)]++
				p.refill(b)
			}
			got <- seen
		}()
	}
	for range 4 {
		for body, n := range <-got {
			want[body] -= n
		}
	}
	for body, n := range want {
		if n != 0 {
			t.Fatalf("a batch made %d times too few: %.100s", n, body)
		}
	}
}
