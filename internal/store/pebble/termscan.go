package pebble

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// termScan visits the summaries of traces carrying any of q.AnyOf, newest
// first: per partition, newest partition first, it merges one reverse
// iterator per term and reads each distinct trace's summary once.
func (s *Store) termScan(ctx context.Context, q store.SummaryQuery, fn func(*trace.Summary) bool) error {
	top := q.To - 1
	after := q.After
	if !after.IsZero() && after.Epoch < q.To {
		top = after.Epoch
	} else {
		after = store.Cursor{}
	}
	low := store.PartitionOf(max(q.From, 0))
	// parts finds the partitions that hold any index term, so that a wide
	// window skips empty hours with one seek instead of visiting each.
	parts, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{
		LowerBound: append([]byte{'i'}, epochBytes(low)...),
		UpperBound: append([]byte{'i'}, epochBytes(store.PartitionOf(top)+store.PartitionSeconds)...),
	})
	if err != nil {
		return err
	}
	defer parts.Close()
	for ok := parts.Last(); ok; ok = parts.SeekLT(append([]byte{'i'}, epochBytes(partitionAt(parts))...)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		more, err := s.termScanPartition(ctx, partitionAt(parts), q, after, fn)
		if err != nil || !more {
			return err
		}
	}
	return parts.Error()
}

// partitionAt is the partition of the index key under the iterator.
func partitionAt(it *pebble.Iterator) int64 { return int64(binary.BigEndian.Uint64(it.Key()[1:9])) }

type termIter struct {
	it     *pebble.Iterator
	prefix []byte
}

// position decodes the iterator's (epoch, trace id).
func (t *termIter) position() store.Cursor {
	k := t.it.Key()[len(t.prefix):]
	return store.Cursor{Epoch: int64(binary.BigEndian.Uint64(k[:8])), TraceID: string(k[8:])}
}

func (s *Store) termScanPartition(ctx context.Context, part int64, q store.SummaryQuery, after store.Cursor, fn func(*trace.Summary) bool) (bool, error) {
	lo := max(q.From, part)
	hi := min(q.To, part+store.PartitionSeconds)
	var iters []*termIter
	defer func() {
		for _, t := range iters {
			t.it.Close()
		}
	}()
	for _, term := range q.AnyOf {
		prefix := termPrefix(part, term)
		upper := append(append([]byte(nil), prefix...), epochBytes(hi)...)
		if !after.IsZero() && after.Epoch < hi {
			upper = append(append(append([]byte(nil), prefix...), epochBytes(after.Epoch)...), after.TraceID...)
		}
		it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{
			LowerBound: append(append([]byte(nil), prefix...), epochBytes(lo)...),
			UpperBound: upper,
		})
		if err != nil {
			return false, err
		}
		t := &termIter{it: it, prefix: prefix}
		iters = append(iters, t)
		it.Last()
	}
	var last store.Cursor
	for {
		var best *termIter
		var bestPos store.Cursor
		for _, t := range iters {
			if !t.it.Valid() {
				continue
			}
			p := t.position()
			if best == nil || bestPos.Before(p) {
				best, bestPos = t, p
			}
		}
		if best == nil {
			break
		}
		best.it.Prev()
		if bestPos == last {
			continue // the same trace under another term
		}
		last = bestPos
		v, closer, err := s.db.Get(summaryKey(bestPos.Epoch, bestPos.TraceID))
		if errors.Is(err, pebble.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		sum, err := trace.DecodeSummary(v)
		closer.Close()
		if err != nil {
			return false, err
		}
		if !fn(sum) {
			return false, nil
		}
	}
	for _, t := range iters {
		if err := t.it.Error(); err != nil {
			return false, err
		}
	}
	return true, nil
}
