package pebble

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// DumpDigest is a digest of every record of every LSM as a reader sees it
// (merge operands merged), in key order: two stores with the same digest
// answer every read the same.
func (s *Store) DumpDigest() (string, error) { return s.dumpDigest(false) }

// DumpDigestAsLayout10 is DumpDigest of the store as a layout 10 build
// would have written it: each summary in the derived form that build wrote
// (decoded and encoded again), the documents' keys in text form and
// posting lists without runs (layout 12: dockeys.go, postings.go), the
// summaries' keys in text form (layout 13: sumkeys.go) and the
// layout version 10. Equal to such a
// build's digest, it says the compact form and the packed keys changed no
// record.
func (s *Store) DumpDigestAsLayout10() (string, error) { return s.dumpDigest(true) }

func (s *Store) dumpDigest(asLayout10 bool) (string, error) {
	defer s.read()()
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for i, db := range s.lsms() {
		it, err := db.NewIter(nil)
		if err != nil {
			return "", err
		}
		var docs []keyValue // in text form, sorted as text keys sort
		for it.First(); it.Valid(); it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return "", err
			}
			if k := it.Key(); asLayout10 && db == s.docs && !s.layout11 && len(k) > 0 && k[0] == 't' {
				tk, err := textDocKey(k)
				if err != nil {
					it.Close()
					return "", err
				}
				docs = append(docs, keyValue{tk, bytes.Clone(v)})
				continue
			}
			if asLayout10 && db == s.index {
				v = entriesOfRuns(v)
			}
			k := it.Key()
			if asLayout10 && db == s.main && string(k) == "v" {
				v = []byte("10")
			} else if asLayout10 && db == s.main && len(k) > 9 && k[0] == 's' {
				sum, err := trace.DecodeSummaryUnder(v, s.summaryKeyTraceID(k))
				if err == nil {
					v, err = trace.AppendSummaryUnder(nil, sum, s.summaryKeyTraceID(k))
				}
				if err != nil {
					it.Close()
					return "", err
				}
			}
			if asLayout10 && db == s.main && !s.textSumKeys && len(k) >= 9 && (k[0] == 's' || k[0] == 'd') {
				k = textSumKey(k) // in the same order (sumkeys.go)
			}
			h.Write([]byte{byte(i)})
			h.Write(binary.AppendUvarint(n[:0], uint64(len(k))))
			h.Write(k)
			h.Write(binary.AppendUvarint(n[:0], uint64(len(v))))
			h.Write(v)
		}
		if err := it.Close(); err != nil {
			return "", err
		}
		// Documents sort last in their LSM (after the pending marks).
		slices.SortFunc(docs, func(a, b keyValue) int { return bytes.Compare(a.key, b.key) })
		for _, kv := range docs {
			h.Write([]byte{byte(i)})
			h.Write(binary.AppendUvarint(n[:0], uint64(len(kv.key))))
			h.Write(kv.key)
			h.Write(binary.AppendUvarint(n[:0], uint64(len(kv.value))))
			h.Write(kv.value)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// DumpRecords is every record of every LSM as a reader sees it, by LSM and
// key, with each posting list's positions sorted: writes that commit in
// another order concatenate a list's entries in another order, which
// readers sort (postings.go).
func (s *Store) DumpRecords() (map[string]string, error) {
	defer s.read()()
	out := map[string]string{}
	for i, db := range s.lsms() {
		it, err := db.NewIter(nil)
		if err != nil {
			return nil, err
		}
		for it.First(); it.Valid(); it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return nil, err
			}
			k := it.Key()
			val := string(v)
			if db == s.index && len(k) > 8 {
				ids, err := decodePostings(nil, int64(binary.BigEndian.Uint64(k[len(k)-8:])), v)
				if err != nil {
					it.Close()
					return nil, err
				}
				slices.Sort(ids)
				val = strings.Join(ids, "\n")
			}
			out[fmt.Sprintf("%d %x", i, k)] = val
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// entriesOfRuns is a posting list with its runs written as short entries.
func entriesOfRuns(v []byte) []byte {
	var out []byte
	for len(v) > 0 {
		if v[0] != entryRun || len(v) < 2 || len(v) < 2+int(v[1])*shortBytes {
			n := entryLen(v)
			out, v = append(out, v[:n]...), v[n:]
			continue
		}
		for i := range int(v[1]) {
			out = append(append(out, entryShort), v[2+i*shortBytes:2+(i+1)*shortBytes]...)
		}
		v = v[2+int(v[1])*shortBytes:]
	}
	return out
}
