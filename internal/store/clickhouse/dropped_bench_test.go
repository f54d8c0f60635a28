package clickhouse_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// BenchmarkTombstoneRead is a flush's mark read (PendingAmong: markRows'
// branches, the tombstones' among them) of 1,000 traces, half of them
// dropped, over a dropped table of ROENTGEN_BENCH_TOMBSTONES rows (1M) in
// one hour's partition, written in 100 INSERTs: at 256-row granules (a
// database made since 2026-12-07, drop.go) and at 8,192 (one made before).
// The other mark tables are empty. With CLICKHOUSE_PID it reports the
// server's CPU per call.
func BenchmarkTombstoneRead(b *testing.B) {
	ctx := context.Background()
	rows := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("ROENTGEN_BENCH_TOMBSTONES")); err == nil && n >= 100 {
		rows = n
	}
	p := store.PartitionOf(time.Now().Unix())
	for _, g := range []int{256, 8192} {
		b.Run(strconv.Itoa(g), func(b *testing.B) {
			u := clickhousetest.NewDatabase(b)
			s := open(b, u)
			defer s.Close()
			if g != 256 {
				clickhousetest.Query(b, u, "DROP TABLE dropped")
				clickhousetest.Query(b, u, `CREATE TABLE dropped (p UInt32, trace String, epoch Int64, ver UInt64)
					ENGINE = MergeTree PARTITION BY p ORDER BY (trace, ver) SETTINGS index_granularity = 8192`)
			}
			per := rows / 100
			for i := range 100 {
				clickhousetest.Query(b, u, fmt.Sprintf(`INSERT INTO dropped SELECT %d, concat('1-', toString(cityHash64(number))), %d, number + 1
					FROM numbers(%d, %d)`, p, p, i*per, per))
			}
			var ids []string
			for i := range 1000 {
				n := i * (rows / 500) // even ones stored, odd ones past the end
				if i%2 == 1 {
					n = rows + i
				}
				ids = append(ids, clickhousetest.Query(b, u, fmt.Sprintf(`SELECT concat('1-', toString(cityHash64(toUInt64(%d))))`, n)))
			}
			parts := clickhousetest.Query(b, u, `SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'dropped' AND active`)
			ch0 := clickhousetest.ServerCPU()
			b.ResetTimer()
			for range b.N {
				if got, err := s.PendingAmong(ctx, ids); err != nil || len(got) != 0 {
					b.Fatalf("pending among %v, %v", got, err)
				}
			}
			b.StopTimer()
			if ch := clickhousetest.ServerCPU() - ch0; ch > 0 {
				b.ReportMetric(float64(ch)/float64(b.N), "clickhouse-cpu-ns/op")
			}
			b.Logf("%s active parts", strings.TrimSpace(parts))
		})
	}
}
