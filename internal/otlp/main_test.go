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

// segments returns the trace's documents by id, waiting up to 5 s for at
// least n of them (UDP ingest is asynchronous).
func segments(t *testing.T, c *xray.Client, traceID string, n int) map[string]map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
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
