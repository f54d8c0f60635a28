package pebble_test

import (
	"testing"

	"github.com/klauspost/compress/zstd"
)

// BenchmarkBlobZstd compresses 20,000 generated traces' documents in
// blocks of blobBlockSize (63 KiB) with the zstd encoder Pebble makes for
// each blob file (internal/compression: klauspost/compress at its fastest
// level, its other options at their defaults), and with options Pebble
// does not reach, to say what each would save in CPU and cost in bytes.
// One op compresses every block once; compare the variants' instructions
// under callgrind (one variant a run, -test.benchtime 1x and 3x), whose
// counts repeat. docs/performance.md, session 27 (flush27).
func BenchmarkBlobZstd(b *testing.B) {
	var blocks [][]byte
	var block []byte
	docs := 0
	for _, c := range generatedPuts(b, 20_000) {
		for _, p := range c {
			for _, d := range p.Docs {
				docs++
				block = append(block, d.Raw...)
				if len(block) >= 63<<10-256 {
					blocks, block = append(blocks, block), nil
				}
			}
		}
	}
	blocks = append(blocks, block)
	for _, v := range []struct {
		name string
		opts []zstd.EOption
	}{
		{"pebble", nil},
		{"nocrc", []zstd.EOption{zstd.WithEncoderCRC(false)}},
		{"nocrc-oneenc", []zstd.EOption{zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1)}},
		{"window64k", []zstd.EOption{zstd.WithEncoderCRC(false), zstd.WithWindowSize(64 << 10)}},
		{"noentropy", []zstd.EOption{zstd.WithNoEntropyCompression(true)}},
		{"default", []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedDefault)}},
	} {
		b.Run(v.name, func(b *testing.B) {
			var out []byte
			n := 0
			for b.Loop() {
				n = 0
				// A new encoder per op, as Pebble makes one per blob file
				// (of ~30 MB of documents at the server's memtable size).
				enc, err := zstd.NewWriter(nil, append([]zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedFastest)}, v.opts...)...)
				if err != nil {
					b.Fatal(err)
				}
				for _, blk := range blocks {
					out = enc.EncodeAll(blk, out[:0])
					n += len(out)
				}
				enc.Close()
			}
			b.ReportMetric(float64(n)/float64(docs), "bytes/doc")
		})
	}
}
