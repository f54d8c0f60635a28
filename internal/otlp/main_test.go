package otlp_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The OpenTelemetry SDK and the X-Ray SDK keep process-wide
		// goroutines once used; pebble's and glog-style loggers likewise.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreAnyFunction("github.com/aws/aws-xray-sdk-go/xray.(*DefaultEmitter).RefreshEmitterWithAddress"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// segments returns the trace's documents by id, waiting up to 30 s for at
// least n of them (UDP ingest is asynchronous).
func segments(t *testing.T, c *xray.Client, traceID string, n int) map[string]map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{traceID}})
		if err != nil {
			t.Fatal(err)
		}
		docs := map[string]map[string]any{}
		for _, tr := range out.Traces {
			for _, s := range tr.Segments {
				var m map[string]any
				if err := json.Unmarshal([]byte(aws.ToString(s.Document)), &m); err != nil {
					t.Fatal(err)
				}
				if m["inferred"] == true {
					continue
				}
				docs[aws.ToString(s.Id)] = m
				ungraft(m, docs)
			}
		}
		if len(docs) >= n || time.Now().After(deadline) {
			if len(docs) < n {
				t.Fatalf("trace %s has %d documents, want %d", traceID, len(docs), n)
			}
			return docs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ungraft takes the independent subsegments that BatchGetTraces grafted
// into d (they keep their trace_id and parent_id) out again, into docs, so
// that tests see the documents as the translation sent them.
func ungraft(d map[string]any, docs map[string]map[string]any) {
	subs, _ := d["subsegments"].([]any)
	var kept []any
	for _, x := range subs {
		m, _ := x.(map[string]any)
		if m == nil {
			kept = append(kept, x)
			continue
		}
		if id, _ := m["id"].(string); m["type"] == "subsegment" && m["trace_id"] != nil && m["parent_id"] != nil && id != "" {
			docs[id] = m
		} else {
			kept = append(kept, x)
		}
		ungraft(m, docs)
	}
	if len(kept) < len(subs) {
		if len(kept) == 0 {
			delete(d, "subsegments")
		} else {
			d["subsegments"] = kept
		}
	}
}
