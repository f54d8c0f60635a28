package pebble

import (
	"encoding/binary"
	"encoding/hex"
)

// Layout 12 writes documents' keys with their ids packed:
//
//	t | epoch | 0x02 | 12 random bytes         | doc   an X-Ray id of the key's epoch
//	t | epoch | 0x03 | 4-byte epoch | 12 bytes | doc   any other canonical X-Ray id
//	t | epoch | 0x01 | id | 0x00               | doc   any other id
//
// doc is 8 bytes for a document id of 16 lower-case hex digits; any other
// id after 0xff, or after 0xfe 0xfe when it is 7 bytes long (so that no
// other id is 8 bytes).
// Tables compress keys with MinLZ, which codes no entropy: hex ids took
// twice their bytes (200k single-segment traces: 51 bytes of table per
// document, docs/performance.md). Stores of layout 11 and older keep the
// text form, t | epoch | id | 0x00 | doc as it is, which this build reads
// and writes in them (Store.layout11): rewriting every document to repack
// its key would be an upgrade as long as a full compaction.
const (
	docIDOther     = 0x01
	docIDOwnEpoch  = 0x02
	docIDCanonical = 0x03
	docIDText      = 0xff
	docIDText7     = 0xfe
)

// appendDocTrace appends the part of a document key up to its document id.
func (s *Store) appendDocTrace(dst []byte, epoch int64, traceID string) []byte {
	dst = binary.BigEndian.AppendUint64(append(dst, 't'), uint64(epoch))
	if s.layout11 {
		return append(append(dst, traceID...), 0)
	}
	raw, ok := xrayRaw(traceID)
	switch {
	case ok && ownEpoch(raw[:], epoch):
		return append(append(dst, docIDOwnEpoch), raw[4:]...)
	case ok:
		return append(append(dst, docIDCanonical), raw[:]...)
	}
	return append(append(append(dst, docIDOther), traceID...), 0)
}

// appendDocID appends a document id as its key holds it.
func (s *Store) appendDocID(dst []byte, docID string) []byte {
	if s.layout11 {
		return append(dst, docID...)
	}
	if len(docID) == 16 {
		var b [8]byte
		ok := true
		for i := range b {
			hi, lo := lowerHex(docID[2*i]), lowerHex(docID[2*i+1])
			ok = ok && hi|lo < 16
			b[i] = hi<<4 | lo
		}
		if ok {
			return append(dst, b[:]...)
		}
	}
	if len(docID) == 7 {
		return append(append(dst, docIDText7, docIDText7), docID...)
	}
	return append(append(dst, docIDText), docID...)
}

// docIDOf is the document id a key's part after appendDocTrace's holds.
func (s *Store) docIDOf(k []byte) string {
	switch {
	case s.layout11:
		return string(k)
	case len(k) == 8:
		return hex.EncodeToString(k)
	case len(k) > 0 && k[0] == docIDText:
		return string(k[1:])
	case len(k) > 1 && k[0] == docIDText7:
		return string(k[2:])
	}
	return string(k) // no key this build writes
}

func (s *Store) docPrefix(epoch int64, traceID string) []byte {
	return s.appendDocTrace(make([]byte, 0, docKeyMax(traceID, "")), epoch, traceID)
}

func (s *Store) docKey(epoch int64, traceID, docID string) []byte {
	return s.appendDocKey(make([]byte, 0, docKeyMax(traceID, docID)), epoch, traceID, docID)
}

func (s *Store) appendDocKey(dst []byte, epoch int64, traceID, docID string) []byte {
	return s.appendDocID(s.appendDocTrace(dst, epoch, traceID), docID)
}

// docKeyMax bounds the length of a document's key in either form.
func docKeyMax(traceID, docID string) int { return 1 + 8 + 1 + len(traceID) + 1 + 2 + len(docID) }
