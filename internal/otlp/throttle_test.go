package otlp_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/otlp"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// spans is a batch of n good spans, each its own trace.
func spans(seed byte, n int) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	for i := range n {
		s := ss.AppendEmpty()
		s.SetTraceID(pcommon.TraceID{0x6a, seed, byte(i), 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		s.SetSpanID(pcommon.SpanID{seed, byte(i), 1, 1, 1, 1, 1, 1})
		s.SetKind(ptrace.SpanKindServer)
		s.SetName("op")
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
	}
	return td
}

// Past ingest's memory bound an export is refused whole, in OTLP's
// retryable forms: gRPC ResourceExhausted with RetryInfo, HTTP 429 with
// Retry-After. Once the backlog is summarised exports go in again.
func TestExportThrottled(t *testing.T) {
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	in := ingest.New(ingest.Config{Store: st, Logger: logger, FlushDelay: time.Hour, PendingBytes: 1 << 20, MaxPendingBytes: 1000})
	defer in.Close()
	r, err := otlp.Start(otlp.Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Ingest: in, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	cc, err := grpc.NewClient(r.Addr("grpc").String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := ptraceotlp.NewGRPCClient(cc)
	ctx := context.Background()
	if _, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(spans(1, 10))); err != nil {
		t.Fatal(err)
	}
	_, err = client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(spans(2, 10)))
	st2 := status.Convert(err)
	if st2.Code() != codes.ResourceExhausted {
		t.Fatalf("gRPC over the bound: %v, want ResourceExhausted", err)
	}
	retry := false
	for _, d := range st2.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay().AsDuration() > 0 {
			retry = true
		}
	}
	if !retry {
		t.Errorf("ResourceExhausted without RetryInfo: OTLP exporters do not retry it")
	}
	body, _ := ptraceotlp.NewExportRequestFromTraces(spans(3, 10)).MarshalProto()
	resp, _ := post(t, "http://"+r.Addr("http").String()+otlp.TracesPath, "application/x-protobuf", "", body)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("HTTP over the bound: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	in.Sync(ctx)
	if _, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(spans(2, 10))); err != nil {
		t.Fatalf("after the backlog: %v", err)
	}
}
