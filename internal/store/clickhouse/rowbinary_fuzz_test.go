package clickhouse

import (
	"encoding/binary"
	"testing"
)

// FuzzRowReaderArrays reads arbitrary answers as rows of an Array(UInt64)
// and a String: no input panics or reads past the answer, and an array
// written as RowBinary reads back as it was.
func FuzzRowReaderArrays(f *testing.F) {
	f.Add([]byte{2, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 'x'}, uint64(7), uint8(3))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, uint64(0), uint8(0))
	f.Fuzz(func(t *testing.T, answer []byte, v uint64, n uint8) {
		r := rowReader{b: answer}
		for r.more() {
			before := len(r.b)
			r.u64s(func(uint64) {})
			r.str()
			if r.err == nil && len(r.b) >= before {
				t.Fatalf("a row read nothing")
			}
		}
		var w rowWriter
		w.b = binary.AppendUvarint(w.b, uint64(n))
		for i := range n {
			w.u64(v + uint64(i))
		}
		w.str("end")
		r = rowReader{b: w.b}
		var got []uint64
		r.u64s(func(x uint64) { got = append(got, x) })
		if s := r.str(); r.err != nil || s != "end" || len(got) != int(n) {
			t.Fatalf("read back %d values and %q, %v; want %d and \"end\"", len(got), s, r.err, n)
		}
		for i, x := range got {
			if x != v+uint64(i) {
				t.Fatalf("value %d = %d, want %d", i, x, v+uint64(i))
			}
		}
	})
}
