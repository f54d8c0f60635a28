package pebble

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"

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
	seq        int // staging order: the later of two writes to one key wins
	kind       opKind
}

type opKind uint8

const (
	opSet opKind = iota
	opDelete
	opMerge
)

// set stages key = value; both must stay unchanged until flush.
func (s *sortedBatch) set(key, value []byte) {
	s.ops = append(s.ops, stagedOp{key: key, value: value, seq: len(s.ops)})
}

// merge stages a Merge of value into key.
func (s *sortedBatch) merge(key, value []byte) {
	s.ops = append(s.ops, stagedOp{key: key, value: value, seq: len(s.ops), kind: opMerge})
}

func (s *sortedBatch) del(key []byte) {
	s.ops = append(s.ops, stagedOp{key: key, kind: opDelete, seq: len(s.ops)})
}

// flush writes the staged operations into b in key order; operations on
// one key keep their staging order.
func (s *sortedBatch) flush(b *pebble.Batch) error {
	slices.SortFunc(s.ops, func(x, y stagedOp) int {
		if c := bytes.Compare(x.key, y.key); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	for _, op := range s.ops {
		var err error
		switch op.kind {
		case opDelete:
			err = b.Delete(op.key, nil)
		case opMerge:
			err = b.Merge(op.key, op.value, nil)
		default:
			err = b.Set(op.key, op.value, nil)
		}
		if err != nil {
			return err
		}
	}
	s.ops = s.ops[:0]
	return nil
}

// commit writes the staged operations to db as one batch, in the OS when
// it returns (walsync.go); Close flushes them to disk.
func (s *sortedBatch) commit(db *pebble.DB) error {
	if len(s.ops) == 0 {
		return nil
	}
	if committed != nil {
		committed(db, s.ops)
	}
	b := db.NewBatchWithSize(s.size(), pebble.WithMaxRetainedSizeBytes(batchRetained))
	defer b.Close()
	if err := s.flush(b); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// committed, set by tests only, sees each batch before it is committed.
var committed func(db *pebble.DB, ops []stagedOp)

// batchRetained is the largest batch buffer Pebble keeps for the next
// batch. Ingest's batches run to a few MB, past Pebble's 1 MB default, and
// each grew from 1 kB by doubling: 13% of all ingest allocated.
const batchRetained = 16 << 20

// size is what the staged operations take in a Pebble batch: a header,
// then per record a kind byte and two length-prefixed strings.
func (s *sortedBatch) size() int {
	n := 12
	for _, op := range s.ops {
		n += 1 + 2*binary.MaxVarintLen32 + len(op.key) + len(op.value)
	}
	return n
}
