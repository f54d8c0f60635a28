package clickhouse

import (
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// BenchmarkDocForm is Roentgen's cost of the stored form per generated
// segment document: compressing it for the INSERT (encode) and
// decompressing it where a read returns another process's (decode).
//
//	go test ./internal/store/clickhouse/ -run '^$' -bench DocForm
func BenchmarkDocForm(b *testing.B) {
	g := bench.NewGenerator(3)
	var docs [][]byte
	for i := range 256 {
		_, d := g.Trace(time.Unix(1700000000+int64(i), 0), 4)
		docs = append(docs, d...)
	}
	b.Run("encode", func(b *testing.B) {
		var dst []byte
		for i := range b.N {
			dst = appendDocForm(dst[:0], docs[i%len(docs)])
		}
	})
	b.Run("decode", func(b *testing.B) {
		stored := make([][]byte, len(docs))
		for i, d := range docs {
			stored[i] = appendDocForm(nil, d)
		}
		var d docReader
		b.ResetTimer()
		for i := range b.N {
			if _, err := d.doc(stored[i%len(stored)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
