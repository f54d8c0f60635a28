package segment

import (
	"encoding/binary"
	"github.com/roentgen-tracing/roentgen/internal/jsonword"
	"math/bits"
	"unicode/utf8"
	"unsafe"
)

// scanner reads the JSON of one document for the schema decoder
// (decode.go). It accepts only what goccy/go-json decodes the same way:
// any doubt (invalid JSON, a number it does not read exactly, invalid
// UTF-8, nesting deeper than maxScanDepth) is a false return, after which
// the document goes to goccy whole. It never writes the bytes it reads.
type scanner struct {
	b []byte
	i int
	// unclean: an annotation map read holds an entry cleanAnnotations
	// removes (a null value, an empty or overlong key), so validation must
	// go over the maps; otherwise it need not (a map range per document).
	unclean bool
}

// maxScanDepth bounds nesting, far below goccy's limit, so that no
// document the scanner accepts is one goccy refuses for its depth.
const maxScanDepth = 64

// Word-at-a-time masks (jsonword has the string scan's own).
const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// load64 reads the eight bytes at i, little-endian, which the caller has
// checked are in b (i+8 <= len(b)), without a bounds check.
func load64(b []byte, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))[:])
}

// ws skips whitespace and returns the next byte, or 0 at the end.
func (s *scanner) ws() byte {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// literal consumes lit (true, false, null) at s.i.
func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// null consumes a null if one is at s.i (after whitespace).
func (s *scanner) null() bool {
	return s.ws() == 'n' && s.literal("null")
}

// rawString scans the string at s.i (its quote) and returns its bytes
// between the quotes, whether it has an escape, and false if it is not a
// valid string (or its UTF-8 is not valid: goccy would replace it).
func (s *scanner) rawString() (lit []byte, escaped, ok bool) {
	b := s.b
	i := s.i + 1
	start := i
	nonASCII := false
	for {
		for i+8 <= len(b) {
			m := jsonword.Special(load64(b, i))
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return nil, false, false
		}
		switch c := b[i]; {
		case c == '"':
			lit = b[start:i]
			s.i = i + 1
			if nonASCII && !utf8.Valid(lit) {
				return nil, false, false
			}
			return lit, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return nil, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(b, i+2); !ok {
					return nil, false, false
				}
				i += 6
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		case c >= 0x80:
			nonASCII = true
			i++
		default:
			i++ // a byte a borrow marked
		}
	}
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		d := hexValue[c]
		if d&0x80 != 0 {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// str reads a string value: its bytes in the document when it has no
// escape (as goccy's DecodeNoCopyString gives them), else a new string.
func (s *scanner) str() (string, bool) {
	if s.ws() != '"' {
		return "", false
	}
	lit, escaped, ok := s.rawString()
	if !ok {
		return "", false
	}
	if escaped {
		return unescape(lit)
	}
	if len(lit) == 0 {
		return "", true
	}
	return unsafe.String(&lit[0], len(lit)), true
}

// unescape decodes the escapes of a valid literal as goccy and
// encoding/json do: a surrogate pair is one rune, a lone surrogate U+FFFD.
func unescape(lit []byte) (string, bool) {
	out := make([]byte, 0, len(lit))
	for i := 0; i < len(lit); {
		c := lit[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch e := lit[i+1]; e {
		case 'u':
			r, _ := hex4(lit, i+2)
			i += 6
			if r >= 0xd800 && r < 0xdc00 && i+1 < len(lit) && lit[i] == '\\' && lit[i+1] == 'u' {
				if lo, ok := hex4(lit, i+2); ok && lo >= 0xdc00 && lo < 0xe000 {
					r = (r-0xd800)<<10 | (lo - 0xdc00) + 0x10000
					i += 6
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		default: // '"', '\\', '/'
			c = e
		}
		out = append(out, c)
		i += 2
	}
	if len(out) == 0 {
		return "", true
	}
	return unsafe.String(&out[0], len(out)), true
}

// Keys: an object is read as firstKey, then nextKey after each value;
// both return the key, or done at the object's end, or false. The value
// after the key starts at s.i, whitespace skipped.
func (s *scanner) open() bool {
	if s.ws() != '{' {
		return false
	}
	s.i++
	return true
}

func (s *scanner) firstKey() (key []byte, done, ok bool) { return s.member(true) }

func (s *scanner) nextKey() (key []byte, done, ok bool) { return s.member(false) }

// member reads `"key":` (after a ',' unless first) or the closing '}'.
// A key ends at its first quote: one with an escape, a control or a
// non-ASCII byte is no schema key, and unknownKey refuses it.
func (s *scanner) member(first bool) (key []byte, done, ok bool) {
	b, i := s.b, s.i
	var c byte
	var start int
	// Compact JSON, as SDKs send it: the next key's quote right after the
	// comma.
	if !first && i+1 < len(b) && b[i] == ',' && b[i+1] == '"' {
		i += 2
		goto scan
	}
	if i >= len(b) {
		return nil, false, false
	}
	c = b[i]
	if c <= ' ' {
		if i = skipWS(b, i); i >= len(b) {
			return nil, false, false
		}
		c = b[i]
	}
	if c == '}' {
		s.i = i + 1
		return nil, true, true
	}
	if !first {
		if c != ',' {
			return nil, false, false
		}
		if i++; i >= len(b) {
			return nil, false, false
		}
		if c = b[i]; c <= ' ' {
			if i = skipWS(b, i); i >= len(b) {
				return nil, false, false
			}
			c = b[i]
		}
	}
	if c != '"' {
		return nil, false, false
	}
	i++
scan:
	start = i
	for ; i+8 <= len(b); i += 8 {
		q := load64(b, i) ^ ('"' * ones)
		if m := (q - ones) &^ q & high; m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			goto quote
		}
	}
	for i < len(b) && b[i] != '"' {
		i++
	}
	if i >= len(b) {
		return nil, false, false
	}
quote:
	key = b[start:i]
	if i++; i < len(b) && b[i] == ':' {
		i++
	} else if i = skipWS(b, i); i < len(b) && b[i] == ':' {
		i++
	} else {
		return nil, false, false
	}
	if i < len(b) && b[i] <= ' ' {
		i = skipWS(b, i)
	}
	s.i = i
	return key, false, true
}

// plainKey reports whether a key member read is all of the key, unescaped
// and valid (member stops at the first quote, escaped or not): any key
// with an escape is left to goccy.
func plainKey(k []byte) bool {
	nonASCII := false
	for _, c := range k {
		if c == '\\' || c < 0x20 {
			return false
		}
		nonASCII = nonASCII || c >= 0x80
	}
	return !nonASCII || utf8.Valid(k)
}

// skipWS returns the position of the first byte from i that is not JSON
// whitespace.
func skipWS(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return i
		}
	}
	return i
}

// Arrays: firstElem after '[' and nextElem after each value report
// whether an element follows, or done.
func (s *scanner) openArray() bool {
	if s.ws() != '[' {
		return false
	}
	s.i++
	return true
}

func (s *scanner) firstElem() (done, ok bool) { return s.elem(true) }

func (s *scanner) nextElem() (done, ok bool) { return s.elem(false) }

// elem reads the ']' that ends an array or (after a ',' unless first)
// whitespace up to the next element.
func (s *scanner) elem(first bool) (done, ok bool) {
	b, i := s.b, s.i
	if i < len(b) && b[i] <= ' ' {
		i = skipWS(b, i)
	}
	if i >= len(b) {
		return false, false
	}
	if b[i] == ']' {
		s.i = i + 1
		return true, true
	}
	if !first {
		if b[i] != ',' {
			return false, false
		}
		if i++; i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
	}
	s.i = i
	return false, i < len(b)
}

func (s *scanner) boolean() (v, ok bool) {
	switch s.ws() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	}
	return false, false
}

// skip passes over any valid value, checked as strictly as the grammar.
func (s *scanner) skip(depth int) bool {
	if depth > maxScanDepth {
		return false
	}
	switch s.ws() {
	case '"':
		_, _, ok := s.rawString()
		return ok
	case '{':
		s.i++
		k, done, ok := s.firstKey()
		for ; ok && !done; k, done, ok = s.nextKey() {
			if !plainKey(k) || !s.skip(depth+1) {
				return false
			}
		}
		return ok
	case '[':
		s.i++
		done, ok := s.firstElem()
		for ; ok && !done; done, ok = s.nextElem() {
			if !s.skip(depth + 1) {
				return false
			}
		}
		return ok
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case 0:
		return false
	}
	_, ok := s.number()
	return ok
}
