package api_test

import (
	"bytes"
	"context"
	"encoding/json"
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

// unreadBody is a request body that records whether it was read.
type unreadBody struct {
	r    io.Reader
	read bool
}

func (b *unreadBody) Read(p []byte) (int, error) { b.read = true; return b.r.Read(p) }

// Once ingest is at its bound a PutTraceSegments is refused before its
// body is read: under a 1.5x overload the server spent its CPU and memory
// reading and parsing bodies it then refused.
func TestPutTraceSegmentsThrottledUnread(t *testing.T) {
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(ingest.Config{Store: st, FlushDelay: time.Hour, PendingBytes: 1 << 20, MaxPendingBytes: 5000})
	srv, _, err := app.Wire(context.Background(), app.Parts{Store: st, Ingest: in, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { in.Close(); st.Close() }()
	put := func(docs []string) (*httptest.ResponseRecorder, *unreadBody) {
		b, _ := json.Marshal(map[string][]string{"TraceSegmentDocuments": docs})
		body := &unreadBody{r: bytes.NewReader(b)}
		req := httptest.NewRequest(http.MethodPost, "/TraceSegments", body)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w, body
	}
	if in.Saturated() {
		t.Fatal("saturated before any document")
	}
	if w, _ := put(docsFor(40, 1)); w.Code != http.StatusOK {
		t.Fatalf("first request: %d %s", w.Code, w.Body)
	}
	if !in.Saturated() {
		t.Fatal("not saturated with 40 documents (~6 kB) pending over a 5000-byte bound")
	}
	w, body := put(docsFor(20, 100))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("X-Amzn-ErrorType") != "ThrottledException" {
		t.Fatalf("over the bound: %d %s, want ThrottledException (429)", w.Code, w.Body)
	}
	if body.read {
		t.Error("the refused request's body was read")
	}
	in.Sync(context.Background())
	if w, body := put(docsFor(20, 100)); w.Code != http.StatusOK || !body.read {
		t.Fatalf("after the backlog: %d %s (body read %v)", w.Code, w.Body, body.read)
	}
}
