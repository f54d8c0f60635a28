package segment

import (
	"encoding/binary"
	"math"
	"math/bits"
	"reflect"
	"strconv"
	"strings"
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
}

// maxScanDepth bounds nesting, far below goccy's limit, so that no
// document the scanner accepts is one goccy refuses for its depth.
const maxScanDepth = 64

const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// special marks, in a word of eight bytes, the bytes a string scan stops
// at: '"', '\\', controls and non-ASCII. Only the lowest mark is exact
// (borrows may mark bytes above it), and only it is used.
func special(w uint64) uint64 {
	q := w ^ ('"' * ones)
	bs := w ^ ('\\' * ones)
	return ((q-ones)&^q | (bs-ones)&^bs | (w-0x20*ones)&^w | w) & high
}

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
			m := special(load64(b, i))
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
	if i >= len(b) {
		return nil, false, false
	}
	c := b[i]
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
	start := i
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

// unknownKey reports whether a key that no field of its object has may be
// skipped: goccy and encoding/json match keys to fields by Unicode case
// folding, so a key whose letters fold to any schema key's ("ID") is
// theirs to decide, as is any non-ASCII key (KELVIN SIGN folds to k). The
// Go SDK's "Dummy" is skipped.
func unknownKey(k []byte) bool {
	upper := false
	for _, c := range k {
		if c >= 0x80 || c == '\\' || c < 0x20 {
			return false
		}
		if c-'A' < 26 {
			upper = true
		}
	}
	if !upper || len(k) > maxSchemaKey {
		return true
	}
	var low [maxSchemaKey]byte
	for i, c := range k {
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	_, known := schemaKeys[string(low[:len(k)])]
	return !known
}

// schemaKeys are the member names of every object decodeFast reads.
var schemaKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, v := range []any{Segment{}, HTTP{}, HTTPRequest{}, HTTPResponse{}, AWS{}, EC2{}, ECS{}, EKS{}, XRaySDK{},
		ElasticBeanstalk{}, LogGroup{}, Lambda{}, SQL{}, Cause{}, Exception{}, StackFrame{}, Service{}, Link{}} {
		t := reflect.TypeOf(v)
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if len(name) > maxSchemaKey {
				panic("segment: a member name longer than maxSchemaKey: " + name)
			}
			m[strings.ToLower(name)] = true
		}
	}
	return m
}()

const maxSchemaKey = 32

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

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// number reads a number of JSON's grammar as strconv.ParseFloat does
// (goccy's result): a mantissa of at most 2^53 and a power of ten of at
// most 22 exactly (Clinger's fast path, strconv's own first step), any
// other through strconv. Out of float64's range is false.
func (s *scanner) number() (float64, bool) {
	b := s.b
	start := s.i
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, false
	}
	var mant uint64
	digits := 0
	if b[i] == '0' {
		i++
	} else if b[i]-'1' < 9 {
		i, mant, digits = digitRun(b, i, 0)
	} else {
		return 0, false
	}
	exp := 0
	if i < len(b) && b[i] == '.' {
		i++
		var n int
		i, mant, n = digitRun(b, i, mant)
		if n == 0 {
			return 0, false
		}
		digits += n
		exp = -n
	}
	simple := true
	if i < len(b) && b[i]|0x20 == 'e' {
		simple = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		f := i
		for i < len(b) && b[i]-'0' < 10 {
			i++
		}
		if i == f {
			return 0, false
		}
	}
	s.i = i
	if simple && digits <= 19 && mant <= 1<<53 && exp >= -22 {
		f := float64(mant) / pow10[-exp]
		if b[start] == '-' {
			f = -f
		}
		return f, true
	}
	f, err := strconv.ParseFloat(unsafe.String(&b[start], i-start), 64)
	return f, err == nil && !math.IsInf(f, 0)
}

// digitRun reads the digits from i onto mant, eight at a time while it
// can (timestamps have 16 or 17), and returns where they stop and how
// many there were; mant wraps past 19 digits, which number leaves to
// strconv.
func digitRun(b []byte, i int, mant uint64) (int, uint64, int) {
	start := i
	for ; i+8 <= len(b); i += 8 {
		w := load64(b, i)
		if w&0xf0f0f0f0f0f0f0f0 != 0x3030303030303030 || (w+0x0606060606060606)&0xf0f0f0f0f0f0f0f0 != 0x3030303030303030 {
			break
		}
		mant = mant*100000000 + eightDigits(w)
	}
	for ; i < len(b) && b[i]-'0' < 10; i++ {
		mant = mant*10 + uint64(b[i]-'0')
	}
	return i, mant, i - start
}

// eightDigits is the value of eight ASCII digits loaded little-endian
// (the first digit in the low byte), in three multiplications.
func eightDigits(w uint64) uint64 {
	const mask = 0x000000ff000000ff
	w -= 0x3030303030303030
	w = w*10 + w>>8
	return ((w&mask)*(100+1000000<<32) + (w>>16&mask)*(1+10000<<32)) >> 32
}

// integer reads an integer of at most 18 digits, which no integer field
// of the schema overflows; anything else (a fraction, an exponent) is
// left to goccy, whose answer is a type error or a rounding.
func (s *scanner) integer() (int64, bool) {
	b := s.b
	i := s.i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	if i >= len(b) {
		return 0, false
	}
	var v int64
	f := i
	if b[i] == '0' {
		i++
	} else {
		for ; i < len(b) && b[i]-'0' < 10; i++ {
			v = v*10 + int64(b[i]-'0')
		}
		if i == f || i-f > 18 {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == '.' || b[i]|0x20 == 'e') {
		return 0, false
	}
	s.i = i
	if neg {
		v = -v
	}
	return v, true
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
