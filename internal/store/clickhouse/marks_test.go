package clickhouse_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// TestMarksGroupedInGoAsByTheServer: the flush's reads of the pending
// marks group markRows' rows in Go (marks.go); over generated rows of
// every kind (documents as marks and documents from before marks, traces
// rows of each pending value, tombstones, summaries with cleared
// versions), sharing versions across kinds and epochs within a version,
// the Go grouping answers what the server's grouping (the SQL before it)
// answers: each trace's epoch, open marks and whether it is pending.
func TestMarksGroupedInGoAsByTheServer(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	s := open(t, db)
	defer s.Close()
	ctx := context.Background()
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 17))
		var ids []string
		var docs, traces, drops, sums []string
		for i := range 400 {
			id := storetest.TraceID(storetest.Base+int64(seed), i)
			if i%97 == 0 {
				id = fmt.Sprintf("o'dd\t%d\\%d", seed, i) // escaped in both the SQL and the TSV
			}
			ids = append(ids, id)
			q := quoteSQL(id)
			ver := func() uint64 { return 1 + rng.Uint64N(12) } // few: kinds meet at one version
			epoch := func() int64 { return storetest.Base + int64(rng.IntN(3))*3600 }
			row := func(e int64) string { return fmt.Sprintf("%d, %s, %d", uint32(e/3600*3600), q, e) }
			for range rng.IntN(6) {
				e := epoch()
				if rng.IntN(8) == 0 {
					e = -9223372036854775808 // written before marks: no mark
				}
				docs = append(docs, fmt.Sprintf("(%d, %s, 'd%d', %d, 'raw', %d)", uint32(max(e, 0)/3600*3600), q, rng.IntN(3), ver(), e))
			}
			for range rng.IntN(3) {
				traces = append(traces, fmt.Sprintf("(%s, %d, %d)", row(epoch()), ver(), rng.IntN(4)))
			}
			if rng.IntN(4) == 0 {
				drops = append(drops, fmt.Sprintf("(%s, %d)", row(epoch()), ver()))
			}
			for range rng.IntN(3) {
				var cleared []string
				for range rng.IntN(4) {
					cleared = append(cleared, fmt.Sprint(ver()))
				}
				sums = append(sums, fmt.Sprintf("(%s, %d, '', [%s], 'p')", row(epoch()), ver(), strings.Join(cleared, ", ")))
			}
		}
		for _, ins := range []struct {
			table, cols string
			rows        []string
		}{
			{"docs", "p, trace, doc, ver, raw, epoch", docs},
			{"traces", "p, trace, epoch, ver, pending", traces},
			{"dropped", "p, trace, epoch, ver", drops},
			{"summaries", "p, trace, epoch, ver, sum, cleared, owner", sums},
		} {
			if len(ins.rows) == 0 {
				continue
			}
			if err := s.Exec(ctx, "INSERT INTO "+ins.table+" ("+ins.cols+") VALUES "+strings.Join(ins.rows, ", ")); err != nil {
				t.Fatal(err)
			}
		}
		ask := append(ids, "unknown", storetest.TraceID(storetest.Base, 99999))
		want, err := s.MarksByServer(ctx, ask)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.MarksInGo(ctx, ask)
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, v := range want {
			if v.Pending {
				pending++
			}
		}
		if pending == 0 || pending == len(want) || len(want) < 300 {
			t.Fatalf("seed %d: %d traces with marks, %d pending: the rows do not cover both answers", seed, len(want), pending)
		}
		if !reflect.DeepEqual(got, want) {
			for id, w := range want {
				if g, ok := got[id]; !ok || !reflect.DeepEqual(g, w) {
					t.Errorf("seed %d, trace %q: Go %+v, server %+v", seed, id, g, w)
				}
			}
			for id, g := range got {
				if _, ok := want[id]; !ok {
					t.Errorf("seed %d, trace %q: Go %+v, not in the server's", seed, id, g)
				}
			}
		}
		// PendingAmong answers the pending ones.
		among, err := s.PendingAmong(ctx, ask)
		if err != nil {
			t.Fatal(err)
		}
		is := map[string]bool{}
		for _, id := range among {
			is[id] = true
		}
		for id, w := range want {
			if is[id] != w.Pending {
				t.Errorf("seed %d: PendingAmong has %q: %v, want %v", seed, id, is[id], w.Pending)
			}
		}
		if len(is) != len(among) || len(among) != pending {
			t.Errorf("seed %d: PendingAmong answered %d (%d distinct), want %d", seed, len(among), len(is), pending)
		}
	}
}

// quoteSQL is a ClickHouse string literal.
func quoteSQL(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\t", `\t`).Replace(s) + "'"
}
