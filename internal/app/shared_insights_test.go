package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// TestInsightsEvaluationLeavesTheFlushesAlone: on a shared store an
// insights evaluation does not summarise every trace the process holds
// pending (Sync). That flush took every trace being written to at once,
// for seconds, and the PutTraceSegments calls adding to one of them
// waited for it holding their stripe locks, so others waited behind them:
// the 5-14 s calls of the two-server benchmark (docs/clickhouse.md). The
// evaluation reads minutes that ended Settle (30 s) ago, which a live
// process has summarised by then (MaxFlushDelay), and on a shared store it
// could never sync what the other processes hold anyway.
func TestInsightsEvaluationLeavesTheFlushesAlone(t *testing.T) {
	ctx := context.Background()
	st, err := clickhouse.Open(ctx, clickhousetest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Nothing is flushed but by a Sync.
	in := ingest.New(ingest.Config{Store: st, FlushDelay: time.Hour, MaxFlushDelay: time.Hour})
	defer in.Close()
	_, svc, err := app.Wire(ctx, app.Parts{Store: st, Ingest: in, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id := fmt.Sprintf("1-%08x-%024x", now.Unix(), 1)
	doc := fmt.Sprintf(`{"trace_id":%q,"id":"0000000000000001","name":"svc","start_time":%d,"end_time":%d}`, id, now.Unix()-1, now.Unix())
	if rej := in.Ingest(ctx, [][]byte{[]byte(doc)}, ingest.Options{}); len(rej) != 0 {
		t.Fatal(rej)
	}
	if err := svc.Insights.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	var pending []string
	if err := st.Pending(ctx, func(id string) bool { pending = append(pending, id); return true }); err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0] != id {
		t.Fatalf("pending after an evaluation = %v, want [%s] (the evaluation flushed it)", pending, id)
	}
}
