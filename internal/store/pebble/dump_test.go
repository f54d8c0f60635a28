package pebble

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// DumpDigest is a digest of every record of every LSM as a reader sees it
// (merge operands merged), in key order: two stores with the same digest
// answer every read the same.
func (s *Store) DumpDigest() (string, error) {
	defer s.read()()
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for i, db := range s.lsms() {
		it, err := db.NewIter(nil)
		if err != nil {
			return "", err
		}
		for it.First(); it.Valid(); it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return "", err
			}
			h.Write([]byte{byte(i)})
			h.Write(binary.AppendUvarint(n[:0], uint64(len(it.Key()))))
			h.Write(it.Key())
			h.Write(binary.AppendUvarint(n[:0], uint64(len(v))))
			h.Write(v)
		}
		if err := it.Close(); err != nil {
			return "", err
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
