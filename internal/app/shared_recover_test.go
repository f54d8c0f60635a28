package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// TestAnotherServerFinishesPendingTraces leaves documents pending in a
// shared ClickHouse database, as a process killed between acknowledging
// them and summarising them does, and checks that another server's start-up
// recovery summarises them, in the background (the start does not wait for
// it on a shared store: fleet.go): one trace filed a minute ago, and one
// three hours ago, which only the recovery finds (the adopting loop reads
// staleWindow's two hours).
func TestAnotherServerFinishesPendingTraces(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Minute)
	old := now.Add(-3 * time.Hour)
	ids := map[string]bool{}
	for i, at := range []time.Time{now, old} {
		id := fmt.Sprintf("1-%08x-%024x", at.Unix(), 7+i)
		ids[id] = true
		st := float64(at.Unix())
		doc := fmt.Sprintf(`{"trace_id":%q,"id":"0000000000000001","name":"left-pending","start_time":%f,"end_time":%f}`, id, st, st+1)
		if err := s.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: at.Unix(), Docs: []store.Doc{{ID: "0000000000000001", Raw: []byte(doc)}}}}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	b := xraytest.Start(t, func(c *app.Config) { c.Role, c.Store, c.UDPAddr, c.TCPAddr = app.RoleServer, db, "", "" })
	from, to := old.Add(-time.Minute), now.Add(time.Minute)
	for deadline := time.Now().Add(time.Minute); ; {
		out, err := b.Client(t).GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &from, EndTime: &to})
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, ts := range out.TraceSummaries {
			if ids[*ts.Id] && *ts.Duration == 1 {
				found++
			}
		}
		if found == len(ids) && len(out.TraceSummaries) == len(ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("summaries = %+v, want traces %v of 1 s", out.TraceSummaries, ids)
		}
		time.Sleep(50 * time.Millisecond) // the background recovery's pass
	}
	var pending []string
	if err := b.Store().Pending(ctx, func(id string) bool { pending = append(pending, id); return true }); err != nil || len(pending) != 0 {
		t.Errorf("still pending: %v %v", pending, err)
	}
}

// TestReadThroughAnotherServerSeesAcknowledgedSegments writes segments
// through one server and at once reads them through another on the same
// database: BatchGetTraces summarises the traces the
// first has not summarised yet, rather than answering them unprocessed.
func TestReadThroughAnotherServerSeesAcknowledgedSegments(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	onCH := func(c *app.Config) { c.Role, c.Store, c.UDPAddr, c.TCPAddr = app.RoleServer, db, "", "" }
	a, b := xraytest.Start(t, onCH), xraytest.Start(t, onCH)
	ctx := context.Background()
	now := time.Now().Add(-time.Minute)
	var ids, docs []string
	for i := range 5 {
		id := fmt.Sprintf("1-%08x-%024x", now.Unix(), 100+i)
		st := float64(now.Unix()) + float64(i)
		ids = append(ids, id)
		docs = append(docs, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"written-on-a","start_time":%f,"end_time":%f}`, id, i+1, st, st+1))
	}
	out, err := a.Client(t).PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	if err != nil || len(out.UnprocessedTraceSegments) != 0 {
		t.Fatalf("PutTraceSegments: %v %+v", err, out)
	}
	got, err := b.Client(t).BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Traces) != len(ids) || len(got.UnprocessedTraceIds) != 0 {
		t.Errorf("BatchGetTraces through the other server: %d traces, unprocessed %v; want all %d", len(got.Traces), got.UnprocessedTraceIds, len(ids))
	}
}
