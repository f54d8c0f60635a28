package bench

import (
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// ParsedTrace makes one trace at time at (of g.TraceSize segments) and
// parses its documents, as ingest would, for benchmarks of what comes after
// parsing.
func (g *Generator) ParsedTrace(at time.Time) (*trace.Trace, error) {
	id, docs := g.Trace(at, g.TraceSize)
	t := &trace.Trace{ID: id}
	for _, d := range docs {
		segs, err := segment.Parse(d, segment.Options{Now: at})
		if err != nil {
			return nil, err
		}
		t.Put(segs...)
	}
	return t, nil
}
