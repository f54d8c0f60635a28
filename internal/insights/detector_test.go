package insights_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/insights"
	"github.com/roentgen-tracing/roentgen/internal/insights/insightstest"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the start of every generated workload: an hour boundary.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// rig is a detector on a real store, driven by a simulated clock.
type rig struct {
	t     *testing.T
	dir   string
	st    *pebble.Store
	d     *insights.Detector
	now   time.Time
	notes []insights.Notification
}

func newRig(t *testing.T, dir string) *rig {
	t.Helper()
	st, err := pebble.Open(dir, pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, dir: dir, st: st, now: t0}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	agg := graph.NewAggregator(graph.AggregatorConfig{Store: st, Logger: quiet})
	r.d, err = insights.New(context.Background(), insights.Config{Store: st, Graph: agg, Logger: quiet,
		Groups: func() []insights.Group {
			return []insights.Group{{Name: "Default", ARN: "arn:aws:xray:us-east-1:000000000000:group/Default", Notify: true}}
		},
		Now:    func() time.Time { return r.now },
		Notify: func(n insights.Notification) { r.notes = append(r.notes, n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return r
}

// step writes minute m of the workload, then evaluates as the server
// would once the minute has settled.
func (r *rig) step(w *insightstest.Workload, m time.Time) {
	r.t.Helper()
	if err := w.Minute(context.Background(), r.st, m); err != nil {
		r.t.Fatal(err)
	}
	r.now = m.Add(time.Minute + insights.DefaultSettle)
	if err := r.d.Evaluate(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

// TestThreeIncidents is the Done-when: an hour of steady traffic, then
// three incidents at different depths (payments, whose faults propagate
// through checkout to the frontend; the carts table, whose faults the
// cart service sees but users do not; catalog). Each is found within five
// minutes of its onset with its root cause named, and nothing else is.
func TestThreeIncidents(t *testing.T) {
	seeds := 5
	if testing.Short() {
		seeds = 1
	}
	if v, err := strconv.Atoi(os.Getenv("ROENTGEN_INSIGHTS_SEEDS")); err == nil {
		seeds = v
	}
	for seed := 1; seed <= seeds; seed++ {
		t.Run("seed"+strconv.Itoa(seed), func(t *testing.T) { threeIncidents(t, uint64(seed)) })
	}
}

func threeIncidents(t *testing.T, seed uint64) {
	r := newRig(t, t.TempDir())
	incidents := []insightstest.Incident{
		{Service: insightstest.Payments, Start: t0.Add(60 * time.Minute), End: t0.Add(75 * time.Minute), FaultRate: 0.4},
		{Service: insightstest.Carts, Start: t0.Add(90 * time.Minute), End: t0.Add(100 * time.Minute), FaultRate: 0.5},
		{Service: insightstest.Catalog, Start: t0.Add(115 * time.Minute), End: t0.Add(125 * time.Minute), FaultRate: 0.3},
	}
	w := insightstest.New(seed, incidents...)
	found := map[string]time.Time{} // insight id -> clock when first listed
	for m := t0; m.Before(t0.Add(140 * time.Minute)); m = m.Add(time.Minute) {
		r.step(w, m)
		for _, in := range r.d.List(insights.Query{To: 1 << 40}) {
			if _, ok := found[in.ID]; !ok {
				found[in.ID] = r.now
			}
		}
		if m.Before(incidents[0].Start) && len(found) > 0 {
			t.Fatalf("an insight during the steady baseline, at %s: %+v", m, r.d.List(insights.Query{To: 1 << 40})[0])
		}
	}
	all := r.d.List(insights.Query{To: 1 << 40})
	if len(all) != len(incidents) {
		for _, in := range all {
			t.Logf("insight %s root %s %s..%s: %s", in.ID, in.RootCause.Name, time.Unix(in.Start, 0).UTC(), time.Unix(in.End, 0).UTC(), in.Summary)
		}
		t.Fatalf("%d insights, want %d", len(all), len(incidents))
	}
	for _, inc := range incidents {
		var got *insights.Insight
		for _, in := range all {
			if in.RootCause == inc.Service {
				got = in
			}
		}
		if got == nil {
			t.Errorf("no insight with root cause %s", inc.Service.Name)
			continue
		}
		start := time.Unix(got.Start, 0)
		if start.Before(inc.Start) || start.After(inc.Start.Add(5*time.Minute)) {
			t.Errorf("%s: insight starts at %s, incident at %s", inc.Service.Name, start.UTC(), inc.Start.UTC())
		}
		if at := found[got.ID]; at.After(inc.Start.Add(5 * time.Minute)) {
			t.Errorf("%s: found at %s, more than 5 minutes after the onset %s", inc.Service.Name, at.UTC(), inc.Start.UTC())
		}
		// Closed once the rate is back: at the end, or a minute or two
		// before it when the last minutes of a quiet service looked normal.
		if got.State != insights.StateClosed || got.End < inc.End.Add(-2*time.Minute).Unix() || got.End > inc.End.Add(5*time.Minute).Unix() {
			t.Errorf("%s: state %s, end %s; the incident ended at %s", inc.Service.Name, got.State, time.Unix(got.End, 0).UTC(), inc.End.UTC())
		}
		if len(got.Categories) == 0 || got.Categories[0] != insights.CategoryFault {
			t.Errorf("%s: categories %v", inc.Service.Name, got.Categories)
		}
		if got.RootImpact.Fault == 0 || got.RootImpact.Total <= got.RootImpact.Fault {
			t.Errorf("%s: root-cause impact %+v", inc.Service.Name, got.RootImpact)
		}
		if len(got.Events) < 2 || got.Events[0].Time == 0 {
			t.Errorf("%s: events %+v", inc.Service.Name, got.Events)
		}
		t.Logf("%s: started %s, found at %s, closed %s, impacted %v, client %+v: %s", inc.Service.Name, start.UTC().Format("15:04"),
			found[got.ID].UTC().Format("15:04:05"), time.Unix(got.End, 0).UTC().Format("15:04"), names(got.Impacted), got.Client, got.Events[0].Summary)
	}
	// The propagating incident names what it impacted: checkout and the
	// frontend, and the frontend's users.
	for _, in := range all {
		switch in.RootCause {
		case insightstest.Payments:
			for _, s := range []trace.NodeID{insightstest.Checkout, insightstest.Frontend, {Name: "frontend", Type: "client"}} {
				if !contains(in.Impacted, s) {
					t.Errorf("payments insight: impacted %v lacks %s", names(in.Impacted), s.Name)
				}
			}
			if in.Client.Total == 0 || in.Client.Fault == 0 {
				t.Errorf("payments insight: client impact %+v", in.Client)
			}
		case insightstest.Carts:
			// The frontend is cart's client, but hides cart failures
			// from its users: they are not impacted.
			if contains(in.Impacted, trace.NodeID{Name: "frontend", Type: "client"}) || contains(in.Top, insightstest.Frontend) {
				t.Errorf("carts insight: the frontend hides cart failures, yet impacted %v, top %v", names(in.Impacted), names(in.Top))
			}
		}
	}
	if len(r.notes) != 2*len(incidents) {
		t.Errorf("%d notifications, want an opening and a closing per incident", len(r.notes))
	}
}

func names(s []trace.NodeID) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.Name+"("+x.Type+")")
	}
	return out
}

func contains(s []trace.NodeID, x trace.NodeID) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// TestFalsePositives runs steady traffic for hours under several seeds and
// counts the insights: there should be none. ROENTGEN_INSIGHTS_HOURS and
// ROENTGEN_INSIGHTS_SEEDS lengthen it (docs/insights.md's measurement).
func TestFalsePositives(t *testing.T) {
	hours, seeds := 6, 3
	if testing.Short() {
		hours, seeds = 2, 1
	}
	if v, err := strconv.Atoi(os.Getenv("ROENTGEN_INSIGHTS_HOURS")); err == nil {
		hours = v
	}
	if v, err := strconv.Atoi(os.Getenv("ROENTGEN_INSIGHTS_SEEDS")); err == nil {
		seeds = v
	}
	// Steady by default; ROENTGEN_INSIGHTS_WANDER=0.05 lets every rate
	// drift (a mean-reverting walk of the log rate, 0.05 a minute:
	// rates wander about ±20 %, 1 σ).
	wander := 0.0
	if v, err := strconv.ParseFloat(os.Getenv("ROENTGEN_INSIGHTS_WANDER"), 64); err == nil {
		wander = v
	}
	total, flagged := 0, int64(0)
	for seed := 1; seed <= seeds; seed++ {
		r := newRig(t, t.TempDir())
		w := insightstest.New(uint64(1000 + seed))
		w.Diurnal, w.Wander = true, wander
		for m := t0; m.Before(t0.Add(time.Duration(hours) * time.Hour)); m = m.Add(time.Minute) {
			r.step(w, m)
		}
		flagged += r.d.AnomalousMinutes()
		for _, in := range r.d.List(insights.Query{To: 1 << 40}) {
			total++
			t.Logf("seed %d: false positive %s at %s: %s", seed, in.RootCause.Name, time.Unix(in.Start, 0).UTC(), in.Summary)
		}
	}
	t.Logf("%d insights and %d anomalous service-minutes in %d service-hours of steady traffic (%d hours x %d seeds x 10 services, diurnal, wander %g)",
		total, flagged, hours*seeds*10, hours, seeds, wander)
	if total > 0 {
		t.Errorf("%d false positives", total)
	}
}

// TestFirstEvaluationCatchesUp: traces already stored when a group is
// first evaluated (a server upgraded, traces sent with past times) are
// evaluated back to MaxCatchUp, so an incident under way is found at once;
// and a detector started and stopped leaves nothing running.
func TestFirstEvaluationCatchesUp(t *testing.T) {
	r := newRig(t, t.TempDir())
	inc := insightstest.Incident{Service: insightstest.Catalog, Start: t0.Add(50 * time.Minute), End: t0.Add(70 * time.Minute), FaultRate: 0.3}
	w := insightstest.New(3, inc)
	// Before any statistics, evaluations start nothing.
	if err := r.d.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for m := t0; m.Before(t0.Add(56 * time.Minute)); m = m.Add(time.Minute) {
		if err := w.Minute(context.Background(), r.st, m); err != nil {
			t.Fatal(err)
		}
	}
	r.now = t0.Add(57*time.Minute + insights.DefaultSettle)
	if err := r.d.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := r.d.List(insights.Query{To: 1 << 40})
	if len(got) != 1 || got[0].RootCause != insightstest.Catalog || !got[0].Active() {
		t.Fatalf("insights after the first evaluation: %+v", got)
	}
	r.d.Start()
	r.d.Stop()
}
