package clickhouse

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/klauspost/compress/s2"
)

// The stored form of a document (docs.raw), since schema version 9.
// ClickHouse 18.16 has no column codecs, so every INSERT and every merge
// of docs ran LZ4 over each document's ~1 kB of JSON; stored compressed by
// Roentgen, once, a document is ~0.4 of the bytes for the server to
// compress, merge, read and send, and Roentgen decompresses only the
// documents it reads back from other processes. S2 (LZ77 without entropy
// coding) against a built-in dictionary: zstd with the same dictionary
// stored generated documents in 0.31 of their bytes against S2's 0.39, but
// cost ~4 times the CPU to compress one (124,000 instructions a document,
// callgrind, against ~29,000) and to decompress one (39,000 against
// 8,400), building its entropy tables anew for every ~1 kB block.
//
// A stored value's first byte says its form when it is below formPlainMax:
//
//	0x00      the document follows as it is
//	0x01      an S2 block against docDict1
//	0x02–0x08 reserved (a later dictionary)
//
// Any other first byte is a document stored as it is: every row of the
// builds before (JSON starts with '{' or whitespace, 0x09 at the least),
// and a new one compression would not shrink. A plain document that
// starts below 0x09 is stored behind 0x00.
const (
	formPlain    = 0x00
	formDict1    = 0x01
	formPlainMax = 0x09 // the first byte a document may start with and be stored bare
)

// minCompressed is the smallest document compressed: below it there is
// little to gain.
const minCompressed = 64

// maxDocDecoded bounds what a stored document decodes to: no document
// larger is compressed, and a stored block that claims more is corrupt
// (not allocated).
const maxDocDecoded = 8 << 20

// dict1 is docDict1 as S2 takes it: its first repeat offset is where the
// last document start in it begins. Pinned here, not left to s2.MakeDict,
// as the encoder and decoder must agree on it forever.
var dict1 = func() *s2.Dict {
	d := s2.MakeDictManual([]byte(docDict1), uint16(bytes.LastIndex([]byte(docDict1), []byte(`{"trace_id":"1-`))))
	if d == nil {
		panic("clickhouse: docDict1 is not a valid S2 dictionary")
	}
	return d
}()

// appendDocForm appends raw's stored form to dst.
func appendDocForm(dst, raw []byte) []byte {
	if len(raw) >= minCompressed && len(raw) <= maxDocDecoded {
		at := len(dst)
		dst = append(dst, formDict1)
		dst = slices.Grow(dst, s2.MaxEncodedLen(len(raw)))
		enc := dict1.Encode(dst[len(dst):cap(dst)], raw)
		if len(enc) < len(raw) {
			return dst[:len(dst)+len(enc)]
		}
		dst = dst[:at]
	}
	if len(raw) > 0 && raw[0] < formPlainMax {
		dst = append(dst, formPlain)
	}
	return append(dst, raw...)
}

var errDocForm = errors.New("stored document of an unknown form")

// docReader turns stored forms back into documents. The documents it
// decompresses share arenas it allocates, which the caller may keep;
// one reader serves one goroutine.
type docReader struct{ arena []byte }

// docArena is the size of a docReader's arenas: a few dozen documents.
const docArena = 64 << 10

// doc is the document a stored value holds: stored itself (or a slice of
// it) if it is plain.
func (d *docReader) doc(stored []byte) ([]byte, error) {
	if len(stored) == 0 || stored[0] >= formPlainMax {
		return stored, nil
	}
	switch stored[0] {
	case formPlain:
		return stored[1:], nil
	case formDict1:
		block := stored[1:]
		n, err := s2.DecodedLen(block)
		if err != nil || n > maxDocDecoded {
			return nil, fmt.Errorf("stored document: corrupt block (%d bytes, %v)", n, err)
		}
		if cap(d.arena)-len(d.arena) < n {
			d.arena = make([]byte, 0, max(docArena, n))
		}
		at := len(d.arena)
		out, err := dict1.Decode(d.arena[at:at+n], block)
		if err != nil {
			return nil, fmt.Errorf("stored document: %w", err)
		}
		d.arena = d.arena[:at+n]
		return out[:n:n], nil
	}
	return nil, fmt.Errorf("%w 0x%02x (a newer Roentgen's?)", errDocForm, stored[0])
}
