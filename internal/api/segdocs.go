package api

import (
	"bytes"
	"encoding/binary"
	"github.com/roentgen-tracing/roentgen/internal/jsonword"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// PutTraceSegments request decoding.
//
// Every X-Ray client sends the same body: {"TraceSegmentDocuments":[...]},
// about 50 documents of ~1 kB, each a JSON object escaped into a JSON
// string. encoding/json spends more CPU validating and unquoting those
// strings (and the copy from string to []byte after it) than ingest spends
// parsing the documents, so this one shape has a focused decoder.
//
// The decoder accepts only a strict subset of JSON: one member spelled
// exactly TraceSegmentDocuments, holding an array of strings that are valid
// UTF-8 without control characters and whose escapes are standard (a \u
// surrogate must be half of a valid pair). For that subset its result is
// what encoding/json would give (FuzzTraceSegmentDocuments checks this).
// Any other body, valid or not, goes through decode as every operation's
// body does, so errors, unknown members, member-name case folding,
// duplicate members and invalid UTF-8 are treated exactly as before.

// traceSegmentDocuments decodes a PutTraceSegments body into its
// documents. They may be unescaped into *scratch (grown to fit), so they
// last only as long as the caller leaves it alone: ingest copies what it
// keeps.
func traceSegmentDocuments(body []byte, scratch *[]byte) ([][]byte, error) {
	if docs, ok := fastTraceSegmentDocuments(body, scratch); ok {
		return docs, nil
	}
	return decodeTraceSegmentDocuments(body)
}

// decodeTraceSegmentDocuments is the general path, through decode
// (encoding/json): any body, with decode's error messages.
func decodeTraceSegmentDocuments(body []byte) ([][]byte, error) {
	var in putTraceSegmentsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.TraceSegmentDocuments == nil {
		return nil, invalid("TraceSegmentDocuments is required")
	}
	docs := make([][]byte, len(*in.TraceSegmentDocuments))
	for i, d := range *in.TraceSegmentDocuments {
		docs[i] = []byte(d)
	}
	return docs, nil
}

const traceSegmentDocumentsKey = `"TraceSegmentDocuments"`

// fastTraceSegmentDocuments decodes the common body shape; ok is false for
// anything else, and then nothing is decided about the body.
func fastTraceSegmentDocuments(b []byte, scratch *[]byte) (docs [][]byte, ok bool) {
	i := skipJSONSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = skipJSONSpace(b, i+1)
	if !bytes.HasPrefix(b[i:], []byte(traceSegmentDocumentsKey)) {
		return nil, false
	}
	i = skipJSONSpace(b, i+len(traceSegmentDocumentsKey))
	if i >= len(b) || b[i] != ':' {
		return nil, false
	}
	i = skipJSONSpace(b, i+1)
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	i = skipJSONSpace(b, i+1)
	// Documents are ~1 kB escaped; the guess only saves regrowing.
	docs = make([][]byte, 0, min(len(b)/512+1, 256))
	// Unescaping never lengthens a string, so the documents fit one after
	// another in a buffer as long as the body, plus the word that
	// unquoteJSONString may write past the last one.
	if cap(*scratch) < len(b)+8 {
		*scratch = make([]byte, len(b)+8)
	}
	buf := (*scratch)[:cap(*scratch)]
	w := 0
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, false
			}
			doc, n, ok := unquoteJSONString(b[i+1:], buf[w:])
			if !ok {
				return nil, false
			}
			docs = append(docs, doc)
			w += len(doc)
			i = skipJSONSpace(b, i+1+n)
			if i >= len(b) {
				return nil, false
			}
			if b[i] == ']' {
				i++
				break
			}
			if b[i] != ',' {
				return nil, false
			}
			i = skipJSONSpace(b, i+1)
		}
	}
	i = skipJSONSpace(b, i)
	if i >= len(b) || b[i] != '}' {
		return nil, false
	}
	if skipJSONSpace(b, i+1) != len(b) {
		return nil, false
	}
	return docs, true
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// unquoteJSONString decodes the JSON string whose opening quote precedes s
// into the start of scratch, which must have room for len(s)+8 bytes; out
// is that part of scratch, with no capacity beyond it. n counts the bytes
// of s consumed, closing quote included. ok is false for an unterminated
// string, a control character, invalid UTF-8, an unknown escape or a \u
// surrogate that is not half of a valid pair: encoding/json replaces the
// last two with U+FFFD, and such rare input is left to it.
//
// Escaped documents hold an escape every few bytes (each quote of the
// document is one), so the common escapes are handled inline. The string
// is decoded in one pass, eight bytes at a time between special bytes: a
// word may be written past the run it belongs to, and what follows
// overwrites it.
func unquoteJSONString(s, scratch []byte) (out []byte, n int, ok bool) {
	buf := scratch[:len(s)+8]
	ascii := true
	j, w := 0, 0
	for {
		// The common case, a run and then a two-byte escape, with sixteen
		// bytes ahead: src and dst are sliced once, so that the escape
		// after the word's first special byte (at most 8 bytes in) is read
		// and written without a bounds check of its own. w <= j, so dst
		// fits in buf when src fits in s.
		for j+16 <= len(s) {
			src, dst := s[j:j+16], buf[w:w+16]
			x := binary.LittleEndian.Uint64(src)
			binary.LittleEndian.PutUint64(dst, x)
			m := jsonword.Special(x)
			if m == 0 {
				j += 8
				w += 8
				continue
			}
			t := bits.TrailingZeros64(m) >> 3
			if src[t] != '\\' || shortEscape[src[t+1]] == 0 {
				break // a quote, a \u escape, or a byte to check: below
			}
			dst[t] = shortEscape[src[t+1]]
			j += t + 2
			w += t + 1
		}
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

// shortEscape maps the letter after a backslash to the byte it stands
// for, for the two-byte escapes; it is 0 for others (\u).
var shortEscape = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// jsonEscape reads the \u escape at the start of s: one code point, or a
// surrogate pair. It returns its width in bytes and the rune, or width 0 if
// it is not a \u escape, is malformed, or is not a valid pair.
func jsonEscape(s []byte) (width int, r rune) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return 0, 0
	}
	r1 := hex4(s[2:])
	if r1 < 0 {
		return 0, 0
	}
	if !utf16.IsSurrogate(r1) {
		return 6, r1
	}
	if len(s) < 12 || s[6] != '\\' || s[7] != 'u' {
		return 0, 0
	}
	r2 := hex4(s[8:])
	if r2 < 0 {
		return 0, 0
	}
	if d := utf16.DecodeRune(r1, r2); d != utf8.RuneError {
		return 12, d
	}
	return 0, 0
}

// hex4 decodes four hex digits, or returns -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
