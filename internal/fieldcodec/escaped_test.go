package fieldcodec_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/fieldcodec"
)

type oneString struct {
	S string `json:"s"`
	N int    `json:"n"`
}

type noString struct {
	N int `json:"n"`
}

// Numbered, they head their fields with numbers (s 1, n 2), strings with
// the packed string's wire type, which a reader without the field skips.
var escapedCodec, skipCodec = func() (*fieldcodec.Codec[oneString], *fieldcodec.Codec[noString]) {
	fieldcodec.Number[oneString]("s", "n")
	fieldcodec.Number[noString]("-", "n")
	c, _ := fieldcodec.New[oneString]()
	skip, _ := fieldcodec.New[noString]()
	return c.Packed(), skip.Packed()
}()

// escapedField is the packed form of oneString{S: s, N: 7} with s escaped,
// or nil when no escaped form takes s.
func escapedField(s string) []byte {
	b, ok := fieldcodec.AppendEscapedString([]byte{1<<3 | 4}, s)
	if !ok {
		return nil
	}
	return append(b, 2<<3|0, 14)
}

// Strings with a long lower-case hex tail and IPv4 addresses written as
// the escaped form writes them back are stored escaped, in fewer bytes,
// and read back the same, also when skipped as a field the reader lacks;
// other strings are not escaped.
func TestEscapedStrings(t *testing.T) {
	c, skip := escapedCodec, skipCodec
	r := rand.New(rand.NewPCG(1, 2))
	escaped := []string{"i-04f1657260a129b7c", "10.0.247.3", "0.0.0.0", "255.255.255.255", "1.2.3.4",
		"arn:aws:ecs:us-east-1:123456789012:task/0123456789abcdef0", "0123456789abcdef0", "container-0123abcd"}
	plain := []string{"", "abc", "0123456789abcdef", "10.0.0.01", "256.1.1.1", "1.2.3", "1.2.3.4.5", " 1.2.3.4",
		"user-467", "i-0123ABCDEF0123456", "10.0.247.3x", "abcdefg"}
	for range 2000 {
		s := fmt.Sprintf("%d.%d.%d.%d", r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256))
		if r.IntN(2) == 0 {
			s = fmt.Sprintf("p%d-%x", r.IntN(100), r.Uint64()>>r.IntN(64))
		}
		escaped = append(escaped, s)
	}
	for _, s := range append(escaped, plain...) {
		b := escapedField(s)
		if b == nil {
			continue
		}
		packed, _ := c.Append(nil, &oneString{S: s, N: 7})
		if len(b) >= len(packed) {
			t.Errorf("%q escaped takes %d bytes, packed %d", s, len(b), len(packed))
		}
		var got oneString
		if err := c.Decode(b, &got); err != nil || got != (oneString{S: s, N: 7}) {
			t.Errorf("%q escaped as %x reads as %+v, %v", s, b, got, err)
		}
		var n noString
		if err := skip.Decode(b, &n); err != nil || n.N != 7 {
			t.Errorf("%q escaped as %x skipped: %+v, %v", s, b, n, err)
		}
	}
	for _, s := range escaped[:8] {
		if escapedField(s) == nil {
			t.Errorf("%q is not escaped", s)
		}
	}
	for _, s := range plain {
		if b := escapedField(s); b != nil {
			t.Errorf("%q is escaped: %x", s, b)
		}
	}
	// Escapes that cannot be read fail.
	for _, b := range [][]byte{
		{1<<3 | 4, 1},
		{1<<3 | 4, 1, '4', 10, 0, 0},
		{1<<3 | 4, 1, 'x', 3, 3, 'a', 'b', 'c'},
		{1<<3 | 4, 1, 'x', 9, 1, 'a', 0x12, 0x34, 0x56},
		{1<<3 | 4, 1, 'x', 4, 1, 'a', 0x12, 0x34},
		{1<<3 | 4, 1, 'y', 0},
		// a length of 2^64-1 digits, whose half rounded up overflows to 0
		{1<<3 | 4, 1, 'x', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0},
	} {
		var got oneString
		if err := c.Decode(b, &got); err == nil {
			t.Errorf("%x reads as %+v", b, got)
		}
	}
}
