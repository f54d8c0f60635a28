package trace_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Summaries are cut, with their lists, from shared arrays (a block per
// single-segment summary, windows of one array for names and node lists):
// appending to any list of any summary, and dropping the result, must
// change nothing any summary holds. Over the shapes, the fixtures and
// generated traces of both shapes, summarised one after the other.
func TestSummaryListsDoNotAlias(t *testing.T) {
	traces := append(shapeTraces(t), fixtureTraces(t)...)
	for _, size := range []int{1, 0} {
		g := bench.NewGenerator(uint64(3 + size))
		g.TraceSize = size
		for range 300 {
			tr, err := g.ParsedTrace(time.Unix(1_765_000_000, 0))
			if err != nil {
				t.Fatal(err)
			}
			traces = append(traces, tr)
		}
	}
	const window = 8 // summaries checked together: neighbours in the heap
	for lo := 0; lo < len(traces); lo += window {
		var sums []*trace.Summary
		var want []string
		for _, tr := range traces[lo:min(lo+window, len(traces))] {
			s := trace.SummarizeTrace(tr, nil, 1.7e9)
			sums = append(sums, s)
			want = append(want, jsonOf(t, s))
		}
		lists := 0
		for _, s := range sums {
			eachSlice(reflect.ValueOf(s).Elem(), func(v reflect.Value) {
				lists++
				_ = reflect.Append(v, reflect.Zero(v.Type().Elem()), reflect.Zero(v.Type().Elem()))
				for i, s := range sums {
					if got := jsonOf(t, s); got != want[i] {
						t.Fatalf("appending to a %s changed summary %d:\n got %s\nwant %s", v.Type(), lo+i, got, want[i])
					}
				}
			})
		}
		if lists == 0 {
			t.Fatal("no list was appended to: the test checks nothing")
		}
	}
}

func jsonOf(t *testing.T, s *trace.Summary) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// eachSlice calls fn for every non-nil slice in v and below it.
func eachSlice(v reflect.Value, fn func(reflect.Value)) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			eachSlice(v.Field(i), fn)
		}
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		fn(v)
		for i := range v.Len() {
			eachSlice(v.Index(i), fn)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			eachSlice(v.Elem(), fn)
		}
	}
}
