package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// TermsOf reuses its scratch buffers from call to call: terms it returned
// (annotation values, flags built in them) must not change with later calls.
func TestTermsOfResultsSurviveLaterCalls(t *testing.T) {
	g := bench.NewGenerator(1)
	now := time.Now()
	var sums []*trace.Summary
	for range 50 {
		tr, err := g.ParsedTrace(now)
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, trace.Summarize(trace.Assemble(tr), nil, 1))
	}
	first := make([][]store.Term, len(sums))
	want := make([][]store.Term, len(sums))
	for i, s := range sums {
		first[i] = store.TermsOf(s)
		want[i] = slices.Clone(first[i])
		// Strings are immutable unless built over a buffer: compare the
		// bytes after the other summaries reused the scratch.
		for j := range want[i] {
			want[i][j].Value = string([]byte(want[i][j].Value))
		}
	}
	for range 3 {
		for _, s := range sums {
			store.TermsOf(s)
		}
	}
	for i := range sums {
		if !slices.Equal(first[i], want[i]) {
			t.Fatalf("terms of summary %d changed after later calls:\n got %v\nwant %v", i, first[i], want[i])
		}
		if again := store.TermsOf(sums[i]); !slices.Equal(again, want[i]) {
			t.Fatalf("terms of summary %d differ on a second call:\n got %v\nwant %v", i, again, want[i])
		}
	}
}

// TermsInto lists, in a reused buffer, what TermsOf lists afresh, whatever
// the buffer held before (summaries of every size, one after another).
func TestTermsIntoReusesBuffer(t *testing.T) {
	now := time.Now()
	var sums []*trace.Summary
	for _, size := range []int{0, 1, 8, 1, 0} {
		g := bench.NewGenerator(uint64(size) + 1)
		g.TraceSize = size
		for range 50 {
			tr, err := g.ParsedTrace(now)
			if err != nil {
				t.Fatal(err)
			}
			sums = append(sums, trace.Summarize(trace.Assemble(tr), nil, 1))
		}
	}
	var buf []store.Term
	for i, s := range sums {
		buf = store.TermsInto(buf, s)
		if want := store.TermsOf(s); !slices.Equal(buf, want) {
			t.Fatalf("summary %d: TermsInto %v, TermsOf %v", i, buf, want)
		}
	}
}
