package api_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/insights"
	"github.com/roentgen-tracing/roentgen/internal/insights/insightstest"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// insightsEnv is a real server whose clock the test moves, fed a generated
// workload minute by minute.
type insightsEnv struct {
	srv   *xraytest.Server
	c     *xray.Client
	clock *atomic.Int64 // unix nanoseconds
}

func startInsights(t *testing.T, dir string, now time.Time) *insightsEnv {
	clock := &atomic.Int64{}
	clock.Store(now.UnixNano())
	srv := xraytest.Start(t, xraytest.InDir(dir), func(c *app.Config) {
		c.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	})
	return &insightsEnv{srv: srv, c: srv.Client(t), clock: clock}
}

func (e *insightsEnv) run(t *testing.T, w *insightstest.Workload, from, to time.Time) {
	t.Helper()
	ctx := context.Background()
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		if err := w.Minute(ctx, e.srv.Store(), m); err != nil {
			t.Fatal(err)
		}
		e.clock.Store(m.Add(time.Minute + insights.DefaultSettle).UnixNano())
		if err := e.srv.Insights().Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInsightsThroughTheSDK: an incident that propagates (payments,
// through checkout, to the frontend) and one still going on (the carts
// table), read with aws-sdk-go-v2 through all four operations, and again
// after a restart.
func TestInsightsThroughTheSDK(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now().Add(-3 * time.Hour).Truncate(time.Hour)
	e := startInsights(t, dir, t0)
	ctx := context.Background()
	payments := insightstest.Incident{Service: insightstest.Payments, Start: t0.Add(60 * time.Minute), End: t0.Add(75 * time.Minute), FaultRate: 0.5}
	carts := insightstest.Incident{Service: insightstest.Carts, Start: t0.Add(85 * time.Minute), End: t0.Add(120 * time.Minute), FaultRate: 0.5}
	w := insightstest.New(7, payments, carts)
	// A group with insights on gets its own; one without gets none.
	for name, on := range map[string]bool{"shop": true, "quiet": false} {
		if _, err := e.c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String(name),
			InsightsConfiguration: &types.InsightsConfiguration{InsightsEnabled: aws.Bool(on)}}); err != nil {
			t.Fatal(err)
		}
	}
	w.Groups = []string{"Default", "shop", "quiet"}
	e.run(t, w, t0, t0.Add(95*time.Minute))
	now := time.Unix(0, e.clock.Load())

	every, err := e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(now)})
	if err != nil || len(every.InsightSummaries) != 4 {
		t.Fatalf("every group: %v, %d insights, want 2 in Default and 2 in shop", err, len(every.InsightSummaries))
	}
	shop, err := e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(now), GroupName: aws.String("shop")})
	if err != nil || len(shop.InsightSummaries) != 2 || aws.ToString(shop.InsightSummaries[0].GroupName) != "shop" ||
		!strings.Contains(aws.ToString(shop.InsightSummaries[0].GroupARN), ":group/shop/") {
		t.Fatalf("group shop: %v %+v", err, shop)
	}
	quiet, err := e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(now), GroupName: aws.String("quiet")})
	if err != nil || len(quiet.InsightSummaries) != 0 {
		t.Fatalf("group quiet (insights off): %v %+v", err, quiet)
	}
	sum, err := e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(now), GroupName: aws.String("Default")})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.InsightSummaries) != 2 || sum.NextToken != nil {
		t.Fatalf("%d insights (next %v), want 2: %+v", len(sum.InsightSummaries), sum.NextToken, sum.InsightSummaries)
	}
	active, closed := sum.InsightSummaries[0], sum.InsightSummaries[1] // newest first
	if aws.ToString(active.RootCauseServiceId.Name) != "carts" || aws.ToString(active.RootCauseServiceId.Type) != "AWS::DynamoDB::Table" ||
		active.State != types.InsightStateActive || active.EndTime != nil {
		t.Errorf("active insight: root %+v state %s end %v", active.RootCauseServiceId, active.State, active.EndTime)
	}
	if aws.ToString(closed.RootCauseServiceId.Name) != "payments" || closed.State != types.InsightStateClosed || closed.EndTime == nil ||
		closed.EndTime.Before(payments.End) || closed.EndTime.After(payments.End.Add(5*time.Minute)) {
		t.Errorf("closed insight: root %+v state %s end %v", closed.RootCauseServiceId, closed.State, closed.EndTime)
	}
	for _, s := range sum.InsightSummaries {
		if len(aws.ToString(s.InsightId)) != 36 || aws.ToString(s.GroupName) != "Default" ||
			aws.ToString(s.GroupARN) != "arn:aws:xray:us-east-1:000000000000:group/Default" ||
			len(s.Categories) != 1 || s.Categories[0] != types.InsightCategoryFault || s.StartTime == nil || s.LastUpdateTime == nil ||
			!strings.Contains(aws.ToString(s.Summary), "fault rate of "+aws.ToString(s.RootCauseServiceId.Name)) ||
			aws.ToInt64(s.RootCauseServiceRequestImpactStatistics.FaultCount) == 0 ||
			aws.ToInt64(s.ClientRequestImpactStatistics.TotalCount) == 0 || len(s.TopAnomalousServices) == 0 ||
			aws.ToString(s.TopAnomalousServices[0].ServiceId.Name) != aws.ToString(s.RootCauseServiceId.Name) {
			t.Errorf("summary %s: %+v", aws.ToString(s.InsightId), s)
		}
	}
	if st := closed.StartTime; st.Before(payments.Start) || st.After(payments.Start.Add(5*time.Minute)) {
		t.Errorf("payments insight starts at %s, the incident at %s", st, payments.Start)
	}

	// /metrics counts the active ones: carts, in Default and in shop.
	if resp, err := http.Get(e.srv.URL("http") + "/metrics"); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "\nroentgen_insights_active 2\n") {
			t.Errorf("/metrics lacks roentgen_insights_active 2")
		}
	}

	// Paging, states, groups.
	p1, err := e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(now), MaxResults: aws.Int32(1), GroupName: aws.String("Default")})
	if err != nil || len(p1.InsightSummaries) != 1 || p1.NextToken == nil || aws.ToString(p1.InsightSummaries[0].InsightId) != aws.ToString(active.InsightId) {
		t.Fatalf("page 1: %v %+v", err, p1)
	}
	p2, err := e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(now), MaxResults: aws.Int32(1), GroupName: aws.String("Default"), NextToken: p1.NextToken})
	if err != nil || len(p2.InsightSummaries) != 1 || p2.NextToken != nil || aws.ToString(p2.InsightSummaries[0].InsightId) != aws.ToString(closed.InsightId) {
		t.Fatalf("page 2: %v %+v", err, p2)
	}
	for state, want := range map[types.InsightState]string{types.InsightStateActive: "carts", types.InsightStateClosed: "payments"} {
		out, err := e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(now),
			States: []types.InsightState{state}, GroupARN: aws.String("arn:aws:xray:us-east-1:000000000000:group/Default")})
		if err != nil || len(out.InsightSummaries) != 1 || aws.ToString(out.InsightSummaries[0].RootCauseServiceId.Name) != want {
			t.Errorf("state %s: %v %+v", state, err, out)
		}
	}
	// A window that ends before the first insight starts holds none.
	early, err := e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(30 * time.Minute))})
	if err != nil || len(early.InsightSummaries) != 0 {
		t.Errorf("early window: %v %+v", err, early)
	}

	// GetInsight.
	got, err := e.c.GetInsight(ctx, &xray.GetInsightInput{InsightId: closed.InsightId})
	if err != nil {
		t.Fatal(err)
	}
	if in := got.Insight; aws.ToString(in.InsightId) != aws.ToString(closed.InsightId) || in.State != types.InsightStateClosed ||
		!in.EndTime.Equal(*closed.EndTime) || aws.ToString(in.Summary) != aws.ToString(closed.Summary) ||
		aws.ToInt64(in.ClientRequestImpactStatistics.FaultCount) != aws.ToInt64(closed.ClientRequestImpactStatistics.FaultCount) {
		t.Errorf("GetInsight: %+v", in)
	}

	// GetInsightEvents, one a page.
	var events []types.InsightEvent
	var token *string
	for i := 0; ; i++ {
		out, err := e.c.GetInsightEvents(ctx, &xray.GetInsightEventsInput{InsightId: closed.InsightId, MaxResults: aws.Int32(1), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, out.InsightEvents...)
		if token = out.NextToken; token == nil || i > 100 {
			break
		}
	}
	if len(events) < 3 || !strings.HasPrefix(aws.ToString(events[0].Summary), "Insight opened") ||
		!strings.HasPrefix(aws.ToString(events[len(events)-1].Summary), "Closed") {
		t.Fatalf("events: %d, first %q", len(events), aws.ToString(events[0].Summary))
	}
	var faults int64
	for i, ev := range events {
		if i > 0 && !ev.EventTime.After(*events[i-1].EventTime) {
			t.Errorf("event %d at %s, not after %s", i, ev.EventTime, events[i-1].EventTime)
		}
		faults += aws.ToInt64(ev.RootCauseServiceRequestImpactStatistics.FaultCount)
	}
	if faults != aws.ToInt64(closed.RootCauseServiceRequestImpactStatistics.FaultCount) {
		t.Errorf("events count %d root-cause faults, the insight %d", faults, aws.ToInt64(closed.RootCauseServiceRequestImpactStatistics.FaultCount))
	}

	// GetInsightImpactGraph: payments, checkout and the frontend, and the
	// frontend's users, with the calls between them.
	g, err := e.c.GetInsightImpactGraph(ctx, &xray.GetInsightImpactGraphInput{InsightId: closed.InsightId, StartTime: closed.StartTime, EndTime: closed.EndTime})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]types.InsightImpactGraphService{}
	for _, s := range g.Services {
		byName[aws.ToString(s.Name)+"/"+aws.ToString(s.Type)] = s
	}
	ref := func(key string) int32 { return aws.ToInt32(byName[key].ReferenceId) }
	calls := func(from, to string) bool {
		for _, e := range byName[from].Edges {
			if aws.ToInt32(e.ReferenceId) == ref(to) {
				return true
			}
		}
		return false
	}
	if !calls("frontend/client", "frontend/AWS::EC2::Instance") || !calls("frontend/AWS::EC2::Instance", "checkout/AWS::ECS::Container") ||
		!calls("checkout/AWS::ECS::Container", "payments/AWS::Lambda::Function") {
		t.Errorf("impact graph: %+v", byName)
	}
	if _, ok := byName["catalog/AWS::ECS::Container"]; ok {
		t.Errorf("impact graph holds catalog, which the incident did not touch")
	}
	if aws.ToString(g.InsightId) != aws.ToString(closed.InsightId) || !g.StartTime.Equal(*closed.StartTime) || g.ServiceGraphStartTime == nil || g.ServiceGraphEndTime == nil {
		t.Errorf("impact graph: %+v", g)
	}

	// Errors, in the protocol's own form.
	_, err = e.c.GetInsightImpactGraph(ctx, &xray.GetInsightImpactGraphInput{InsightId: closed.InsightId, StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(7 * time.Hour))})
	wantAPIError(t, "7h impact graph", err, "InvalidRequestException", "at most 6 hours")
	_, err = e.c.GetInsightEvents(ctx, &xray.GetInsightEventsInput{InsightId: closed.InsightId, MaxResults: aws.Int32(51)})
	wantAPIError(t, "MaxResults", err, "InvalidRequestException", "MaxResults must be 1 to 50")
	_, err = e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(now), States: []types.InsightState{"ACTIVE", "CLOSED"}})
	wantAPIError(t, "two states", err, "InvalidRequestException", "at most one state")
	_, err = e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(now), States: []types.InsightState{"OPEN"}})
	wantAPIError(t, "bad state", err, "InvalidRequestException", `"OPEN" is not a state`)
	_, err = e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(now), GroupName: aws.String("nope")})
	wantAPIError(t, "unknown group", err, "InvalidRequestException", `no group named "nope"`)
	_, err = e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(now), NextToken: aws.String("garbage!")})
	wantAPIError(t, "bad token", err, "InvalidRequestException", "NextToken")
	_, err = e.c.GetInsight(ctx, &xray.GetInsightInput{InsightId: aws.String("not-a-uuid")})
	wantAPIError(t, "bad id", err, "InvalidRequestException", "not a UUID")

	// Default's InsightsConfiguration says what the server does.
	grp, err := e.c.GetGroup(ctx, &xray.GetGroupInput{GroupName: aws.String("Default")})
	if err != nil || !aws.ToBool(grp.Group.InsightsConfiguration.InsightsEnabled) {
		t.Errorf("Default group: %v %+v", err, grp)
	}

	// A restart keeps the insights and the detector's state: the active
	// insight goes on and closes once the incident ends.
	e.srv.Stop()
	e = startInsights(t, dir, now)
	e.run(t, w, t0.Add(95*time.Minute), t0.Add(130*time.Minute))
	again, err := e.c.GetInsight(ctx, &xray.GetInsightInput{InsightId: active.InsightId})
	if err != nil {
		t.Fatal(err)
	}
	if in := again.Insight; in.State != types.InsightStateClosed || !in.StartTime.Equal(*active.StartTime) || in.EndTime.Before(carts.End) {
		t.Errorf("after a restart: %+v", in)
	}
	all, err := e.c.GetInsightSummaries(ctx, &xray.GetInsightSummariesInput{StartTime: aws.Time(t0), EndTime: aws.Time(time.Unix(0, e.clock.Load())), GroupName: aws.String("Default")})
	if err != nil || len(all.InsightSummaries) != 2 {
		t.Errorf("after a restart: %v, %d insights", err, len(all.InsightSummaries))
	}
}
