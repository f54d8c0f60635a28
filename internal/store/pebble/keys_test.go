package pebble

import (
	"bytes"
	"testing"
)

// The append forms of the keys build what the allocating ones do, after
// whatever dst already holds.
func TestAppendKeysMatch(t *testing.T) {
	for _, c := range []struct{ id, doc string }{
		{"1-5f84c7a5-0123456789abcdef01234567", "0123456789abcdef"},
		{"", ""},
		{"w3c\x00odd", "doc\xff"},
	} {
		for _, ep := range []int64{0, 0x5f84c7a5, -1} {
			pre := []byte("prefix")
			for _, s := range []*Store{{}, {layout11: true}} {
				if got := s.appendDocKey(pre, ep, c.id, c.doc); !bytes.Equal(got[len(pre):], s.docKey(ep, c.id, c.doc)) || len(got)-len(pre) > docKeyMax(c.id, c.doc) {
					t.Errorf("appendDocKey(%d, %q, %q) = %q, want %q", ep, c.id, c.doc, got[len(pre):], s.docKey(ep, c.id, c.doc))
				}
			}
			text := &Store{textSumKeys: true}
			want := append(append([]byte{'s'}, epochBytes(ep)...), c.id...)
			if got := text.appendSummaryKey(pre, ep, c.id); !bytes.Equal(got[len(pre):], want) || !bytes.Equal(text.summaryKey(ep, c.id), want) {
				t.Errorf("appendSummaryKey(%d, %q) = %q, want %q", ep, c.id, got[len(pre):], want)
			}
			packed := &Store{}
			if got := packed.appendSummaryKey(pre, ep, c.id); !bytes.Equal(got[len(pre):], packed.summaryKey(ep, c.id)) {
				t.Errorf("packed appendSummaryKey(%d, %q) = %q, want %q", ep, c.id, got[len(pre):], packed.summaryKey(ep, c.id))
			}
		}
	}
}
