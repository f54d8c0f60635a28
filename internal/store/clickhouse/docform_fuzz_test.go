package clickhouse

import (
	"bytes"
	"testing"
)

// FuzzDocForm reads arbitrary bytes as a stored document: no input panics
// or decodes past maxDocDecoded, and any document stored by appendDocForm
// reads back byte for byte.
func FuzzDocForm(f *testing.F) {
	f.Add([]byte(`{"trace_id":"1-5f000000-000000000000000000000000","id":"0000000000000001","name":"web","start_time":1.5,"end_time":2.5,"http":{"request":{"method":"GET"}}}`))
	f.Add([]byte{formDict1, 0x80, 0x80, 0x80, 0x80, 0x08, 0})
	f.Add([]byte{formDict1, 10, 0xfc, 0xff, 0xff, 0xff})
	f.Add([]byte{formPlain, '{', '}'})
	f.Add([]byte{5, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var d docReader
		if doc, err := d.doc(b); err == nil && len(doc) > maxDocDecoded {
			t.Fatalf("decoded %d bytes", len(doc))
		}
		stored := appendDocForm(nil, b)
		got, err := d.doc(stored)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("%x stored as %x read back as %x, %v", b, stored, got, err)
		}
	})
}
