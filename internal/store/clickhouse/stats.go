package clickhouse

import (
	"context"
	"fmt"
	"slices"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Statistics are plain rows, one per delta, summed by the reader (the
// graph package owns the value format, so the server cannot sum them).
// They are partitioned by their bucket's hour, so retention drops them
// with the traces of that hour.

// checkResolution refuses a resolution the statistics are not kept at.
func checkResolution(res int64) error {
	if !slices.Contains(store.StatResolutions, res) {
		return fmt.Errorf("statistics resolution %d s is not one of %v", res, store.StatResolutions)
	}
	return nil
}

func writeStats(w *rowWriter, recs []store.StatRecord) error {
	for _, r := range recs {
		if err := checkResolution(r.Resolution); err != nil {
			return err
		}
		w.u32(part(r.Bucket))
		w.i64(r.Resolution)
		w.i64(r.Bucket)
		w.str(r.Group)
		w.str(r.Entity)
		w.bytes(r.Value)
	}
	return nil
}

// AddStats implements store.StatsStore: one INSERT, atomic for the rows of
// one partition.
func (s *Store) AddStats(ctx context.Context, recs []store.StatRecord) error {
	var w rowWriter
	if err := writeStats(&w, recs); err != nil {
		return err
	}
	return s.commits.commit(stage{{"stats", w.b}})
}

// Stats implements store.StatsStore.
func (s *Store) Stats(ctx context.Context, q store.StatQuery, fn func(r store.StatRecord) bool) error {
	if err := checkResolution(q.Resolution); err != nil {
		return err
	}
	if q.From >= q.To {
		return nil
	}
	r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT bucket, entity, value FROM stats
		WHERE p >= %d AND p <= %d AND res = %d AND grp = %s AND bucket >= %d AND bucket < %d`,
		part(q.From), part(q.To-1), q.Resolution, quote(q.Group), q.From, q.To))
	if err != nil {
		return err
	}
	for r.more() {
		rec := store.StatRecord{StatKey: store.StatKey{Resolution: q.Resolution, Group: q.Group}}
		rec.Bucket = r.i64()
		rec.Entity = r.str()
		rec.Value = r.raw()
		if r.err != nil {
			break
		}
		if q.Want != nil && !q.Want(rec.Entity) {
			continue
		}
		if !fn(rec) {
			return nil
		}
	}
	return r.err
}
