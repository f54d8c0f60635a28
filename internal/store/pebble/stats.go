package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Statistics keys, one table per resolution so a scan of one resolution
// never steps over another, partition-first so retention drops them with
// the traces' partitions, and entity before bucket so a time series of one
// entity reads only its own records:
//
//	G|H|I | partition | group 0 | len(entity) entity | bucket -> value
//
// (G: 60 s, H: 300 s, I: 3600 s buckets.)
var statTables = []byte{'G', 'H', 'I'}

func statTable(res int64) (byte, error) {
	for i, r := range store.StatResolutions {
		if r == res {
			return statTables[i], nil
		}
	}
	return 0, fmt.Errorf("statistics resolution %d s is not one of %v", res, store.StatResolutions)
}

// statPrefix is the range of one group in one partition.
func statPrefix(table byte, partition int64, group string) []byte {
	b := make([]byte, 0, 10+len(group))
	b = append(b, table)
	b = append(b, epochBytes(partition)...)
	b = append(b, group...)
	return append(b, 0)
}

func statEntityPrefix(prefix []byte, entity string) []byte {
	b := binary.AppendUvarint(append([]byte(nil), prefix...), uint64(len(entity)))
	return append(b, entity...)
}

func statKey(k store.StatKey) ([]byte, error) {
	t, err := statTable(k.Resolution)
	if err != nil {
		return nil, err
	}
	return append(statEntityPrefix(statPrefix(t, store.PartitionOf(k.Bucket), k.Group), k.Entity), epochBytes(k.Bucket)...), nil
}

// PutStats implements store.StatsStore.
func (s *Store) PutStats(ctx context.Context, recs []store.StatRecord) error {
	// Owed to summaries already written: admitted as they are (space.go).
	return s.writeIf(s.space.admitAny, func() error { return s.putStats(recs) })
}

func (s *Store) putStats(recs []store.StatRecord) error {
	b := s.main.NewBatch()
	defer b.Close()
	for _, r := range recs {
		k, err := statKey(r.StatKey)
		if err != nil {
			return err
		}
		if r.Value == nil {
			err = b.Delete(k, nil)
		} else {
			err = b.Set(k, r.Value, nil)
		}
		if err != nil {
			return err
		}
	}
	return b.Commit(pebble.NoSync)
}

// GetStat implements store.StatsStore.
func (s *Store) GetStat(ctx context.Context, k store.StatKey) ([]byte, error) {
	defer s.read()() // the LSMs may be replaced (space.go)
	key, err := statKey(k)
	if err != nil {
		return nil, err
	}
	v, closer, err := s.main.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

// Stats implements store.StatsStore.
func (s *Store) Stats(ctx context.Context, q store.StatQuery, fn func(store.StatRecord) bool) error {
	defer s.read()() // the LSMs may be replaced (space.go)
	t, err := statTable(q.Resolution)
	if err != nil {
		return err
	}
	if q.To <= q.From {
		return nil
	}
	for p := store.PartitionOf(max(q.From, 0)); p < q.To; p += store.PartitionSeconds {
		if err := ctx.Err(); err != nil {
			return err
		}
		more, err := s.statPartition(ctx, statPrefix(t, p, q.Group), q, fn)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// statPartition scans one group of one partition; more is false when fn
// asked to stop.
func (s *Store) statPartition(ctx context.Context, prefix []byte, q store.StatQuery, fn func(store.StatRecord) bool) (more bool, err error) {
	it, err := s.main.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return false, err
	}
	defer it.Close()
	for ok := it.First(); ok; {
		rest := it.Key()[len(prefix):]
		n, k := binary.Uvarint(rest)
		if k <= 0 || uint64(len(rest)-k) < n+8 {
			ok = it.Next() // not a statistics key of this layout
			continue
		}
		entity := rest[k : k+int(n)]
		if q.Want != nil && !q.Want(string(entity)) {
			// Skip every bucket of this entity at once.
			ok = it.SeekGE(prefixEnd(it.Key()[:len(prefix)+k+int(n)]))
			continue
		}
		bucket := int64(binary.BigEndian.Uint64(rest[k+int(n):]))
		if bucket >= q.From && bucket < q.To {
			rec := store.StatRecord{StatKey: store.StatKey{Resolution: q.Resolution, Bucket: bucket, Group: q.Group, Entity: string(entity)}, Value: it.Value()}
			if !fn(rec) {
				return false, nil
			}
		}
		ok = it.Next()
	}
	return true, it.Error()
}
