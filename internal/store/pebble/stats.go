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
// never steps over another, and bucket-first so retention drops them with
// the traces' partitions:
//
//	G|H|I | bucket | group 0 entity -> value (60 s, 300 s, 3600 s)
var statTables = []byte{'G', 'H', 'I'}

func statTable(res int64) (byte, error) {
	for i, r := range store.StatResolutions {
		if r == res {
			return statTables[i], nil
		}
	}
	return 0, fmt.Errorf("statistics resolution %d s is not one of %v", res, store.StatResolutions)
}

func statKey(k store.StatKey) ([]byte, error) {
	t, err := statTable(k.Resolution)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 10+len(k.Group)+len(k.Entity))
	b = append(b, t)
	b = append(b, epochBytes(k.Bucket)...)
	b = append(b, k.Group...)
	b = append(b, 0)
	return append(b, k.Entity...), nil
}

// PutStats implements store.StatsStore.
func (s *Store) PutStats(ctx context.Context, recs []store.StatRecord) error {
	b := s.db.NewBatch()
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
	key, err := statKey(k)
	if err != nil {
		return nil, err
	}
	v, closer, err := s.db.Get(key)
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
	t, err := statTable(q.Resolution)
	if err != nil {
		return err
	}
	if q.To <= q.From {
		return nil
	}
	lo := append([]byte{t}, epochBytes(max(q.From, 0))...)
	hi := append([]byte{t}, epochBytes(q.To)...)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	group := append([]byte(q.Group), 0)
	for ok := it.First(); ok; {
		k := it.Key()
		if len(k) < 9 {
			ok = it.Next()
			continue
		}
		bucket := k[1:9]
		rest := k[9:]
		if !bytes.HasPrefix(rest, group) {
			// Jump over other groups: to this group in this bucket, or
			// to the next bucket once past it.
			i := bytes.IndexByte(rest, 0)
			if i >= 0 && bytes.Compare(rest[:i], group[:len(group)-1]) < 0 {
				ok = it.SeekGE(append(append([]byte{t}, bucket...), group...))
			} else {
				ok = it.SeekGE(append([]byte{t}, epochBytes(int64(binary.BigEndian.Uint64(bucket))+1)...))
			}
			continue
		}
		rec := store.StatRecord{
			StatKey: store.StatKey{Resolution: q.Resolution, Bucket: int64(binary.BigEndian.Uint64(bucket)), Group: q.Group, Entity: string(rest[len(group):])},
			Value:   bytes.Clone(it.Value()),
		}
		if !fn(rec) {
			return nil
		}
		ok = it.Next()
	}
	return it.Error()
}
