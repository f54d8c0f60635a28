package insights_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/insights"
	"github.com/roentgen-tracing/roentgen/internal/insights/insightstest"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// BenchmarkEvaluateHour: a detector without state evaluating the last hour
// of a group (the shop's 10 services and 12 edges, two hours stored); one
// op is 60 minutes evaluated, so ns/op ÷ 60 is the cost of one minute of
// one group, what the server pays every minute per analysed group.
func BenchmarkEvaluateHour(b *testing.B) {
	st, err := pebble.Open(b.TempDir(), pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	w := insightstest.New(1)
	for m := t0; m.Before(t0.Add(2 * time.Hour)); m = m.Add(time.Minute) {
		if err := w.Minute(context.Background(), st, m); err != nil {
			b.Fatal(err)
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	agg := graph.NewAggregator(graph.AggregatorConfig{Store: st, Logger: quiet})
	now := t0.Add(2*time.Hour + insights.DefaultSettle)
	groups := func() []insights.Group { return []insights.Group{{Name: "Default"}} }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// A fresh state each time (the store's metadata is the state).
		_ = st.DeleteMeta(context.Background(), "insights.state", "Default")
		d, err := insights.New(context.Background(), insights.Config{Store: st, Graph: agg, Logger: quiet, Groups: groups, Now: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := d.Evaluate(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/60/1e3, "µs/minute")
}
