package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// Documents an older build stored before times were bounded still read:
// end_time 1.7e308 made GetTraceSummaries over its window and
// BatchGetTraces of its trace answer 500 ("json: unsupported value: +Inf"),
// even after a restart.
func TestStoredAbsurdTimesStillRead(t *testing.T) {
	dir := t.TempDir()
	st, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ep := time.Now().Add(-time.Minute).Unix()
	id := fmt.Sprintf("1-%08x-%024x", ep, 7)
	raw := fmt.Sprintf(`{"trace_id":%q,"id":"a000000000000001","name":"svc","start_time":%d,"end_time":1.7e308}`, id, ep)
	if err := st.PutDocs(context.Background(), []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{{ID: "a000000000000001", Raw: []byte(raw)}}}}); err != nil {
		t.Fatal(err)
	}
	st.Close() // as a crash would leave it: pending, summarised at the next start

	c := newSearchEnvAt(t, dir)
	ctx := context.Background()
	sums, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now())})
	if err != nil || len(sums.TraceSummaries) != 1 {
		t.Fatalf("GetTraceSummaries: %+v, %v", sums, err)
	}
	traces, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{id}})
	if err != nil || len(traces.Traces) != 1 || len(traces.Traces[0].Segments) != 1 {
		t.Fatalf("BatchGetTraces: %+v, %v", traces, err)
	}
}

func newSearchEnvAt(t *testing.T, dir string) *xray.Client {
	a := xraytest.NewAPI(t, dir)
	return a.Client(t, func(o *xray.Options) { o.RetryMaxAttempts = 1 })
}

// A document stored before the time bounds existed, which they would now
// refuse (it started 31 days ago), still gets
// the inferred segment of its downstream call in BatchGetTraces.
func TestStoredOutOfBoundsDocumentStillInfers(t *testing.T) {
	dir := t.TempDir()
	st, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ep := time.Now().Add(-time.Minute).Unix()
	id := fmt.Sprintf("1-%08x-%024x", ep, 8)
	start := ep - 31*24*3600
	raw := fmt.Sprintf(`{"trace_id":%q,"id":"a000000000000002","name":"svc","start_time":%d,"end_time":%d,`+
		`"subsegments":[{"id":"b000000000000002","name":"DynamoDB","namespace":"aws","start_time":%d,"end_time":%d,"aws":{"operation":"GetItem"}}]}`,
		id, start, start+1, start, start+1)
	if err := st.PutDocs(context.Background(), []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{{ID: "a000000000000002", Raw: []byte(raw)}}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	c := newSearchEnvAt(t, dir)
	traces, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{id}})
	if err != nil || len(traces.Traces) != 1 {
		t.Fatalf("BatchGetTraces: %+v, %v", traces, err)
	}
	if n := len(traces.Traces[0].Segments); n != 2 {
		t.Fatalf("BatchGetTraces answered %d segments, want the document and DynamoDB's inferred segment", n)
	}
}
