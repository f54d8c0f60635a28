package clickhouse

import (
	"context"
	"fmt"
	"strings"
)

// fineGranularity is the index granularity (rows per primary-index mark)
// of the tables read by trace id whose rows are large: documents (~1 kB)
// and summaries (~800 B). ClickHouse reads at least a granule for a key,
// and a table's trace ids are random, so every part of every partition has
// a granule in range of any id: at 18.16's default of 8,192 rows, reading
// one trace's documents decompressed ~8 MB per part, and a search's page
// of summaries read nearly the whole table. At 256 rows a lookup reads
// ~250 kB per part that holds the trace and 256 ids per part that does
// not; the index grows to a mark per 256 rows (~40k marks per 10M rows).
const fineGranularity = 256

// fineTables are re-created with fineGranularity by migration 4, with
// their ORDER BY.
var fineTables = []struct{ name, columns, orderBy string }{
	{"docs", "p UInt32, trace String, doc String, ver UInt64, raw String", "trace, doc, ver"},
	{"summaries", "p UInt32, epoch Int64, trace String, ver UInt64, sum String", "trace, ver"},
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
		fine, err := s.isFine(ctx, t.name)
		if err != nil {
			return err
		}
		if !fine {
			// The columns are written out, not copied (CREATE … AS docs):
			// on 18.16 a CREATE … AS racing another process's RENAME of
			// its source deadlocks both, for good.
			if err := s.c.exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s_fine (%s)
				ENGINE = MergeTree PARTITION BY p ORDER BY (%s) SETTINGS index_granularity = %d`, t.name, t.columns, t.orderBy, fineGranularity)); err != nil {
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
				if fine, ferr := s.isFine(ctx, t.name); ferr != nil || !fine {
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

// isFine reports whether a table has fineGranularity.
func (s *Store) isFine(ctx context.Context, table string) (bool, error) {
	r, err := s.c.selectRows(ctx, fmt.Sprintf(`SELECT engine_full FROM system.tables WHERE database = %s AND name = %s`,
		quote(s.c.database), quote(table)))
	if err != nil {
		return false, err
	}
	engine := r.str()
	if r.err != nil {
		return false, r.err
	}
	return strings.Contains(engine, fmt.Sprintf("index_granularity = %d", fineGranularity)), nil
}
