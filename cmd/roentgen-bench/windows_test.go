package main

import (
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// Two senders can add their batches before either reports its count, so the
// count may jump over a window's end, or a smaller count may arrive after a
// larger one. A line is named by where its count falls, so the last line of a
// whole run is always the last window.
func TestWindowsAreNamedByTheirCount(t *testing.T) {
	var out strings.Builder
	c := config{mode: "http", segments: 400, batch: 50}
	w := newWindows(&out, &server{app: &app.App{}}, c, bench.CPUTime(), bench.CPUTime(), time.Now())
	for _, sent := range []int64{50, 100, 200, 150, 300, 400} {
		w.add(sent)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		got = append(got, strings.Join(strings.Fields(l)[:3], " "))
	}
	want := []string{"window 1/8 50", "window 2/8 100", "window 4/8 200", "window 6/8 300", "window 8/8 400"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("lines %q, want %q\n%s", got, want, out.String())
	}
}
