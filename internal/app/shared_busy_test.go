package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// TestPutTraceSegmentsOnAnOverloadedClickHouseIsThrottled: a ClickHouse
// that refuses INSERTs with "Too many parts" (Code: 252, its answer while
// merges lag behind inserts; provoked here by a docs table whose
// parts_to_throw_insert is 1 and a part already in it) makes
// PutTraceSegments answer ThrottledException (429), which the SDKs'
// retryer retries, not UnprocessedTraceSegments, which the daemon drops.
// Once the server takes INSERTs again, the same request is stored, each
// document once.
func TestPutTraceSegmentsOnAnOverloadedClickHouseIsThrottled(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	b := xraytest.Start(t, xraytest.OTLP(), func(c *app.Config) { c.Role, c.Store, c.UDPAddr, c.TCPAddr = app.RoleServer, db, "", "" })
	ctx := context.Background()

	clickhousetest.Query(t, db, "DROP TABLE docs")
	clickhousetest.Query(t, db, `CREATE TABLE docs (p UInt32, trace String, doc String, ver UInt64, raw String, epoch Int64)
		ENGINE = MergeTree PARTITION BY p ORDER BY (trace, doc, ver)
		SETTINGS index_granularity = 256, parts_to_delay_insert = 1, parts_to_throw_insert = 1`)
	clickhousetest.Query(t, db, "INSERT INTO docs (p, trace, doc, ver, raw) VALUES (0, 'blocker', 'blocker', 1, '')")

	now := time.Now().Add(-time.Minute)
	var ids, docs []string
	for i := range 4 {
		id := fmt.Sprintf("1-%08x-%024x", now.Unix(), 300+i)
		st := float64(now.Unix()) + float64(i)
		ids = append(ids, id)
		docs = append(docs, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"busy","start_time":%f,"end_time":%f}`, id, i+1, st, st+1))
	}
	in := &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs}
	noRetry := func(o *xray.Options) { o.RetryMaxAttempts = 1 }
	c := b.Client(t)
	out, err := c.PutTraceSegments(ctx, in, noRetry)
	var throttled *types.ThrottledException
	var resp *smithyhttp.ResponseError
	if !errors.As(err, &throttled) || !errors.As(err, &resp) || resp.HTTPStatusCode() != 429 {
		t.Fatalf("PutTraceSegments on an overloaded store: %+v, %v; want ThrottledException (429)", out, err)
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) != aws.TrueTernary {
		t.Errorf("the SDK's standard retryer would not retry %v", err)
	}
	// OTLP/HTTP: 429, which exporters retry, not a partial success.
	span := fmt.Sprintf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"busy"}}]},
		"scopeSpans":[{"spans":[{"traceId":"%08x000000000000000000000399","spanId":"0000000000000399","name":"busy","kind":2,
		"startTimeUnixNano":"%d","endTimeUnixNano":"%d"}]}]}]}`, now.Unix(), now.UnixNano(), now.UnixNano()+1e9)
	if code, body := do(t, "POST", "http://"+b.Addr("otlp-http").String()+"/v1/traces", span, "Content-Type", "application/json"); code != 429 {
		t.Errorf("OTLP/HTTP on an overloaded store: %d %s; want 429", code, body)
	}
	if n := clickhousetest.Query(t, db, "SELECT count() FROM docs WHERE p != 0"); n != "0" {
		t.Fatalf("%s documents stored by a refused request", n)
	}

	// Merges caught up: the retried request is stored.
	clickhousetest.Query(t, db, "ALTER TABLE docs DROP PARTITION 0")
	out, err = c.PutTraceSegments(ctx, in, noRetry)
	if err != nil || len(out.UnprocessedTraceSegments) != 0 {
		t.Fatalf("PutTraceSegments once the store takes INSERTs: %+v, %v", out, err)
	}
	got, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Traces) != len(ids) || len(got.UnprocessedTraceIds) != 0 {
		t.Fatalf("BatchGetTraces: %d traces, unprocessed %v; want %d", len(got.Traces), got.UnprocessedTraceIds, len(ids))
	}
	for _, tr := range got.Traces {
		if len(tr.Segments) != 1 {
			t.Errorf("trace %s: %d segments, want 1", *tr.Id, len(tr.Segments))
		}
	}
}
