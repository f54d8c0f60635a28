package clickhouse

import (
	"context"
	"fmt"
	"slices"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Statistics are additive deltas (the graph package owns their format, so
// the server cannot sum them): the `stats` table holds them as written,
// each write's deltas first combined per key (graph.CombineStats), so a
// flush adds a row per key it touched, not one per trace. Reads sum them
// in Go. An hour read whole would still be every flush's rows, so reads
// go through rollups (rollup.go). Both tables are partitioned by their
// bucket's hour, so retention drops them with the traces of that hour.

// checkResolution refuses a resolution the statistics are not kept at.
func checkResolution(res int64) error {
	if !slices.Contains(store.StatResolutions, res) {
		return fmt.Errorf("statistics resolution %d s is not one of %v", res, store.StatResolutions)
	}
	return nil
}

// writeStats writes recs as stats rows, one per key: the deltas of a key
// are combined into one (a delta that does not decode is kept as it is,
// beside the others: a sum stays a sum).
func writeStats(w *rowWriter, recs []store.StatRecord) error {
	var c combiner
	for _, r := range recs {
		if err := checkResolution(r.Resolution); err != nil {
			return err
		}
		c.add(r.StatKey, r.Value)
	}
	c.each(func(k store.StatKey, v []byte) {
		w.u32(part(k.Bucket))
		w.i64(k.Resolution)
		w.i64(k.Bucket)
		w.str(k.Group)
		w.str(k.Entity)
		w.bytes(v)
	})
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

// Stats implements store.StatsStore: per partition of the range, its
// newest rollup and the rows written since that rollup's cutoff.
func (s *Store) Stats(ctx context.Context, q store.StatQuery, fn func(r store.StatRecord) bool) error {
	if err := checkResolution(q.Resolution); err != nil {
		return err
	}
	if q.From >= q.To {
		return nil
	}
	from, to := part(q.From), part(q.To-1)
	ups, err := s.rollups(ctx, q.Resolution, q.Group, from, to)
	if err != nil {
		return err
	}
	where := fmt.Sprintf(`res = %d AND grp = %s AND bucket >= %d AND bucket < %d`, q.Resolution, quote(q.Group), q.From, q.To)
	emit := func(r *rowReader, counts map[uint32]int) (bool, error) {
		for r.more() {
			rec := store.StatRecord{StatKey: store.StatKey{Resolution: q.Resolution, Group: q.Group}}
			rec.Bucket = r.i64()
			rec.Entity = r.str()
			rec.Value = r.raw()
			if r.err != nil {
				break
			}
			if counts != nil {
				counts[part(rec.Bucket)]++
			}
			if q.Want != nil && !q.Want(rec.Entity) {
				continue
			}
			if !fn(rec) {
				return false, nil
			}
		}
		return true, r.err
	}
	if len(ups) > 0 {
		r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT bucket, entity, value FROM stats_rollups
			WHERE p >= %d AND p <= %d AND %s AND (%s)`, from, to, where, ups.match()))
		if err != nil {
			return err
		}
		if more, err := emit(r, nil); !more || err != nil {
			return err
		}
	}
	r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT bucket, entity, value FROM stats
		WHERE p >= %d AND p <= %d AND %s%s`, from, to, where, ups.since()))
	if err != nil {
		return err
	}
	counts := map[uint32]int{}
	if more, err := emit(r, counts); !more || err != nil {
		return err
	}
	// A partition whose rows since its rollup were many gets a newer
	// rollup, for the next read: this one has its answer already, so a
	// rollup that fails (the next read tries again) does not fail it.
	for p, n := range counts {
		if n >= s.rollup.minRows {
			_ = s.rollUp(ctx, q.Resolution, q.Group, p, ups[p])
		}
	}
	return nil
}

// combiner sums deltas per key, a few at a time so that memory stays a
// few deltas per key however many are added.
type combiner struct {
	keys   []store.StatKey // in the order first added
	deltas map[store.StatKey][][]byte
}

// combineEvery is how many deltas of a key are held before combining.
const combineEvery = 64

func (c *combiner) add(k store.StatKey, v []byte) {
	if c.deltas == nil {
		c.deltas = map[store.StatKey][][]byte{}
	}
	ds, ok := c.deltas[k]
	if !ok {
		c.keys = append(c.keys, k)
	}
	ds = append(ds, v)
	if len(ds) >= combineEvery {
		ds = combine(ds)
	}
	c.deltas[k] = ds
}

// each calls fn with every key's combined deltas: one value per key, or
// the deltas as they are where one did not decode.
func (c *combiner) each(fn func(k store.StatKey, v []byte)) {
	for _, k := range c.keys {
		for _, v := range combine(c.deltas[k]) {
			fn(k, v)
		}
	}
}

// combine is the deltas as one, or, where some do not decode, those as
// they are and the rest as one: a bad delta must not keep its key's
// others from combining (each add would decode them all again).
func combine(ds [][]byte) [][]byte {
	if len(ds) < 2 {
		return ds
	}
	if sum := graph.CombineStats(ds); sum != nil {
		return [][]byte{sum}
	}
	var good, out [][]byte
	for _, d := range ds {
		if graph.CombineStats([][]byte{d}) != nil {
			good = append(good, d)
		} else {
			out = append(out, d)
		}
	}
	if len(good) > 0 {
		out = append(out, graph.CombineStats(good))
	}
	return out
}
