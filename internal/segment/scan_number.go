package segment

import (
	"math"
	"strconv"
	"unsafe"
)

// Numbers, for the schema decoder: read exactly as goccy reads them, or
// refused.

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
