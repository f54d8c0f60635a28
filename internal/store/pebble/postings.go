package pebble

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Index terms are posting lists: one key per term and epoch second,
//
//	i | partition | field 0 value 0 | epoch -> trace ids
//
// written with Pebble's Merge, whose default operator concatenates, so each
// Apply adds its traces to the lists without reading them. One key per
// term and trace was most of the keys and a third of the bytes ingest
// wrote. Entries are self-delimiting:
//
//	0x00 | 4-byte epoch | 12-byte random part   a canonical X-Ray trace id
//	0x01 | uvarint length | id                   any other id
//
// A list may hold a trace twice (it was summarised again) or a trace that
// no longer carries the term; readers sort and deduplicate, and searches
// test every candidate's summary anyway. Layout version 1 stored a key per
// term and trace (epoch, then trace id, then an empty value); those keys
// are longer than 8 bytes past the term and still read.
const (
	entryXRay  = 0x00
	entryOther = 0x01
)

// postingKey is the key of one term's list of traces filed under epoch.
func postingKey(epoch int64, t store.Term) []byte {
	return append(termPrefix(store.PartitionOf(epoch), t), epochBytes(epoch)...)
}

// appendPosting appends the entry of one trace id.
func appendPosting(dst []byte, traceID string) []byte {
	if len(traceID) == 35 && strings.HasPrefix(traceID, "1-") && traceID[10] == '-' {
		var raw [16]byte
		if n, err := hex.Decode(raw[:4], []byte(traceID[2:10])); err == nil && n == 4 {
			if n, err := hex.Decode(raw[4:], []byte(traceID[11:])); err == nil && n == 12 {
				// Only ids that print back the same: upper-case hex does not.
				var back [35]byte
				if string(formatXRay(back[:0], raw[:])) == traceID {
					return append(append(dst, entryXRay), raw[:]...)
				}
			}
		}
	}
	dst = append(dst, entryOther)
	dst = binary.AppendUvarint(dst, uint64(len(traceID)))
	return append(dst, traceID...)
}

func formatXRay(dst, raw []byte) []byte {
	dst = append(dst, '1', '-')
	dst = hex.AppendEncode(dst, raw[:4])
	dst = append(dst, '-')
	return hex.AppendEncode(dst, raw[4:16])
}

// decodePostings appends the trace ids of a posting list to ids.
func decodePostings(ids []string, v []byte) ([]string, error) {
	var buf [35]byte
	for len(v) > 0 {
		switch v[0] {
		case entryXRay:
			if len(v) < 17 {
				return ids, fmt.Errorf("posting list truncated")
			}
			ids = append(ids, string(formatXRay(buf[:0], v[1:17])))
			v = v[17:]
		case entryOther:
			n, w := binary.Uvarint(v[1:])
			if w <= 0 || uint64(len(v)-1-w) < n {
				return ids, fmt.Errorf("posting list truncated")
			}
			ids = append(ids, string(v[1+w:1+w+int(n)]))
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
	lists map[string][]byte
}

func (w *postingWriter) add(epoch int64, t store.Term, traceID string) {
	if w.lists == nil {
		w.lists = map[string][]byte{}
	}
	k := string(postingKey(epoch, t))
	w.lists[k] = appendPosting(w.lists[k], traceID)
}

// stage hands the gathered lists to sb as merges.
func (w *postingWriter) stage(sb *sortedBatch) {
	for k, v := range w.lists {
		sb.merge([]byte(k), v)
	}
	clear(w.lists)
}
