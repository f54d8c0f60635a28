package pebble

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"math"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Index terms are posting lists: one key per term and epoch second,
//
//	i | minute | field 0 value 0 | epoch -> trace ids
//
// filed by the minute first (layouts 1 to 3 filed them by the hour): every
// batch adds to the lists of many terms, and with the hour first those
// records landed all over the hour's part of the index, so compactions
// rewrote all of it again and again, more the longer the hour ran. By the
// minute, only the current minute's part is written; older minutes are
// left alone. A search seeks once per minute that holds any term.
//
// written with Pebble's Merge, whose default operator concatenates, so each
// Apply adds its traces to the lists without reading them. One key per
// term and trace was most of the keys and a fifth of the bytes ingest
// wrote. Entries are self-delimiting:
//
//	0x02 | 3 bytes                              an X-Ray trace id of the key's epoch (layout 8)
//	                                             whose first 3 random bytes are not 0
//	0x00 | 4-byte epoch | 12-byte random part   any other canonical X-Ray trace id
//	0x01 | uvarint length | id                   any other id
//	0x03 | n | n × 3 bytes                       n short entries (layout 12)
//
// A list need not name a trace whole: its key holds the second, and the
// summaries of that second are keyed by trace id, so the first 3 of the
// id's 12 random bytes find its summary with one seek (termscan.go's
// fetcher), which reads the one or two summaries the prefix names. The
// random bytes are incompressible, and the full 12 were 60 of the index's
// 89 bytes per segment (1M segments: 89 bytes per segment before, 31
// after). A prefix names another trace of the same second by chance (at
// 12k traces a second, once in 1,400 entries); both summaries are then
// checked against the terms, as a summary of a trace summarised again
// is. Layouts up to 7 wrote every X-Ray id whole (0x00), which still
// reads: readers take an entry of the key's epoch as its prefix, in either
// form, so the same trace is one position whichever form names it.
// An id whose first 3 random bytes are zero is written whole: ids
// numbered rather than drawn at random (a counter in the low bytes, as
// tests and hand-made ids have) all share that prefix.
//
// Entries without the epoch where it is the key's (13 bytes, not 17)
// measured no smaller once compressed (200k segments: 18.5 MB against
// 17.7): zstd codes the epoch repeated in every entry as a repeat match;
// it is the random part that costs.
// A list may hold a trace twice (it was summarised again) or a trace that
// no longer carries the term; readers sort and deduplicate, and skip a
// trace summarised again whose summary lacks the terms (termscan.go). Layout version 1 stored a key per
// term and trace (epoch, then trace id, then an empty value); those keys
// are longer than 8 bytes past the term and still read.
const (
	entryXRay  = 0x00
	entryOther = 0x01
	entryShort = 0x02
	entryRun   = 0x03
)

// A run is 3 or more short entries one Apply added to a list in a row,
// without their tags: the tag was a quarter of a short entry, and random
// prefixes leave MinLZ nothing else to take (docs/performance.md). Runs
// are written from layout 12 on (Store.layout11), at most maxRunEntries entries
// each.
const (
	minRunEntries = 3
	maxRunEntries = 255
)

// appendRuns appends list to dst with its short entries in runs.
func appendRuns(dst, list []byte) []byte {
	const short = 1 + shortBytes
	for len(list) > 0 {
		n := 0
		for n < maxRunEntries && (n+1)*short <= len(list) && list[n*short] == entryShort {
			n++
		}
		if n < minRunEntries {
			// One entry as it is: a short one, or the next of another
			// kind, whose length the list's decoder knows.
			e := entryLen(list)
			dst, list = append(dst, list[:e]...), list[e:]
			continue
		}
		dst = append(dst, entryRun, byte(n))
		for i := range n {
			dst = append(dst, list[i*short+1:(i+1)*short]...)
		}
		list = list[n*short:]
	}
	return dst
}

// entryLen is the length of the entry list begins with, which the posting
// writer wrote (so well formed); the whole list if it is not.
func entryLen(list []byte) int {
	switch list[0] {
	case entryShort:
		if len(list) >= 1+shortBytes {
			return 1 + shortBytes
		}
	case entryXRay:
		if len(list) >= 17 {
			return 17
		}
	case entryOther:
		if n, w := binary.Uvarint(list[1:]); w > 0 && uint64(len(list)-1-w) >= n {
			return 1 + w + int(n)
		}
	}
	return len(list)
}

// shortBytes is how much of a trace id's random part a short entry keeps.
// 3 measured 31 bytes per segment of lists, 4 38 (200k segments); a
// second's traces share 3 bytes more often (at 12k traces a second, once
// in 1,400 entries against 350,000), which costs a summary read each.
const shortBytes = 3

var zeroPrefix [shortBytes]byte

// indexBucketSeconds is the width of the index's time buckets; a retention
// partition holds whole buckets, so dropping one drops its terms.
const indexBucketSeconds = 60

func indexBucketOf(e int64) int64 { return e - e%indexBucketSeconds }

// postingKey is the key of one term's list of traces filed under epoch.
func postingKey(epoch int64, t store.Term) []byte {
	return append(termPrefix(indexBucketOf(epoch), t), epochBytes(epoch)...)
}

// appendPosting appends the entry of one trace id to a list filed under
// epoch.
func appendPosting(dst []byte, epoch int64, traceID string) []byte {
	if raw, ok := xrayRaw(traceID); ok {
		if shortened(raw[:], epoch) {
			return append(append(dst, entryShort), raw[4:4+shortBytes]...)
		}
		return append(append(dst, entryXRay), raw[:]...)
	}
	dst = append(dst, entryOther)
	dst = binary.AppendUvarint(dst, uint64(len(traceID)))
	return append(dst, traceID...)
}

// xrayRaw is the binary form of a canonical X-Ray trace id: "1-", 8 and 24
// lower-case hex digits (upper case would not print back the same).
func xrayRaw[T string | []byte](id T) (raw [16]byte, ok bool) {
	if len(id) != 35 || id[0] != '1' || id[1] != '-' || id[10] != '-' {
		return raw, false
	}
	return xrayRawWords(id) // hexraw.go
}

func lowerHex(c byte) byte { return hexValues[c] }

// hexValues are the values of lower-case hex digits, 0xff for any other
// byte: a load per digit instead of a switch's branches (the ids of every
// document's key and posting are decoded: ~1% of single-segment ingest's
// instructions with the switch).
var hexValues = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

func formatXRay(dst, raw []byte) []byte {
	dst = append(dst, '1', '-')
	dst = hex.AppendEncode(dst, raw[:4])
	dst = append(dst, '-')
	return hex.AppendEncode(dst, raw[4:16])
}

// ownEpoch reports whether the binary X-Ray id raw is of epoch.
func ownEpoch(raw []byte, epoch int64) bool {
	return int64(binary.BigEndian.Uint32(raw[:4])) == epoch
}

// shortened reports whether a list filed under epoch names the binary
// X-Ray id raw by its prefix: an id of that second whose prefix is not
// zero.
func shortened(raw []byte, epoch int64) bool {
	return ownEpoch(raw, epoch) && !bytes.Equal(raw[4:4+shortBytes], zeroPrefix[:])
}

// A partial position is what a list filed under a second says of a trace
// of that second: the id's first 19 characters ("1-", the epoch, "-" and
// the prefix in hex) and a 0 byte, which no id holds. It sorts among full
// ids as the ids it stands for do.
const partialLen = 2 + 8 + 1 + 2*shortBytes + 1

func appendPartial(dst []byte, epochAndPrefix []byte) []byte {
	dst = append(dst, '1', '-')
	dst = hex.AppendEncode(dst, epochAndPrefix[:4])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, epochAndPrefix[4:4+shortBytes])
	return append(dst, 0)
}

// isPartial reports whether a position's trace id is partial: the prefix
// of the summary keys it may name is its key without the last byte.
func isPartial(id string) bool { return len(id) == partialLen && id[partialLen-1] == 0 }

// positionOf is the position a list filed under epoch gives a trace id
// stored whole (layouts up to 7): partial where a short entry would be,
// so that both forms of one trace are one position.
func positionOf(epoch int64, id string) string {
	raw, ok := xrayRaw(id)
	if !ok || !shortened(raw[:], epoch) {
		return id
	}
	var buf [partialLen]byte
	return string(appendPartial(buf[:0], raw[:]))
}

// decodePostings appends the positions of a posting list filed under
// epoch to ids: full trace ids, or partial ones (appendPartial).
func decodePostings(ids []string, epoch int64, v []byte) ([]string, error) {
	var buf [35]byte
	for len(v) > 0 {
		switch v[0] {
		case entryShort, entryRun:
			n, at := 1, 1
			if v[0] == entryRun {
				if len(v) < 2 {
					return ids, fmt.Errorf("posting list truncated")
				}
				n, at = int(v[1]), 2
			}
			if len(v) < at+n*shortBytes {
				return ids, fmt.Errorf("posting list truncated")
			}
			if epoch < 0 || epoch > math.MaxUint32 {
				return ids, fmt.Errorf("posting list of epoch %d has an entry of an X-Ray id", epoch)
			}
			var raw [4 + shortBytes]byte
			binary.BigEndian.PutUint32(raw[:4], uint32(epoch))
			for range n {
				copy(raw[4:], v[at:at+shortBytes])
				ids = append(ids, string(appendPartial(buf[:0], raw[:])))
				at += shortBytes
			}
			v = v[at:]
		case entryXRay:
			if len(v) < 17 {
				return ids, fmt.Errorf("posting list truncated")
			}
			if shortened(v[1:17], epoch) {
				ids = append(ids, string(appendPartial(buf[:0], v[1:1+4+shortBytes])))
			} else {
				ids = append(ids, string(formatXRay(buf[:0], v[1:17])))
			}
			v = v[17:]
		case entryOther:
			n, w := binary.Uvarint(v[1:])
			if w <= 0 || uint64(len(v)-1-w) < n {
				return ids, fmt.Errorf("posting list truncated")
			}
			ids = append(ids, positionOf(epoch, string(v[1+w:1+w+int(n)])))
			v = v[1+w+int(n):]
		default:
			return ids, fmt.Errorf("posting list has unknown entry tag %#x", v[0])
		}
	}
	return ids, nil
}

// postingWriter gathers one Apply's index terms by key, so that a term
// carried by many of its traces is one Merge.
type postingWriter struct {
	// slots find a key's list: open addressing, linear probing, each slot
	// 0 (empty) or 1 + the list's index. A map[string]int by key was ~7%
	// of single-segment ingest's instructions (a dozen lookups of a ~50-byte
	// key per trace); this takes one hash of the key and, on a hit, one
	// comparison of it.
	slots  []uint32
	hashes []uint64 // of keys, by list
	seed   maphash.Seed
	keys   [][]byte // in chunks
	lists  [][]byte
	spare  [][]byte // emptied lists of earlier Applies, for new keys
	// chunks hold the keys, kept from Apply to Apply: a string and a byte
	// slice allocated per key were ~4% of the objects single-segment
	// ingest allocated. A chunk is never grown, so the keys in it stay put.
	chunks [][]byte
	used   int // chunks[:used+1] hold this Apply's keys
	key    []byte
	// entry is the posting of traceID under epoch, the last ones added:
	// a trace adds a dozen terms or more, and decoding its id's hex for
	// each was ~1.4% of single-segment ingest's CPU.
	entry   []byte
	epoch   int64
	traceID string
	runs    []byte // the lists as staged (stage)
}

// keyChunk is the size of a chunk of keys: a few hundred of them.
const keyChunk = 16 << 10

func (w *postingWriter) add(epoch int64, t store.Term, traceID string) {
	if w.slots == nil {
		w.seed = maphash.MakeSeed()
		w.slots = make([]uint32, minPostingSlots)
	}
	if w.entry == nil || epoch != w.epoch || traceID != w.traceID {
		w.entry = appendPosting(w.entry[:0], epoch, traceID)
		w.epoch, w.traceID = epoch, traceID
	}
	w.key = append(w.key[:0], 'i')
	w.key = binary.BigEndian.AppendUint64(w.key, uint64(indexBucketOf(epoch)))
	w.key = append(append(append(append(w.key, t.Field...), 0), t.Value...), 0)
	w.key = binary.BigEndian.AppendUint64(w.key, uint64(epoch))
	h := maphash.Bytes(w.seed, w.key)
	mask := uint64(len(w.slots) - 1)
	at := h & mask
	for ; w.slots[at] != 0; at = (at + 1) & mask {
		if i := w.slots[at] - 1; w.hashes[i] == h && bytes.Equal(w.keys[i], w.key) {
			w.lists[i] = append(w.lists[i], w.entry...)
			return
		}
	}
	w.slots[at] = uint32(len(w.lists)) + 1
	w.hashes = append(w.hashes, h)
	w.keys = append(w.keys, w.keep(w.key))
	var list []byte
	if n := len(w.spare); n > 0 {
		list, w.spare = w.spare[n-1], w.spare[:n-1]
	} else {
		list = make([]byte, 0, 64)
	}
	w.lists = append(w.lists, append(list, w.entry...))
	if 2*len(w.lists) > len(w.slots) {
		w.grow()
	}
}

// minPostingSlots is the size a posting writer's table starts at.
const minPostingSlots = 1024

// grow doubles the slots, keeping them at most half full.
func (w *postingWriter) grow() {
	w.slots = make([]uint32, 2*len(w.slots))
	mask := uint64(len(w.slots) - 1)
	for i, h := range w.hashes {
		at := h & mask
		for w.slots[at] != 0 {
			at = (at + 1) & mask
		}
		w.slots[at] = uint32(i) + 1
	}
}

// keep copies key into the chunks and returns the copy.
func (w *postingWriter) keep(key []byte) []byte {
	if len(w.chunks) == 0 {
		w.chunks = append(w.chunks, make([]byte, 0, max(keyChunk, len(key))))
	}
	c := w.chunks[w.used]
	if cap(c)-len(c) < len(key) {
		w.used++
		if w.used == len(w.chunks) {
			w.chunks = append(w.chunks, make([]byte, 0, max(keyChunk, len(key))))
		} else if cap(w.chunks[w.used]) < len(key) {
			w.chunks[w.used] = make([]byte, 0, len(key))
		}
		c = w.chunks[w.used]
	}
	n := len(c)
	c = append(c, key...)
	w.chunks[w.used] = c
	return c[n:len(c):len(c)]
}

// postingWriters keep their map's room and their lists' arrays from Apply
// to Apply: a writer built afresh for each, its map grown from empty,
// was ~4% of the bytes single-segment ingest allocated.
var postingWriters = sync.Pool{New: func() any { return new(postingWriter) }}

// release returns w to postingWriters once its lists are written (they
// are copied into the Pebble batch when it commits), keeping what is not
// outsized.
func (w *postingWriter) release() {
	if len(w.lists) > maxPooledLists {
		return // nor the slots it grew to
	}
	w.reset()
	postingWriters.Put(w)
}

// reset empties w for the next Apply.
func (w *postingWriter) reset() {
	for _, l := range w.lists {
		if cap(l) <= 16<<10 && len(w.spare) < maxPooledLists {
			w.spare = append(w.spare, l[:0])
		}
	}
	clear(w.slots)
	w.hashes = w.hashes[:0]
	clear(w.keys)
	clear(w.lists)
	w.keys, w.lists, w.traceID, w.entry = w.keys[:0], w.lists[:0], "", w.entry[:0]
	if cap(w.runs) > 1<<20 {
		w.runs = nil // an outsized Apply's
	}
	// Chunks grown past keyChunk for a long key are let go.
	n := 0
	for n < len(w.chunks) && n < maxPooledChunks && cap(w.chunks[n]) == keyChunk {
		w.chunks[n] = w.chunks[n][:0]
		n++
	}
	clear(w.chunks[n:])
	w.chunks, w.used = w.chunks[:n], 0
}

// maxPooledChunks bounds the key chunks a pooled writer keeps.
const maxPooledChunks = 16

// maxPooledLists bounds the lists a pooled writer keeps.
const maxPooledLists = 4096

// stage hands the gathered lists to sb as merges, with runs (layout 12)
// or without.
func (w *postingWriter) stage(sb *stagedBatch, runs bool) {
	if !runs {
		for i, k := range w.keys {
			sb.merge(k, w.lists[i])
		}
		return
	}
	// Into one array, kept until the batch commits (it copies them):
	// sized for the lists as they are, which runs only shorten.
	n := 0
	for _, l := range w.lists {
		n += len(l)
	}
	if cap(w.runs) < n {
		w.runs = make([]byte, 0, n)
	}
	w.runs = w.runs[:0]
	for i, k := range w.keys {
		start := len(w.runs)
		w.runs = appendRuns(w.runs, w.lists[i])
		sb.merge(k, w.runs[start:len(w.runs):len(w.runs)])
	}
}
