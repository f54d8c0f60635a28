package clickhouse

import (
	"context"
	"fmt"
	"strings"
)

// fineTables are re-created by migration 4 with a finer index granularity
// (rows per primary-index mark) than 18.16's default of 8,192. ClickHouse
// reads at least a granule per part for a key, and trace ids are random,
// so every part of every partition has a granule in range of any id: with
// 2.6M traces stored, reading one trace's documents decompressed ~8 MB per
// part, its traces rows 213k rows, and a search's page of summaries read
// nearly the whole table. At 256 rows a lookup by trace id reads ~250 kB
// per part that holds the trace. The terms table is read by (field,
// value, epoch) ranges: 1,024 rows keep a selective term's read small in
// each part. The indexes grow (a mark per 256 rows: ~40k per 10M rows).
var fineTables = []struct {
	name, columns, orderBy string
	granularity            int
}{
	{"docs", "p UInt32, trace String, doc String, ver UInt64, raw String", "trace, doc, ver", 256},
	{"summaries", "p UInt32, epoch Int64, trace String, ver UInt64, sum String", "trace, ver", 256},
	{"traces", "p UInt32, trace String, epoch Int64, ver UInt64, pending UInt8", "trace, ver", 256},
	{"terms", "p UInt32, field String, value String, epoch Int64, trace String, ver UInt64", "field, value, epoch, trace", 1024},
}

// fineGrained is migration 4. 18.16 cannot change a table's granularity,
// so each table is re-created: a new table of the same columns is swapped
// in for the old one by one RENAME (atomic; it waits for the INSERTs
// under way), writers go on into the new one, and the old one's rows are
// copied in and it is dropped. Readers miss the old rows while they are
// copied (seconds for a small database, 3 minutes for 10M documents here:
// upgrade a large one with one process first). A process that dies
// mid-copy leaves <table>_coarse, which the next start copies again (rows
// copied twice are harmless: readers take one row per version).
func (s *Store) fineGrained(ctx context.Context) error {
	for _, t := range fineTables {
		fine, err := s.isFine(ctx, t.name, t.granularity)
		if err != nil {
			return err
		}
		if !fine {
			// The columns are written out, not copied (CREATE … AS docs):
			// on 18.16 a CREATE … AS racing another process's RENAME of
			// its source deadlocks both, for good.
			if err := s.c.exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s_fine (%s)
				ENGINE = MergeTree PARTITION BY p ORDER BY (%s) SETTINGS index_granularity = %d`, t.name, t.columns, t.orderBy, t.granularity)); err != nil {
				return err
			}
			// Two RENAMEs: 18.16 does a multi-table RENAME one table after
			// the other, not atomically, and stops at the first that fails.
			// Between them the table is missing for a moment (writes fail
			// and are retried by their clients; nothing acknowledged is
			// lost). Either may fail because another process did it.
			if err := s.c.exec(ctx, fmt.Sprintf("RENAME TABLE %[1]s TO %[1]s_coarse", t.name)); err != nil {
				if ok, _ := s.exists(ctx, t.name+"_coarse"); !ok {
					return err
				}
			}
			if err := s.c.exec(ctx, fmt.Sprintf("RENAME TABLE %[1]s_fine TO %[1]s", t.name)); err != nil {
				if fine, ferr := s.isFine(ctx, t.name, t.granularity); ferr != nil || !fine {
					return err
				}
			}
		}
		coarse, err := s.exists(ctx, t.name+"_coarse")
		if err != nil {
			return err
		}
		if !coarse {
			continue
		}
		cols := columnNames(t.columns)
		if err := s.c.exec(ctx, fmt.Sprintf("INSERT INTO %[1]s (%[2]s) SELECT %[2]s FROM %[1]s_coarse", t.name, cols)); err != nil {
			// Another process copied it and dropped it meanwhile.
			if coarse, cerr := s.exists(ctx, t.name+"_coarse"); cerr != nil || coarse {
				return err
			}
		}
		if err := s.c.exec(ctx, fmt.Sprintf("DROP TABLE IF EXISTS %s_coarse", t.name)); err != nil {
			return err
		}
	}
	return nil
}

// columnNames is "a, b" of "a T, b U".
func columnNames(defs string) string {
	var names []string
	for _, d := range strings.Split(defs, ",") {
		names = append(names, strings.Fields(d)[0])
	}
	return strings.Join(names, ", ")
}

func (s *Store) exists(ctx context.Context, table string) (bool, error) {
	r, err := s.c.selectRows(ctx, "EXISTS TABLE "+table)
	if err != nil {
		return false, err
	}
	v := r.u8()
	return v == 1, r.err
}

// isFine reports whether a table has the given granularity.
func (s *Store) isFine(ctx context.Context, table string, granularity int) (bool, error) {
	r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT engine_full FROM system.tables WHERE database = %s AND name = %s`,
		quote(s.c.database), quote(table)))
	if err != nil {
		return false, err
	}
	engine := r.str()
	if r.err != nil {
		return false, r.err
	}
	return strings.Contains(engine, fmt.Sprintf("index_granularity = %d", granularity)), nil
}
