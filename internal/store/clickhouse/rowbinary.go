package clickhouse

import (
	"encoding/binary"
	"errors"
	"math"
)

// RowBinary is ClickHouse's binary row format, which 18.16 and current
// servers read and write alike: fixed-width integers little-endian, strings
// as a LEB128 length and their bytes. Blobs (encoded summaries, statistics
// deltas) travel as they are, with no escaping.

// rowWriter appends RowBinary values to one buffer.
type rowWriter struct{ b []byte }

func (w *rowWriter) str(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *rowWriter) bytes(s []byte) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *rowWriter) u8(v uint8)   { w.b = append(w.b, v) }
func (w *rowWriter) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *rowWriter) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }
func (w *rowWriter) i64(v int64)  { w.u64(uint64(v)) }

// u64s writes an Array(UInt64).
func (w *rowWriter) u64s(vs []uint64) {
	w.b = binary.AppendUvarint(w.b, uint64(len(vs)))
	for _, v := range vs {
		w.u64(v)
	}
}

var errShort = errors.New("clickhouse: truncated RowBinary answer")

// rowReader reads RowBinary values; the first error sticks.
type rowReader struct {
	b   []byte
	err error
}

func (r *rowReader) more() bool { return r.err == nil && len(r.b) > 0 }

func (r *rowReader) str() string { return string(r.raw()) }

// strs reads an answer of one string column to its end.
func (r *rowReader) strs() ([]string, error) {
	var out []string
	for r.more() {
		if s := r.str(); r.err == nil {
			out = append(out, s)
		}
	}
	return out, r.err
}

// raw returns a string's bytes, aliasing the answer's buffer.
func (r *rowReader) raw() []byte {
	if r.err != nil {
		return nil
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k) || n > math.MaxInt32 {
		r.err = errShort
		return nil
	}
	v := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return v
}

func (r *rowReader) fixed(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.err = errShort
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *rowReader) u8() uint8 {
	if v := r.fixed(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *rowReader) u64() uint64 {
	if v := r.fixed(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (r *rowReader) i64() int64 { return int64(r.u64()) }

// u64s reads an Array(UInt64), calling fn with each element.
func (r *rowReader) u64s(fn func(uint64)) {
	if r.err != nil {
		return
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k)/8 {
		r.err = errShort
		return
	}
	r.b = r.b[k:]
	for range n {
		fn(binary.LittleEndian.Uint64(r.b))
		r.b = r.b[8:]
	}
}
