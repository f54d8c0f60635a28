package clickhouse

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Rollups make a statistics read cost O(entities × buckets) rows, not one
// row per flush that touched the range. A rollup of (partition,
// resolution, group) is the combined value per (bucket, entity) of every
// stats row inserted before its cutoff, a time of the server's clock: each
// stats row has `at DateTime DEFAULT now()`, set by the server as it takes
// the INSERT (schema version 5). A read takes, per partition, the newest
// rollup and the stats rows with at ≥ its cutoff: every row counts exactly
// once.
//
// Whichever process reads a partition and finds many rows since its
// rollup writes the next one: the old rollup plus the rows since, up to a
// cutoff a grace period before the server's now, so that an INSERT under
// way (its `at` already set, its part not yet visible) is read as a row
// since the cutoff, not missed by the rollup. The rows go first, then a
// row in stats_cutoffs that makes them count: a process that dies between
// the two leaves rows no reader takes. Each rollup has a random id beside
// its cutoff, so two processes rolling up at once (even to one cutoff)
// write two whole rollups, of which readers take one.
//
// Rows whose part predates the `at` column read it as now() until a merge
// writes it (then as that moment): always after every cutoff made before,
// so they count as rows since the cutoff, and once written, the next
// rollup takes them.

// rollupConf are the rollup's timings (tests shorten them).
type rollupConf struct {
	// grace is how long before the server's now a cutoff is: longer than
	// an INSERT takes from the server setting its rows' `at` to the rows
	// being visible (and, on replicas, than replication lags).
	grace time.Duration
	// every is the least time between one partition's cutoffs.
	every time.Duration
	// minRows are the stats rows since the cutoff that one read must
	// have met in a partition before it writes a rollup.
	minRows int
	// beforeMark, if set, runs between a rollup's rows and its mark
	// (tests: a process that dies there).
	beforeMark func() error
	// now, if set, is the server's clock (tests: rows whose `at` they
	// set, against a clock they set).
	now func() uint32
}

// defaultStatsGrace is rollupConf.grace unless the URL's stats_grace
// says otherwise: an INSERT on a local server is visible well within it.
const defaultStatsGrace = 30 * time.Second

// defaultRollupRows is rollupConf.minRows unless the URL's
// stats_rollup_rows says otherwise.
const defaultRollupRows = 1000

// defaultRollup cuts a partition at most twice per grace period, so a
// read decodes the rows of at most 1.5 grace periods besides rollups.
func defaultRollup(c *client) rollupConf {
	return rollupConf{grace: c.statsGrace, every: c.statsGrace / 2, minRows: c.rollupRows}
}

// createRollups are schema version 5's tables (and the `at` column,
// added by addStatsAt).
var createRollups = []string{
	`CREATE TABLE IF NOT EXISTS stats_rollups (p UInt32, res Int64, grp String, cutoff UInt32, id UInt64,
		bucket Int64, entity String, value String)
	ENGINE = MergeTree PARTITION BY p ORDER BY (res, grp, cutoff, id, bucket, entity)`,
	`CREATE TABLE IF NOT EXISTS stats_cutoffs (p UInt32, res Int64, grp String, cutoff UInt32, id UInt64)
	ENGINE = MergeTree PARTITION BY p ORDER BY (res, grp, cutoff, id)`,
}

// addStatsAt adds stats.at. 18.16 has no ADD COLUMN IF NOT EXISTS, so a
// process that finds it added by another meanwhile is not failed.
func (s *Store) addStatsAt(ctx context.Context) error {
	has := func() (bool, error) {
		r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT toUInt64(count()) FROM system.columns
			WHERE database = %s AND table = 'stats' AND name = 'at'`, quote(s.c.database)))
		if err != nil {
			return false, err
		}
		n := r.u64()
		return n > 0, r.err
	}
	if ok, err := has(); err != nil || ok {
		return err
	}
	err := s.c.exec(ctx, `ALTER TABLE stats ADD COLUMN at DateTime DEFAULT now()`)
	if err != nil {
		if ok, _ := has(); ok {
			return nil
		}
	}
	return err
}

// rollup names one rollup; the zero rollup is "none" (every row counts).
type rollup struct {
	cutoff uint32
	id     uint64
}

// rollupSet is the newest rollup of each partition that has one.
type rollupSet map[uint32]rollup

// rollups reads the newest rollup of each partition in [from, to].
func (s *Store) rollups(ctx context.Context, res int64, grp string, from, to uint32) (rollupSet, error) {
	r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT p, cutoff, id FROM stats_cutoffs
		WHERE res = %d AND grp = %s AND p >= %d AND p <= %d`, res, quote(grp), from, to))
	if err != nil {
		return nil, err
	}
	ups := rollupSet{}
	for r.more() {
		p := r.u32()
		u := rollup{cutoff: r.u32(), id: r.u64()}
		if r.err != nil {
			break
		}
		if o := ups[p]; u.cutoff > o.cutoff || u.cutoff == o.cutoff && u.id > o.id {
			ups[p] = u
		}
	}
	return ups, r.err
}

// match is the SQL condition selecting the set's rollup rows.
func (ups rollupSet) match() string {
	var or []string
	for p, u := range ups {
		or = append(or, fmt.Sprintf("(p = %d AND cutoff = %d AND id = %d)", p, u.cutoff, u.id))
	}
	return strings.Join(or, " OR ")
}

// since is the SQL condition, after an AND, selecting the stats rows no
// rollup of the set holds (none if the set is empty).
func (ups rollupSet) since() string {
	if len(ups) == 0 {
		return ""
	}
	var cases []string
	for p, u := range ups {
		cases = append(cases, fmt.Sprintf("p = %d, toUInt32(%d)", p, u.cutoff))
	}
	return fmt.Sprintf(" AND toUInt32(at) >= multiIf(%s, toUInt32(0))", strings.Join(cases, ", "))
}

// rollUp writes the next rollup of partition p after prev: prev's rows
// and the stats rows since its cutoff, combined, up to a new cutoff the
// grace period before the server's now. It writes nothing if that cutoff
// is not the configured time after prev's.
func (s *Store) rollUp(ctx context.Context, res int64, grp string, p uint32, prev rollup) error {
	now, err := s.serverNow(ctx)
	if err != nil {
		return err
	}
	cut := now - int64(s.rollup.grace/time.Second)
	if cut < int64(prev.cutoff)+int64(s.rollup.every/time.Second) || cut <= int64(prev.cutoff) {
		return nil
	}
	var c combiner
	key := fmt.Sprintf("p = %d AND res = %d AND grp = %s", p, res, quote(grp))
	var reads []string
	if prev.id != 0 {
		reads = append(reads, fmt.Sprintf(`SELECT bucket, entity, value FROM stats_rollups
			WHERE %s AND cutoff = %d AND id = %d`, key, prev.cutoff, prev.id))
	}
	reads = append(reads, fmt.Sprintf(`SELECT bucket, entity, value FROM stats
		WHERE %s AND toUInt32(at) >= %d AND toUInt32(at) < %d`, key, prev.cutoff, cut))
	fresh := 0 // stats rows since prev's cutoff
	for i, q := range reads {
		r, err := s.c.selectRows(ctx, q)
		if err != nil {
			return err
		}
		for r.more() {
			k := store.StatKey{Resolution: res, Group: grp}
			k.Bucket = r.i64()
			k.Entity = r.str()
			v := r.raw()
			if r.err != nil {
				break
			}
			c.add(k, v)
			if i == len(reads)-1 {
				fresh++
			}
		}
		if r.err != nil {
			return r.err
		}
	}
	if fresh == 0 {
		return nil // it would be prev again
	}
	id := rand.Uint64() | 1 // never the zero rollup's
	var rows rowWriter
	c.each(func(k store.StatKey, v []byte) {
		rows.u32(p)
		rows.i64(res)
		rows.str(grp)
		rows.u32(uint32(cut))
		rows.u64(id)
		rows.i64(k.Bucket)
		rows.str(k.Entity)
		rows.bytes(v)
	})
	if err := s.c.insert(ctx, "stats_rollups", "p, res, grp, cutoff, id, bucket, entity, value", rows.b); err != nil {
		return err
	}
	if s.rollup.beforeMark != nil {
		if err := s.rollup.beforeMark(); err != nil {
			return err
		}
	}
	var mark rowWriter
	mark.u32(p)
	mark.i64(res)
	mark.str(grp)
	mark.u32(uint32(cut))
	mark.u64(id)
	return s.c.insert(ctx, "stats_cutoffs", "p, res, grp, cutoff, id", mark.b)
}

// serverNow is the server's clock in epoch seconds: the clock `at` is
// set by.
func (s *Store) serverNow(ctx context.Context) (int64, error) {
	if s.rollup.now != nil {
		return int64(s.rollup.now()), nil
	}
	r, err := s.c.selectRows(ctx, `SELECT toUInt32(now())`)
	if err != nil {
		return 0, err
	}
	now := int64(r.u32())
	return now, r.err
}

func (r *rowReader) u32() uint32 {
	if v := r.fixed(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}
