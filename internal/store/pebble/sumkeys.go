package pebble

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Layout 13 writes the trace ids of summaries' keys and dropped traces'
// tombstones packed, in the order of their text: a second's summaries are
// read in that order (pagination's cursor and termscan.go's merge compare
// trace ids as text). With P the text an X-Ray id of the key's second
// begins with ("1-", its 8 hex digits, "-"):
//
//	s | epoch | 0x02 | 12 bytes         P and 24 lower-case hex digits: the common id
//	s | epoch | 0x02 | 12 bytes | rest  P and rest, any other id beginning with P, after the
//	                                    greatest common id below it (its floor)
//	s | epoch | 0x01 | id               any id below P and 24 zeros
//	s | epoch | 0x03 | id               any id above every one beginning with P
//
// and the empty id as nothing (the bound of a second). The random hex
// digits took a byte each in MinLZ's tables, which code no entropy (~10
// bytes per single-segment trace, docs/performance.md). Stores of layout
// 12 and older keep the text form, s | epoch | id (Store.textSumKeys):
// rewriting their summaries at open would be as long as a full compaction.
const (
	sumIDBelow  = 0x01
	sumIDCommon = 0x02
	sumIDAbove  = 0x03
)

// sumPrefixLen is the length of P.
const sumPrefixLen = 2 + 8 + 1

// appendSumID appends the packed form of id filed under epoch.
func appendSumID(dst []byte, epoch int64, id string) []byte {
	if raw, ok := xrayRaw(id); ok && ownEpoch(raw[:], epoch) {
		return append(append(dst, sumIDCommon), raw[4:]...) // the common id, as sumFloor gives it
	}
	if id == "" {
		return dst
	}
	var p [sumPrefixLen]byte
	if epoch < 0 || epoch > math.MaxUint32 {
		return append(append(dst, sumIDBelow), id...)
	}
	sumIDPrefix(&p, epoch)
	if !strings.HasPrefix(id, string(p[:])) {
		if id < string(p[:]) {
			return append(append(dst, sumIDBelow), id...)
		}
		return append(append(dst, sumIDAbove), id...)
	}
	rest := id[sumPrefixLen:]
	floor, exact, ok := sumFloor(rest)
	if !ok {
		return append(append(dst, sumIDBelow), id...)
	}
	dst = append(append(dst, sumIDCommon), floor[:]...)
	if exact {
		return dst
	}
	return append(dst, rest...)
}

// sumIDPrefix writes P of epoch.
func sumIDPrefix(p *[sumPrefixLen]byte, epoch int64) {
	var e [4]byte
	binary.BigEndian.PutUint32(e[:], uint32(epoch))
	p[0], p[1], p[10] = '1', '-', '-'
	hex.Encode(p[2:10], e[:])
}

// sumFloor is the greatest 24-digit lower-case hex number whose text is at
// most rest's, as 12 bytes; exact when it is rest; not ok when there is
// none (rest sorts below 24 zeros).
func sumFloor(rest string) (floor [12]byte, exact, ok bool) {
	var nib [24]byte
	for i := range nib {
		if i == len(rest) || rest[i] < '0' {
			// rest sorts below every number beginning with its first i
			// digits: the floor is the one before the least of them.
			for j := i - 1; j >= 0; j-- {
				if nib[j] > 0 {
					nib[j]--
					for k := j + 1; k < len(nib); k++ {
						nib[k] = 15
					}
					return packNibbles(&nib), false, true
				}
			}
			return floor, false, false
		}
		v := lowerHex(rest[i])
		if v < 16 {
			nib[i] = v
			continue
		}
		// Between '9' and 'a', or above 'f': above every number with this
		// digit '9' (or 'f'), below the next.
		nib[i] = 9
		if rest[i] > 'f' {
			nib[i] = 15
		}
		for k := i + 1; k < len(nib); k++ {
			nib[k] = 15
		}
		return packNibbles(&nib), false, true
	}
	return packNibbles(&nib), len(rest) == len(nib), true
}

func packNibbles(nib *[24]byte) (b [12]byte) {
	for i := range b {
		b[i] = nib[2*i]<<4 | nib[2*i+1]
	}
	return b
}

// sumIDOf is the trace id of a summary key's part after the epoch, packed
// (appendSumID) under epoch. A part no build writes reads as its bytes.
func sumIDOf(epoch int64, k []byte) string {
	if len(k) == 0 {
		return ""
	}
	switch k[0] {
	case sumIDBelow, sumIDAbove:
		return string(k[1:])
	case sumIDCommon:
		if len(k) < 13 || epoch < 0 || epoch > math.MaxUint32 {
			break
		}
		var p [sumPrefixLen]byte
		sumIDPrefix(&p, epoch)
		if len(k) > 13 {
			return string(p[:]) + string(k[13:])
		}
		var buf [sumPrefixLen + 24]byte
		copy(buf[:], p[:])
		hex.Encode(buf[sumPrefixLen:], k[1:13])
		return string(buf[:])
	}
	return string(k)
}

// positionKey is the summary key of a posting position (termscan.go). A
// partial one (postings.go) gives a key that ends in a 0 byte where no
// key of its form has one, and that sorts as its text does: the keys it
// may name are those that begin with the rest (partialPrefix).
func (s *Store) positionKey(p store.Cursor) []byte {
	if s.textSumKeys || !isPartial(p.TraceID) {
		return s.summaryKey(p.Epoch, p.TraceID)
	}
	k := binary.BigEndian.AppendUint64(append(make([]byte, 0, 9+1+shortBytes+1), 's'), uint64(p.Epoch))
	k = append(k, sumIDCommon)
	k, _ = hex.AppendDecode(k, []byte(p.TraceID[sumPrefixLen:sumPrefixLen+2*shortBytes])) // written as hex (appendPartial)
	return append(k, 0)
}

// partialPrefix is the prefix of the summary keys a partial position's key
// (positionKey) names; not ok for any other key.
func (s *Store) partialPrefix(k []byte) ([]byte, bool) {
	if s.textSumKeys {
		if len(k) == 9+partialLen && isPartial(string(k[9:])) {
			return k[:len(k)-1], true
		}
		return nil, false
	}
	if len(k) == 9+1+shortBytes+1 && k[9] == sumIDCommon && k[len(k)-1] == 0 {
		return k[:len(k)-1], true
	}
	return nil, false
}

// commonKey reports whether the summary key k, found by a partial
// position's prefix, holds an X-Ray id of its second in the canonical form
// (an id that begins alike in another form is listed whole, postings.go).
func (s *Store) commonKey(k []byte) bool {
	if s.textSumKeys {
		_, ok := xrayRaw(k[9:])
		return ok
	}
	return len(k) == 9+13 && k[9] == sumIDCommon
}
