package bench

import (
	"math"
	"math/bits"
	"strconv"
)

// appendMicros appends v as strconv.AppendFloat(b, v, 'f', 6, 64) does, to
// the digit (the exact binary value rounded half to even), but for the
// generator's timestamps (seconds since 1970) in integer arithmetic: a
// float64 is mant×2^exp, so v×10^6 is mant×15625×2^(exp+6), a 128-bit
// product shifted right. Values outside that case take strconv.
func appendMicros(b []byte, v float64) []byte {
	u := math.Float64bits(v)
	biased := int(u >> 52 & 0x7ff)
	exp := biased - 1075
	shift := -(exp + 6)
	// Negative, zero or subnormal, and the shifts a 64-bit quotient cannot
	// take (values above ~2^44 or below ~2^-17).
	if u>>63 != 0 || biased == 0 || shift < 3 || shift > 63 {
		return strconv.AppendFloat(b, v, 'f', 6, 64)
	}
	hi, lo := bits.Mul64(u&(1<<52-1)|1<<52, 15625) // < 2^67: hi < 8
	s := uint(shift)
	q := hi<<(64-s) | lo>>s
	rem, half := lo&(1<<s-1), uint64(1)<<(s-1)
	if rem > half || rem == half && q&1 == 1 {
		q++
	}
	sec, f := q/1e6, q%1e6
	if sec < 1e9 || sec >= 1e10 {
		b = strconv.AppendUint(b, sec, 10)
		return append(b, '.', byte('0'+f/1e5), byte('0'+f/1e4%10), byte('0'+f/1e3%10), byte('0'+f/100%10), byte('0'+f/10%10), byte('0'+f%10))
	}
	// Seconds of this century: ten digits, then six, written two at a
	// time into one array and appended at once.
	var d [17]byte
	for i := 8; i >= 0; i -= 2 {
		r := sec % 100
		sec /= 100
		d[i], d[i+1] = pairs[2*r], pairs[2*r+1]
	}
	d[10] = '.'
	for i := 15; i >= 11; i -= 2 {
		r := f % 100
		f /= 100
		d[i], d[i+1] = pairs[2*r], pairs[2*r+1]
	}
	return append(b, d[:]...)
}

// pairs is the two digits of each number below 100.
const pairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"
