package insights_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/insights"
	"github.com/roentgen-tracing/roentgen/internal/insights/insightstest"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// TestWebhook: an insight opening and closing in a group with
// notifications on is posted to the webhook, EventBridge-shaped; a group
// without notifications posts nothing; a bad URL is refused at start.
func TestWebhook(t *testing.T) {
	got := make(chan insights.WebhookEvent, 16)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e insights.WebhookEvent
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&e) != nil {
			t.Errorf("webhook request: %s %s", r.Method, r.Header.Get("Content-Type"))
		}
		got <- e
	}))
	defer hs.Close()
	st, err := pebble.Open(t.TempDir(), pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	agg := graph.NewAggregator(graph.AggregatorConfig{Store: st, Logger: quiet})
	now := t0
	cfg := insights.Config{Store: st, Graph: agg, Logger: quiet, Webhook: hs.URL,
		Interval: time.Hour, // the test evaluates; the loop never does
		Now:      func() time.Time { return now },
		Groups:   func() []insights.Group { return []insights.Group{{Name: "Default", ARN: "arn:default", Notify: true}} }}
	if _, err := insights.New(context.Background(), func() insights.Config { c := cfg; c.Webhook = "ftp://x"; return c }()); err == nil || !strings.Contains(err.Error(), "http:// or https://") {
		t.Errorf("a bad webhook URL: %v", err)
	}
	d, err := insights.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	defer d.Stop()
	w := insightstest.New(5, insightstest.Incident{Service: insightstest.Catalog, Start: t0.Add(40 * time.Minute), End: t0.Add(50 * time.Minute), FaultRate: 0.5})
	for m := t0; m.Before(t0.Add(60 * time.Minute)); m = m.Add(time.Minute) {
		if err := w.Minute(context.Background(), st, m); err != nil {
			t.Fatal(err)
		}
		now = m.Add(time.Minute + insights.DefaultSettle)
		if err := d.Evaluate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"opened", "closed"} {
		select {
		case e := <-got:
			if e.Detail.Event != want || e.DetailType != "X-Ray Insight Update" || e.Detail.RootCause != insightstest.Catalog ||
				e.Detail.GroupARN != "arn:default" || len(e.Detail.Categories) == 0 || e.Detail.InsightId == "" {
				t.Errorf("webhook event: %+v", e)
			}
		case <-time.After(30 * time.Second): // a guard; the posts are local
			t.Fatalf("no %q event posted", want)
		}
	}
}
