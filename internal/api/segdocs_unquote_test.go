package api

import (
	"bytes"
	"encoding/binary"
	"github.com/roentgen-tracing/roentgen/internal/jsonword"
	"math/bits"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/roentgen-tracing/roentgen/internal/fixtures"
)

// sameUnquote fails t unless unquoteJSONString decodes the string after
// the quote at the start of s as the decoder before its sixteen-byte loop
// did (unquoteJSONStringBefore): the same bytes, length and verdict, into a
// scratch buffer full of other bytes.
func sameUnquote(t *testing.T, s []byte) {
	t.Helper()
	dirty := func() []byte { return bytes.Repeat([]byte{'\\', 'x', 0x80}, len(s)/3+4) }
	out, n, ok := unquoteJSONString(s, dirty())
	wantOut, wantN, wantOK := unquoteJSONStringBefore(s, dirty())
	if ok != wantOK || n != wantN || !bytes.Equal(out, wantOut) || cap(out) != len(out) {
		t.Fatalf("%q: got %q, %d, %v; before %q, %d, %v", s, out, n, ok, wantOut, wantN, wantOK)
	}
}

// TestUnquoteJSONStringAsBefore compares the two over the escaped documents
// of the recorded SDK requests and of generated batches, and over strings
// with every kind of special byte at every offset of a word.
func TestUnquoteJSONStringAsBefore(t *testing.T) {
	var bodies [][]byte
	for _, r := range fixtures.Requests() {
		bodies = append(bodies, r.Body)
	}
	bodies = append(bodies, generatedBody(t, 50))
	strs := 0
	for _, b := range bodies {
		for i := range b {
			if b[i] == '"' {
				sameUnquote(t, b[i+1:]) // every string, and every tail of a string
				strs++
			}
		}
	}
	if strs < 1000 {
		t.Fatalf("only %d strings compared", strs)
	}
	specials := []string{`"`, `\"`, `\\`, `\/`, `\n`, `\t`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, `\x`, `\`, "\x00", "\x1f", "é", "\xff", "😀", "\u2028"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, a := range specials {
		for _, b := range specials {
			for pre := 0; pre < 20; pre++ {
				for gap := 0; gap < 10; gap++ {
					s := bytes.Repeat([]byte("a"), pre)
					s = append(s, a...)
					s = append(s, bytes.Repeat([]byte("b"), gap)...)
					s = append(s, b...)
					s = append(s, bytes.Repeat([]byte("c"), rng.IntN(20))...)
					sameUnquote(t, s)
					sameUnquote(t, append(s, '"'))
					sameUnquote(t, append(s, `"tail`...))
				}
			}
		}
	}
}

func FuzzUnquoteJSONString(f *testing.F) {
	f.Add([]byte(`abc\"def\"ghijklmnopqrstuvwxyz\\0123456789"`))
	f.Add([]byte(`{\"trace_id\":\"1-5f84c7a2-00000000000000000000000a\",\"id\":\"70de5b6f19ff9a0a\",\"name\":\"\u00e9\"}"`))
	f.Add([]byte("0123456789abcdef\\\"\x01\""))
	f.Fuzz(func(t *testing.T, s []byte) {
		sameUnquote(t, s)
	})
}

// unquoteJSONStringBefore is unquoteJSONString as it was before the
// sixteen-byte loop (main at 809e395), the reference of the tests above.
func unquoteJSONStringBefore(s, scratch []byte) (out []byte, n int, ok bool) {
	buf := scratch[:len(s)+8]
	ascii := true
	j, w := 0, 0
	for {
		if j+8 <= len(s) {
			x := binary.LittleEndian.Uint64(s[j:])
			binary.LittleEndian.PutUint64(buf[w:], x)
			m := jsonword.Special(x)
			if m == 0 {
				j += 8
				w += 8
				continue
			}
			t := bits.TrailingZeros64(m) >> 3 // the first special byte
			j += t
			w += t
		} else if j >= len(s) {
			return nil, 0, false
		}
		switch c := s[j]; {
		case c == '"':
			goto end
		case c == '\\':
			if j+1 < len(s) {
				if b := shortEscape[s[j+1]]; b != 0 {
					buf[w] = b
					w++
					j += 2
					continue
				}
			}
			n, r := jsonEscape(s[j:])
			if n == 0 {
				return nil, 0, false
			}
			w += utf8.EncodeRune(buf[w:], r)
			j += n
		case c < 0x20:
			return nil, 0, false
		default: // non-ASCII, checked below; or plain, in the last few bytes
			if c >= 0x80 {
				ascii = false
			}
			buf[w] = c
			w++
			j++
		}
	}
end:
	if !ascii && !utf8.Valid(s[:j]) {
		return nil, 0, false
	}
	return buf[:w:w], j + 1, true
}
