package segment_test

import (
	"testing"
	"time"

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
	opt := segment.Options{Now: now}
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
