package bench_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// BenchmarkDocumentCompression compresses generated documents, in the
// order roentgen-bench sends them (traces interleaved in groups of 64), in
// blocks of each size at each zstd level, as Pebble
// compresses the documents' blob files (64 KiB blocks, level 1), and
// reports bytes per document and the compression ratio: what a codec or
// block size would save on disk before anyone builds it.
func BenchmarkDocumentCompression(b *testing.B) {
	const docs = 20000
	var all []byte
	for _, d := range bench.NewGenerator(1).Batches(time.Now(), docs, docs)[0] {
		all = append(all, d...)
	}
	for _, block := range []int{64 << 10, 256 << 10, 1 << 20} {
		for _, level := range []int{1, 3, 6} {
			b.Run(fmt.Sprintf("block=%dKiB/level=%d", block>>10, level), func(b *testing.B) {
				// The pure-Go codec, at the level Pebble maps each zstd level
				// to when built without cgo (the default build).
				enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)))
				if err != nil {
					b.Fatal(err)
				}
				defer enc.Close()
				b.SetBytes(int64(len(all)))
				total := 0
				for b.Loop() {
					total = 0
					for off := 0; off < len(all); off += block {
						total += len(enc.EncodeAll(all[off:min(off+block, len(all))], nil))
					}
				}
				b.ReportMetric(float64(total)/float64(docs), "bytes/doc")
				b.ReportMetric(float64(len(all))/float64(total), "ratio")
			})
		}
	}
}
