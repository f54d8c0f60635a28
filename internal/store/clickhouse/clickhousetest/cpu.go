package clickhousetest

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// ServerCPU is the user+system CPU time of the ClickHouse server whose
// process id CLICKHOUSE_PID holds (scripts/clickhouse.sh writes it to
// <state>/pid), read from /proc; 0 without it. Benchmarks report it per
// segment beside Roentgen's own.
func ServerCPU() time.Duration {
	pid := os.Getenv("CLICKHOUSE_PID")
	if pid == "" {
		return 0
	}
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ
}
