// Package jsonword scans JSON string bytes eight at a time: the segment
// decoder, the API's un-escaping of PutTraceSegments bodies and the
// daemon's request bodies all look for where a string's plain run ends.
package jsonword

// Special has the high bit set in the first (lowest) byte of the
// little-endian word x that a JSON string does not hold as itself: a
// quote, a backslash, a control character, or a non-ASCII byte (which
// needs UTF-8 validation). It is zero if there is none. Higher bytes may
// be marked too: for bytes 0x20-0x7f other than quote and backslash none
// of the terms sets a high bit, and a borrow only crosses into the next
// byte from a byte that is itself special, so only the lowest mark is
// exact; callers use only it (bits.TrailingZeros64(m) / 8).
func Special(x uint64) uint64 {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	return ((x - 0x20*ones) | ((x ^ '"'*ones) - ones) | ((x ^ '\\'*ones) - ones) | x) & high
}
