package bench_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// BenchmarkDocumentColumns estimates what a columnar document form would
// store (issue 15's "documents in a form that compresses"), before anyone
// builds one: each group of documents is split into a template stream (keys
// and punctuation, one marker per value) and one column per key path, times
// as micro-second deltas, lower-case hex ids as bytes, every other value as
// text; each stream is compressed with zstd's fastest level, as Pebble's blob
// files are. Against the same documents in 64 KiB blocks (what is stored
// today). It leaves out what a real form needs beside (a group's directory,
// each trace's place in it), so it is a lower bound for the form.
func BenchmarkDocumentColumns(b *testing.B) {
	const docs = 20000
	all := bench.NewGenerator(1).Batches(time.Now(), docs, docs)[0]
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	b.Run("rows/block=64KiB", func(b *testing.B) {
		total := 0
		for b.Loop() {
			total = 0
			var block []byte
			for _, d := range all {
				block = append(block, d...)
				if len(block) >= 64<<10 {
					total += len(enc.EncodeAll(block, nil))
					block = block[:0]
				}
			}
			total += len(enc.EncodeAll(block, nil))
		}
		b.ReportMetric(float64(total)/docs, "bytes/doc")
	})
	for _, group := range []int{56, 1000, 5000} {
		b.Run(fmt.Sprintf("columns/group=%d", group), func(b *testing.B) {
			total := 0
			for b.Loop() {
				total = 0
				for off := 0; off < len(all); off += group {
					for _, s := range splitColumns(all[off:min(off+group, len(all))]) {
						total += len(enc.EncodeAll(s, nil))
					}
				}
			}
			b.ReportMetric(float64(total)/docs, "bytes/doc")
		})
	}
}

// splitColumns returns a group's template stream and its columns.
func splitColumns(docs [][]byte) [][]byte {
	var tmpl []byte
	cols := map[string][]byte{}
	var order []string
	last := map[string]int64{}
	for _, d := range docs {
		var path []string // keys of the enclosing objects, and the current key
		key := ""
		for i := 0; i < len(d); {
			c := d[i]
			switch {
			case c == '{':
				path = append(path, key)
				tmpl = append(tmpl, c)
				i++
			case c == '}':
				path = path[:len(path)-1]
				tmpl = append(tmpl, c)
				i++
			case c == '[' || c == ']' || c == ',' || c == ':':
				tmpl = append(tmpl, c)
				i++
			default:
				end := valueEnd(d, i)
				v := d[i:end]
				i = end
				if c == '"' && i < len(d) && d[i] == ':' {
					key = string(v)
					tmpl = append(tmpl, v...)
					continue
				}
				tmpl = append(tmpl, '$')
				name := fmt.Sprint(path, key)
				if _, ok := cols[name]; !ok {
					order = append(order, name)
				}
				cols[name] = appendValue(cols[name], v, name, last)
			}
		}
		tmpl = append(tmpl, '\n')
	}
	out := [][]byte{tmpl}
	for _, name := range order {
		out = append(out, cols[name])
	}
	return out
}

// valueEnd is where the JSON string, number or literal at i ends.
func valueEnd(d []byte, i int) int {
	if d[i] == '"' {
		for j := i + 1; j < len(d); j++ {
			switch d[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return len(d)
	}
	j := i
	for j < len(d) && !bytes.ContainsRune([]byte(",]}"), rune(d[j])) {
		j++
	}
	return j
}

// appendValue adds one value to its column: times as zig-zag varint deltas
// of microseconds, hex ids as their bytes, the rest as text.
func appendValue(col, v []byte, name string, last map[string]int64) []byte {
	if f, err := strconv.ParseFloat(string(v), 64); err == nil && bytes.IndexByte(v, '.') > 0 {
		us := int64(f*1e6 + 0.5)
		col = binary.AppendVarint(col, us-last[name])
		last[name] = us
		return col
	}
	if len(v) >= 18 && v[0] == '"' && len(v)%2 == 0 {
		s := v[1 : len(v)-1]
		if raw, err := hex.DecodeString(string(s)); err == nil && bytes.Equal(s, bytes.ToLower(s)) {
			return append(col, raw...)
		}
	}
	col = append(col, v...)
	return append(col, '\n')
}
