package clickhouse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// TestFineGrainedMigration: a database at schema version 3, whose docs and
// summaries tables have ClickHouse's default granularity and hold a trace,
// is brought to version 4 at open: the tables have the finer granularity
// and the trace reads back whole. Then a migration stopped after its
// RENAMEs (the old documents in docs_coarse) is finished by the next open.
func TestFineGrainedMigration(t *testing.T) {
	t.Parallel()
	u := clickhousetest.NewDatabase(t)
	s := open(t, u)
	b := storetest.Base
	id := storetest.TraceID(b+1, 1)
	storetest.Put(t, s, storetest.Summary(id, b+1), storetest.Doc("aaaaaaaaaaaaaaaa", "a1"), storetest.Doc("bbbbbbbbbbbbbbbb", "b1"))
	s.Close()
	// Back to version 3: the tables as migration 1 made them.
	downgrade(t, u, "docs", "p UInt32, trace String, doc String, ver UInt64, raw String", "ORDER BY (trace, doc, ver)")
	downgrade(t, u, "summaries", "p UInt32, epoch Int64, trace String, ver UInt64, sum String", "ORDER BY (trace, ver)")
	query(t, u, "DROP TABLE schema_version")
	query(t, u, "CREATE TABLE schema_version (version UInt32) ENGINE = TinyLog")
	query(t, u, "INSERT INTO schema_version VALUES (1), (2), (3)")
	if g := query(t, u, "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'docs'"); !strings.Contains(g, "index_granularity = 8192") {
		t.Fatalf("the version-3 docs table: %s", g)
	}

	open(t, u).Close()
	for table, want := range map[string]string{"docs": "256", "summaries": "256", "traces": "256", "terms": "1024"} {
		if g := query(t, u, "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = '"+table+"'"); !strings.Contains(g, "index_granularity = "+want) {
			t.Errorf("%s after the migration: %s", table, g)
		}
	}
	if n := rows(t, u, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '%_coarse'"); n != 0 {
		t.Errorf("%d old tables left", n)
	}
	if v := query(t, u, "SELECT max(version) FROM schema_version"); v != clickhouse.SchemaVersion {
		t.Errorf("schema version %s, want %s", v, clickhouse.SchemaVersion)
	}
	s = open(t, u)
	st, err := s.Trace(context.Background(), id)
	if err != nil || st.Summary == nil || len(st.Docs) != 2 || string(st.Docs[0].Raw) != "a1" || string(st.Docs[1].Raw) != "b1" {
		t.Fatalf("the trace after the migration: %+v, %v", st, err)
	}
	s.Close()

	// Stopped after the RENAMEs: its documents still in docs_coarse.
	query(t, u, "RENAME TABLE docs TO docs_coarse")
	query(t, u, "CREATE TABLE docs (p UInt32, trace String, doc String, ver UInt64, raw String) ENGINE = MergeTree PARTITION BY p ORDER BY (trace, doc, ver) SETTINGS index_granularity = 256")
	query(t, u, "DROP TABLE schema_version")
	query(t, u, "CREATE TABLE schema_version (version UInt32) ENGINE = TinyLog")
	query(t, u, "INSERT INTO schema_version VALUES (1), (2), (3)")
	s = open(t, u)
	defer s.Close()
	if n := rows(t, u, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '%_coarse'"); n != 0 {
		t.Errorf("%d old tables left after the second open", n)
	}
	if st, err := s.Trace(context.Background(), id); err != nil || len(st.Docs) != 2 {
		t.Fatalf("the trace after the finished migration: %+v, %v", st, err)
	}
}
