package clickhouse

import (
	"testing"
	"time"
)

func TestStatsGraceFromTheURL(t *testing.T) {
	for raw, want := range map[string]time.Duration{
		"clickhouse://h:8123/db":                  defaultStatsGrace,
		"clickhouse://h:8123/db?stats_grace=2m":   2 * time.Minute,
		"http://h:8123/db?stats_grace=1s&user=u":  time.Second,
		"clickhouse://h:8123/db?stats_grace=0s":   0,
		"clickhouse://h:8123/db?stats_grace=1.5s": -1,
		"clickhouse://h:8123/db?stats_grace=-1s":  -1,
		"clickhouse://h:8123/db?stats_grace=2h":   -1,
		"clickhouse://h:8123/db?stats_grace=soon": -1,
	} {
		c, err := parseURL(raw)
		if want < 0 {
			if err == nil {
				t.Errorf("%s: no error", raw)
			}
			continue
		}
		if err != nil || c.statsGrace != want {
			t.Errorf("%s: %v, %v; want %v", raw, c, err, want)
		}
	}
}

func TestStatsRollupRowsFromTheURL(t *testing.T) {
	for raw, want := range map[string]int{
		"clickhouse://h:8123/db":                       defaultRollupRows,
		"clickhouse://h:8123/db?stats_rollup_rows=1":   1,
		"clickhouse://h:8123/db?stats_rollup_rows=0":   -1,
		"clickhouse://h:8123/db?stats_rollup_rows=few": -1,
	} {
		c, err := parseURL(raw)
		if want < 0 {
			if err == nil {
				t.Errorf("%s: no error", raw)
			}
			continue
		}
		if err != nil || c.rollupRows != want {
			t.Errorf("%s: %v, %v; want %v", raw, c, err, want)
		}
	}
}
