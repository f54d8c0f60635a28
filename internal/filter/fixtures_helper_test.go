package filter

import (
	"sort"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/fixtures"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// fixtureSummaries summarizes every trace recorded from the official SDKs,
// by trace id, in id order.
func fixtureSummaries(t testing.TB) []*trace.Summary {
	t.Helper()
	traces := map[string]*trace.Trace{}
	for _, d := range fixtures.Datagrams() {
		body, err := segment.SplitDatagram(d.Bytes)
		if err != nil {
			continue
		}
		segs, err := segment.Parse(body, segment.Options{SkipTraceEpoch: true, Stored: true})
		if err != nil {
			continue
		}
		for _, s := range segs {
			tr := traces[s.TraceID]
			if tr == nil {
				tr = &trace.Trace{ID: s.TraceID}
				traces[s.TraceID] = tr
			}
			tr.Put(s)
		}
	}
	var out []*trace.Summary
	for _, tr := range traces {
		out = append(out, trace.Summarize(trace.Assemble(tr), nil, fixtures.RecordedAt))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TraceID < out[j].TraceID })
	return out
}
