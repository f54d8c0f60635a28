package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/roentgen-tracing/roentgen/internal/api"
	"github.com/roentgen-tracing/roentgen/internal/auth"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/groups"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/insights"
	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/red"
	"github.com/roentgen-tracing/roentgen/internal/sampling"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/telemetry"
)

// Parts are what the API's services are built on.
type Parts struct {
	Store   store.Store
	Ingest  *ingest.Ingester
	Metrics *metrics.Metrics // optional
	Logger  *slog.Logger     // optional
	// Region and AccountID appear in the ARNs of groups and sampling rules.
	Region, AccountID string
	// RED configures the per-service and per-edge RED series on /metrics
	// (with Metrics; docs/metrics.md).
	RED red.Config
	// NoDefaultInsights turns off insights on the Default group (other
	// groups follow their InsightsConfiguration); InsightsWebhook, when
	// set, receives their open and close events (docs/insights.md);
	// Retention bounds how long closed insights are kept.
	NoDefaultInsights bool
	InsightsWebhook   string
	Retention         time.Duration
}

// Services are the parts of Roentgen the API serves, each in its own
// package. Data flows one way: ingest feeds the graph's statistics (as a
// deriver, so they are stored with each summary) and the API reads them;
// the API builds and registers nothing.
type Services struct {
	Groups    *groups.Service
	Graph     *graph.Aggregator
	Sampling  *sampling.Service
	Telemetry *telemetry.Service
	Keep      *keep.Service
	// ResourcePolicies are the stored resource policies, compiled, for
	// the guard to enforce with --access-keys.
	ResourcePolicies *auth.ResourcePolicies
	Insights         *insights.Detector // started by the app (Start), not by Wire
}

// Wire builds the services on the store, wires the graph to the ingest
// path (statistics are counted per group, from the groups' expressions),
// and returns the API over them. Recover the ingest path after Wire, so
// that traces left pending by a crash are counted too.
func Wire(ctx context.Context, p Parts) (*api.Server, *Services, error) {
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.Region == "" {
		p.Region = "us-east-1"
	}
	if p.AccountID == "" {
		p.AccountID = "000000000000"
	}
	grp, err := groups.New(ctx, groups.Config{Store: p.Store, Region: p.Region, AccountID: p.AccountID, Logger: p.Logger,
		DefaultInsights: groups.Insights{InsightsEnabled: !p.NoDefaultInsights, NotificationsEnabled: !p.NoDefaultInsights && p.InsightsWebhook != ""}})
	if err != nil {
		return nil, nil, err
	}
	smp, err := sampling.New(ctx, sampling.Config{Store: p.Store, Region: p.Region, AccountID: p.AccountID, Now: p.Ingest.Now})
	if err != nil {
		return nil, nil, err
	}
	kp, err := keep.New(ctx, p.Store, grp.FilterOptions, p.Metrics, p.Logger)
	if err != nil {
		return nil, nil, err
	}
	p.Ingest.SetKeeper(kp)
	agg := graph.NewAggregator(graph.AggregatorConfig{Store: p.Store, Groups: grp.Matching, GroupExpression: grp.Expression, Logger: p.Logger})
	p.Ingest.AddDeriver(agg.Prepare)
	p.Ingest.AddHook(agg.Hook)
	if p.Metrics != nil {
		agg.AddObserver(red.New(p.Metrics.Registry, p.RED).Observe) // counted by agg.Hook from what agg.Prepare computed
	}
	ins, err := newInsights(ctx, p, grp, agg)
	if err != nil {
		return nil, nil, err
	}
	if p.Metrics != nil {
		p.Metrics.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roentgen_insights_active",
			Help: "Insights currently active, in every analysed group (docs/insights.md)."}, func() float64 { return float64(ins.ActiveCount()) }))
	}
	svc := &Services{Groups: grp, Graph: agg, Sampling: smp, Telemetry: telemetry.New(p.Store, p.Metrics), Keep: kp, Insights: ins,
		ResourcePolicies: &auth.ResourcePolicies{}}
	srv, err := api.New(api.Config{Store: p.Store, Ingest: p.Ingest, Groups: grp, Graph: agg, Sampling: smp, Telemetry: svc.Telemetry, Keep: kp,
		Insights: ins, Metrics: p.Metrics, Logger: p.Logger, ResourcePolicies: svc.ResourcePolicies, Region: p.Region, AccountID: p.AccountID})
	if err != nil {
		return nil, nil, err
	}
	if err := srv.LoadResourcePolicies(ctx); err != nil {
		return nil, nil, err
	}
	return srv, svc, nil
}

// newInsights builds the insights detector over the groups whose
// InsightsConfiguration enables them (Default's set by Parts).
func newInsights(ctx context.Context, p Parts, grp *groups.Service, agg *graph.Aggregator) (*insights.Detector, error) {
	// As every read does: what was acknowledged is counted (a bulk of
	// traces sent with past times is seen whole, not half-flushed). Not on
	// a shared store: there it cannot sync the other processes' traces, and
	// a Sync of everything pending took every trace being written to into
	// one flush of seconds, which PutTraceSegments calls adding to them
	// waited for (holding their stripe locks: 5-14 s calls under load).
	// The minutes read ended Settle (30 s) ago, past MaxFlushDelay.
	sync := func(ctx context.Context) { p.Ingest.Sync(ctx) }
	if store.IsShared(p.Store) {
		sync = nil
	}
	return insights.New(ctx, insights.Config{Store: p.Store, Graph: agg, Now: p.Ingest.Now, Logger: p.Logger, Retention: p.Retention,
		Sync:    sync,
		Webhook: p.InsightsWebhook,
		Groups: func() []insights.Group {
			var out []insights.Group
			for tok := ""; ; {
				page, next := grp.List(tok)
				for _, g := range page {
					if c := g.InsightsConfiguration; c.InsightsEnabled {
						out = append(out, insights.Group{Name: g.GroupName, ARN: g.GroupARN, Notify: c.NotificationsEnabled})
					}
				}
				if next == "" {
					return out
				}
				tok = next
			}
		}})
}
