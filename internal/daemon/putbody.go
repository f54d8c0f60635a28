package daemon

import (
	"encoding/binary"
	"github.com/roentgen-tracing/roentgen/internal/jsonword"
	"math/bits"
	"unicode/utf8"
)

// The PutTraceSegments request body, written directly.
//
// The documents are already JSON; the body carries each one as a JSON
// string: {"TraceSegmentDocuments":["<doc>",...]}. Going through the SDK's
// serializer copied and escaped each document rune by rune, which was the
// largest single cost of the daemon at 10k segments/s. This writer copies
// runs of bytes that need no escaping in one append and escapes the rest
// as encoding/json would decode them back: the decoded string is the
// document, byte for byte, whenever the document is valid UTF-8 (invalid
// bytes become U+FFFD, as the SDK's encoder made them, so that the body
// is always valid JSON).

// plain marks the bytes a JSON string can hold as they are.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			// Eight bytes at a time: most of a document needs no escaping.
			m := jsonword.Special(binary.LittleEndian.Uint64(s[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3 // the first byte to look at
		}
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(s[i:])
			if r != utf8.RuneError || n != 1 {
				i += n // valid UTF-8 goes as it is
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendPutTraceSegmentsBody appends the PutTraceSegments request body for
// b's documents, in order.
func appendPutTraceSegmentsBody(dst []byte, b *batch) []byte {
	dst = append(dst, `{"TraceSegmentDocuments":[`...)
	for i := range b.len() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, b.doc(i))
	}
	return append(dst, "]}"...)
}
