package segment_test

import (
	"testing"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// BenchmarkParse decodes and validates generated ~1 kB segment documents.
func BenchmarkParse(b *testing.B) {
	g := bench.NewGenerator(1)
	now := time.Now()
	var docs [][]byte
	size := 0
	for len(docs) < 1000 {
		_, d := g.Trace(now, 0)
		for _, x := range d {
			size += len(x)
		}
		docs = append(docs, d...)
	}
	opt := segment.Options{Now: now}.Prepared() // as ingest parses a call's documents
	b.SetBytes(int64(size / len(docs)))
	b.ReportAllocs()
	cpu := bench.StartCPU()
	for i := 0; b.Loop(); i++ {
		if _, err := segment.Parse(docs[i%len(docs)], opt); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
}

// BenchmarkDecode decodes generated documents of both shapes into a
// Segment, without validation: the schema decoder against goccy.
func BenchmarkDecode(b *testing.B) {
	docs := generatedDocs()[:1000]
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	for _, c := range []struct {
		name   string
		decode func([]byte, *segment.Segment) bool
	}{
		{"schema", segment.DecodeFast},
		{"goccy", decodeGoccy},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(size / len(docs)))
			b.ReportAllocs()
			cpu := bench.StartCPU()
			for i := 0; b.Loop(); i++ {
				var s segment.Segment
				if !c.decode(docs[i%len(docs)], &s) {
					b.Fatal("not decoded")
				}
			}
			cpu.Report(b)
		})
	}
}

// decodeGoccy is what parseOne did before the schema decoder.
func decodeGoccy(doc []byte, s *segment.Segment) bool {
	return gojson.UnmarshalWithOption(doc, s, gojson.DecodeNoCopyString()) == nil
}
