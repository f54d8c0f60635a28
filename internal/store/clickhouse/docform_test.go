package clickhouse

import (
	"bytes"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// TestDocFormRoundTrip: every document reads back byte for byte from its
// stored form, whether compressed, plain or escaped behind formPlain.
func TestDocFormRoundTrip(t *testing.T) {
	g := bench.NewGenerator(1)
	_, gen := g.Trace(time.Unix(1700000000, 0), 4)
	cases := [][]byte{
		nil, {}, []byte("a1"), []byte("{}"), {0}, {1}, {8, 'x'}, {9, 'x'},
		bytes.Repeat([]byte{1}, 200), bytes.Repeat([]byte{0xff}, 200),
		append([]byte{0x28, 0xb5, 0x2f, 0xfd}, bytes.Repeat([]byte("ab"), 100)...),
	}
	cases = append(cases, gen...)
	var d docReader
	for _, raw := range cases {
		stored := appendDocForm([]byte("head"), raw)
		if !bytes.HasPrefix(stored, []byte("head")) {
			t.Fatalf("%q: the prefix was overwritten", raw)
		}
		got, err := d.doc(stored[4:])
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("%q: stored as %x, read back %q, %v", raw, stored[4:], got, err)
		}
	}
}

// TestDocFormReadsOldRows: a row stored before schema version 9 (plain
// JSON) reads as it is, and a form byte this build does not know is an
// error, not a wrong document.
func TestDocFormReadsOldRows(t *testing.T) {
	var d docReader
	for _, old := range []string{`{"trace_id":"1-5f000000-000000000000000000000000"}`, " {}", "\t{}", "a1"} {
		got, err := d.doc([]byte(old))
		if err != nil || string(got) != old {
			t.Fatalf("%q read as %q, %v", old, got, err)
		}
	}
	if _, err := d.doc([]byte{2, '{', '}'}); err == nil {
		t.Fatal("an unknown form read without an error")
	}
}

// TestDocFormCompresses: a generated segment document is stored in well
// under half its bytes (the point of the form).
func TestDocFormCompresses(t *testing.T) {
	g := bench.NewGenerator(2)
	raw, stored := 0, 0
	for i := range 200 {
		_, docs := g.Trace(time.Unix(1700000000+int64(i), 0), 4)
		for _, doc := range docs {
			raw += len(doc)
			stored += len(appendDocForm(nil, doc))
		}
	}
	t.Logf("%d bytes stored as %d (%.2f)", raw, stored, float64(stored)/float64(raw))
	if stored*2 > raw {
		t.Fatalf("%d bytes stored as %d", raw, stored)
	}
}
