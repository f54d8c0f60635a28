package bench_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/klauspost/compress/dict"
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

// BenchmarkDocumentDictionary measures a zstd dictionary trained on the
// store's own documents (klauspost/compress/dict, trained on the first
// 2,000 documents, measured on the 20,000 after them): each document
// compressed alone, as a per-document blob would be, and 64 KiB blocks, as
// Pebble's blob files are, against 64 KiB blocks without it.
func BenchmarkDocumentDictionary(b *testing.B) {
	const train, docs = 2000, 20000
	all := bench.NewGenerator(1).Batches(time.Now(), train+docs, train+docs)[0]
	for _, size := range []int{16 << 10, 64 << 10} {
		d, err := dict.BuildZstdDict(all[:train], dict.Options{MaxDictSize: size, HashBytes: 6, ZstdDictID: 1})
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"per-doc", "block=64KiB"} {
			b.Run(fmt.Sprintf("dict=%dKiB/%s", size>>10, mode), func(b *testing.B) {
				enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderDict(d))
				if err != nil {
					b.Fatal(err)
				}
				defer enc.Close()
				total := 0
				for b.Loop() {
					total = 0
					if mode == "per-doc" {
						for _, doc := range all[train:] {
							total += len(enc.EncodeAll(doc, nil))
						}
						continue
					}
					var block []byte
					for _, doc := range all[train:] {
						block = append(block, doc...)
						if len(block) >= 64<<10 {
							total += len(enc.EncodeAll(block, nil))
							block = block[:0]
						}
					}
					total += len(enc.EncodeAll(block, nil))
				}
				b.ReportMetric(float64(total)/docs, "bytes/doc")
				b.ReportMetric(float64(len(d)), "dict-bytes")
			})
		}
	}
}
