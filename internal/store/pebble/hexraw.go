package pebble

import "encoding/binary"

// Trace ids' hex digits are read eight at a time (SWAR: each byte of a
// uint64 a lane), as internal/segment reads their epochs: every document's
// key and every summary's postings decode the id (xrayRaw), ~530
// instructions a trace with the table lookup per digit.

const (
	hexLanes1 = 0x0101010101010101 // 1 in every byte
	hexHighs  = 0x8080808080808080 // every byte's high bit
)

// hexWord is id[i:i+8] as a little-endian word: id[i] in the low byte.
func hexWord[T string | []byte](id T, i int) uint64 {
	s := id[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// lowerHex8 is the four bytes eight lower-case hex digits spell (x's low
// byte the first digit); ok is false if any byte of x is not one of
// 0-9a-f. With the high bits cleared first, a byte plus 0x80-lo has its
// high bit set when it is at least lo, plus 0x7f-hi when it is above hi,
// and neither sum carries into the next byte.
func lowerHex8(x uint64) (v uint32, ok bool) {
	ascii := ^x & hexHighs
	y := x &^ hexHighs
	digit := (y + (0x80-'0')*hexLanes1) &^ (y + (0x7f-'9')*hexLanes1)
	letter := (y + (0x80-'a')*hexLanes1) &^ (y + (0x7f-'f')*hexLanes1)
	if (digit|letter)&ascii != hexHighs {
		return 0, false
	}
	// A digit's value: its low nibble, plus 9 for a letter (bit 6 set).
	n := x&(0x0f*hexLanes1) + (x>>6)&hexLanes1*9
	// Pairs of digits into bytes, pairs of bytes into 16 bits, then both halves.
	n = (n&0x00ff00ff00ff00ff)<<4 | (n>>8)&0x00ff00ff00ff00ff
	n = (n&0x000000ff000000ff)<<8 | (n>>16)&0x000000ff000000ff
	return uint32(n&0xffff)<<16 | uint32(n>>32)&0xffff, true
}

// xrayRawWords is xrayRaw's decoding of a canonical id's 32 digits, the
// id's length and dashes checked.
func xrayRawWords[T string | []byte](id T) (raw [16]byte, ok bool) {
	_ = id[34]
	a, okA := lowerHex8(hexWord(id, 2))
	b, okB := lowerHex8(hexWord(id, 11))
	c, okC := lowerHex8(hexWord(id, 19))
	d, okD := lowerHex8(hexWord(id, 27))
	if !(okA && okB && okC && okD) {
		return raw, false
	}
	binary.BigEndian.PutUint32(raw[0:], a)
	binary.BigEndian.PutUint32(raw[4:], b)
	binary.BigEndian.PutUint32(raw[8:], c)
	binary.BigEndian.PutUint32(raw[12:], d)
	return raw, true
}
