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
	b = strconv.AppendUint(b, q/1e6, 10)
	f := q % 1e6
	return append(b, '.', byte('0'+f/1e5), byte('0'+f/1e4%10), byte('0'+f/1e3%10), byte('0'+f/100%10), byte('0'+f/10%10), byte('0'+f%10))
}
