package segment

// Trace ids are checked and their epochs read eight hex digits at a time
// (SWAR: each byte of a uint64 a lane): ingest reads a trace id's epoch
// about eight times per document (parse, the seen filters, the store's
// keys, summaries), and the table lookup per digit took ~280 instructions
// a call, 2% of single-segment ingest's.

const (
	lanes = 0x0101010101010101 // 1 in every byte
	highs = 0x8080808080808080 // every byte's high bit
)

// word8 is s[0:8] as a little-endian word: s[0] in the low byte.
func word8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// hexLanes has a byte's high bit set where x's byte is a hexadecimal digit
// (0-9, a-f, A-F), and no other bit. With the high bits cleared first, a
// byte plus 0x80-lo has its high bit set when it is at least lo, plus
// 0x7f-hi when it is above hi, and neither sum carries into the next byte.
func hexLanes(x uint64) uint64 {
	ascii := ^x & highs
	x &^= highs
	digit := (x + (0x80-'0')*lanes) &^ (x + (0x7f-'9')*lanes)
	l := x | 0x20*lanes // A-F as a-f
	letter := (l + (0x80-'a')*lanes) &^ (l + (0x7f-'f')*lanes)
	return (digit | letter) & ascii
}

// hexValue8 is the number eight hex digits spell (hexLanes all set), the
// first, x's low byte, the most significant.
func hexValue8(x uint64) uint32 {
	// A digit's value: its low nibble, plus 9 for a letter (bit 6 set).
	n := x&(0x0f*lanes) + (x>>6)&lanes*9
	// Pairs of digits into bytes, pairs of bytes into 16 bits, then both halves.
	n = (n&0x00ff00ff00ff00ff)<<4 | (n>>8)&0x00ff00ff00ff00ff
	n = (n&0x000000ff000000ff)<<8 | (n>>16)&0x000000ff000000ff
	return uint32(n&0xffff)<<16 | uint32(n>>32)&0xffff
}
