package trace_test

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Summaries compare an inferred segment's id with its caller's segment id
// without making it (newService): a segment whose id is the one its own
// inferred callee gets (ids are the client's to choose) must give the
// response-time cause it gave when the id was made and compared, one
// service whose path ends at the callee.
func TestInferredIDEqualToCallerSegmentID(t *testing.T) {
	h := fnv.New64a()
	h.Write([]byte("inferred:b000000000000001"))
	segID := fmt.Sprintf("%016x", h.Sum64())
	for _, id := range []string{segID, "a000000000000001"} {
		doc := fmt.Sprintf(`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":%q,"name":"api","start_time":100,"end_time":101,
		  "subsegments":[{"id":"b000000000000001","name":"DynamoDB","namespace":"aws","start_time":100,"end_time":100.9,"aws":{"table_name":"users"}}]}`, id)
		segs, err := segment.Parse([]byte(doc), segment.Options{SkipTraceEpoch: true, Stored: true})
		if err != nil {
			t.Fatal(err)
		}
		tr := &trace.Trace{ID: segs[0].TraceID}
		tr.Put(segs...)
		s := trace.SummarizeTrace(tr, nil, 1)
		if len(s.ResponseTimeRootCauses) != 1 {
			t.Fatalf("id %s: %d response-time causes, want 1", id, len(s.ResponseTimeRootCauses))
		}
		rc := s.ResponseTimeRootCauses[0]
		want := 2 // api, then the table
		if id == segID {
			want = 1 // the callee's id is the caller's: one service
		}
		if len(rc.Services) != want {
			j, _ := json.Marshal(rc)
			t.Errorf("id %s: %d services in the cause, want %d: %s", id, len(rc.Services), want, j)
		}
		if n := len(rc.Services[len(rc.Services)-1].EntityPath); rc.Services[len(rc.Services)-1].EntityPath[n-1].Name != "DynamoDB" {
			t.Errorf("id %s: the cause does not end at the callee", id)
		}
	}
}
