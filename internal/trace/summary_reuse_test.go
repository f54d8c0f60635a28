package trace_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Summarize reuses its builders: a summary must not depend on what was
// summarised before it. Generated traces and big ones (past the linear
// lookups' limit, so with index maps) are summarised in one order, then in
// the reverse one, and every summary must come out the same.
func TestSummarizeIndependentOfPreviousSummaries(t *testing.T) {
	g := bench.NewGenerator(7)
	now := time.Now()
	var traces []*trace.Trace
	for i := range 60 {
		tr, err := g.ParsedTrace(now)
		if err != nil {
			t.Fatal(err)
		}
		traces = append(traces, tr)
		if i%10 == 0 {
			traces = append(traces, bigTrace(t, i, now))
		}
	}
	summarise := func(tr *trace.Trace) string {
		b, err := json.Marshal(trace.Summarize(trace.Assemble(tr), nil, 1))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := make([]string, len(traces))
	for i, tr := range traces {
		want[i] = summarise(tr)
	}
	for i := len(traces) - 1; i >= 0; i-- {
		if got := summarise(traces[i]); got != want[i] {
			t.Fatalf("trace %d summarised after others differs:\n got %s\nwant %s", i, got, want[i])
		}
	}
}

// bigTrace is one segment with 30 subsegments calling distinct services
// and 40 annotations: more nodes and annotations than maxLinear.
func bigTrace(t testing.TB, seed int, now time.Time) *trace.Trace {
	t.Helper()
	start := float64(now.Unix() - 5)
	id := fmt.Sprintf("1-%08x-%024x", int64(start), seed+1)
	var ann, subs []string
	for i := range 40 {
		ann = append(ann, fmt.Sprintf(`"k%d_%d":"v%d"`, seed, i, i%7))
	}
	for i := range 30 {
		subs = append(subs, fmt.Sprintf(`{"id":"%016x","name":"svc%d-%d","namespace":"remote","start_time":%f,"end_time":%f,"http":{"response":{"status":%d}}}`,
			i+100, seed, i, start, start+0.01, 200+100*(i%4)))
	}
	doc := fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"front%d","start_time":%f,"end_time":%f,"annotations":{%s},"subsegments":[%s]}`,
		id, seed+1, seed, start, start+0.5, strings.Join(ann, ","), strings.Join(subs, ","))
	segs, err := segment.Parse([]byte(doc), segment.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	tr := &trace.Trace{ID: id}
	tr.Put(segs...)
	return tr
}
