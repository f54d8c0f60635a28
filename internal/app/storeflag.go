package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// openStore opens the store --store names: empty for the embedded Pebble
// store in DataDir (the default), or a ClickHouse database as
// clickhouse://host:8123/database?user=…&password=…&secure=1 or an
// http(s)://host:8123/database URL (docs/clickhouse.md).
func openStore(cfg Config, log *slog.Logger) (store.Store, error) {
	u := cfg.Store
	switch {
	case u == "":
		return pebble.Open(cfg.DataDir, pebble.Options{CombineStats: graph.CombineStats, Logger: log,
			CacheBytes: cfg.Memory.BlockCache, MemTableBytes: cfg.Memory.MemTable})
	case strings.HasPrefix(u, "clickhouse://"), strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		st, err := clickhouse.Open(ctx, u)
		if err != nil {
			return nil, err
		}
		// What the embedded store's memtables would take holds the
		// documents this process wrote, left out of its reads (own.go).
		st.RememberWritten(cfg.Memory.MemTable)
		return st, nil
	}
	return nil, fmt.Errorf("--store %q: want clickhouse://host:port/database, http(s)://host:port/database, or nothing for the embedded store", u)
}
