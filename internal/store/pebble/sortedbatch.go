package pebble

import (
	"bytes"
	"sort"

	"github.com/cockroachdb/pebble/v2"
)

// sortedBatch stages a batch's writes and hands them to Pebble in key
// order. The memtable is a skiplist whose inserter reuses the position of
// the previous insert, so keys in order are placed without a search from
// the top: in Apply's mix of documents, summaries and index terms, that
// search was the largest single cost of ingest.
type sortedBatch struct {
	ops []stagedOp
}

type stagedOp struct {
	key, value []byte
	del        bool
}

// set stages key = value; both must stay unchanged until flush.
func (s *sortedBatch) set(key, value []byte) { s.ops = append(s.ops, stagedOp{key: key, value: value}) }

func (s *sortedBatch) del(key []byte) { s.ops = append(s.ops, stagedOp{key: key, del: true}) }

// flush writes the staged operations into b in key order. The sort is
// stable, so operations on one key keep their order.
func (s *sortedBatch) flush(b *pebble.Batch) error {
	sort.SliceStable(s.ops, func(i, j int) bool { return bytes.Compare(s.ops[i].key, s.ops[j].key) < 0 })
	for _, op := range s.ops {
		var err error
		if op.del {
			err = b.Delete(op.key, nil)
		} else {
			err = b.Set(op.key, op.value, nil)
		}
		if err != nil {
			return err
		}
	}
	s.ops = s.ops[:0]
	return nil
}
