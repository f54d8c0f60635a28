package keep_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// Counted from several goroutines at once: the counts and the
// roentgen_keep_decisions_total series agree with a plain tally, and a
// decision never made has no series (the series are looked up once, at a
// policy's first decision of each kind).
func TestCountedSeriesMatchCounts(t *testing.T) {
	ctx := context.Background()
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := metrics.New(nil)
	s, err := keep.New(ctx, st, nil, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds := []keep.Decision{{Keep: true, Policy: "a"}, {Keep: false, Policy: keep.DefaultPolicyName},
		{Keep: true, Policy: keep.DefaultPolicyName}, {Keep: false, Policy: "b"}, {Keep: true, Policy: "a"}}
	want := map[string]int{}
	var wg sync.WaitGroup
	for g := range 4 {
		for i := range 500 {
			d := ds[(g+i*i)%len(ds)]
			want[fmt.Sprintf("%s %v", d.Policy, d.Keep)]++
		}
		wg.Go(func() {
			for i := range 500 {
				s.Counted(ds[(g+i*i)%len(ds)])
			}
		})
	}
	wg.Wait()
	got := map[string]int{}
	for _, c := range s.Counts() {
		if c.Kept > 0 {
			got[c.Policy+" true"] = int(c.Kept)
		}
		if c.Dropped > 0 {
			got[c.Policy+" false"] = int(c.Dropped)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Counts = %v; want %v", got, want)
	}
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var series []string
	for _, f := range fams {
		if f.GetName() != "roentgen_keep_decisions_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range mt.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			series = append(series, fmt.Sprintf("%s %v %d", l["policy"], l["decision"] == "kept", int(mt.GetCounter().GetValue())))
		}
	}
	var wantSeries []string
	for k, n := range want {
		wantSeries = append(wantSeries, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(series)
	sort.Strings(wantSeries)
	if strings.Join(series, "\n") != strings.Join(wantSeries, "\n") {
		t.Errorf("series:\n%s\nwant:\n%s", strings.Join(series, "\n"), strings.Join(wantSeries, "\n"))
	}
}
