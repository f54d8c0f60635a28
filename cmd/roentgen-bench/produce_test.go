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
		p.free <- b
		i++
	}
	if i != len(want) {
		t.Fatalf("%d batches, want %d", i, len(want))
	}
}

// A run stopped early (its deadline, a sender's error) stops the producer
// wherever it is; goleak (TestMain) checks that it ended.
func TestProducerStopsEarly(t *testing.T) {
	p := startProducer(bench.NewGenerator(1).Stream(time.Now(), bench.NominalTraceRate, 1_000_000, 50), true, 2)
	<-p.ready
	p.close()
	p.close()
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
