package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/roentgen-tracing/roentgen/internal/api"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// throttleEnv is the API over an ingester whose memory bound is tiny and
// whose summaries wait an hour, so that a second request finds it full.
func throttleEnv(t *testing.T) (*xray.Client, *ingest.Ingester) {
	t.Helper()
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(ingest.Config{Store: st, FlushDelay: time.Hour, PendingBytes: 1 << 20, MaxPendingBytes: 5000})
	srv, _, err := app.Wire(context.Background(), app.Parts{Store: st, Ingest: in, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); in.Close(); st.Close() })
	return xraytest.Client(t, hs.URL, func(o *xray.Options) { o.RetryMaxAttempts = 1 }), in
}

func docsFor(n, from int) []string {
	docs := make([]string, n)
	start := time.Now().Add(-time.Minute).Unix()
	for i := range docs {
		docs[i] = fmt.Sprintf(`{"trace_id":"1-%08x-%024x","id":"%016x","name":"svc","start_time":%d,"end_time":%d}`, start, from+i, from+i+1, start, start+1)
	}
	return docs
}

// Past its memory bound ingest refuses a PutTraceSegments as a whole with
// X-Ray's own ThrottledException (429), which the AWS SDKs retry; once the
// backlog is summarised the same request goes in.
func TestPutTraceSegmentsThrottled(t *testing.T) {
	c, in := throttleEnv(t)
	ctx := context.Background()
	if _, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docsFor(20, 1)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docsFor(20, 100)})
	var te *types.ThrottledException
	var re *awshttp.ResponseError
	if !errors.As(err, &te) || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusTooManyRequests {
		t.Fatalf("over the bound: %v, want ThrottledException (429)", err)
	}
	if !strings.Contains(te.ErrorMessage(), "retry") {
		t.Errorf("message %q", te.ErrorMessage())
	}
	in.Sync(ctx)
	out, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docsFor(20, 100)})
	if err != nil || len(out.UnprocessedTraceSegments) != 0 {
		t.Fatalf("after the backlog: %v, %+v", err, out)
	}
}

// A request of more documents than MaxTraceSegmentDocuments is one
// InvalidRequestException: 3.3M tiny documents in a 16.5 MB body made a
// 426 MB response.
func TestPutTraceSegmentsTooManyDocuments(t *testing.T) {
	c, _ := throttleEnv(t)
	docs := make([]string, api.MaxTraceSegmentDocuments+1)
	for i := range docs {
		docs[i] = "{}"
	}
	_, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	var ie *types.InvalidRequestException
	if !errors.As(err, &ie) || !strings.Contains(ie.ErrorMessage(), fmt.Sprint(api.MaxTraceSegmentDocuments)) {
		t.Fatalf("%d documents: %v, want InvalidRequestException naming the limit", len(docs), err)
	}
}
