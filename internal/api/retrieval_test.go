package api_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// A retrieval lists the traces it names that are stored and in its time
// range, five a page, as BatchGetTraces shows them, and draws their graph.
func TestTraceRetrieval(t *testing.T) {
	ctx := context.Background()
	c, _ := graphServer(t)
	base := float64(time.Now().Unix() - 120)
	var ids []string
	for i := range 7 {
		id := fmt.Sprintf("1-%08x-%024x", int64(base), 100+i)
		ids = append(ids, id)
		put(t, c, map[string]any{"trace_id": id, "id": fmt.Sprintf("%016x", 100+i), "name": "shop", "start_time": base + float64(i), "end_time": base + float64(i) + 0.5,
			"subsegments": []any{map[string]any{"id": fmt.Sprintf("%016x", 200+i), "name": "db.example.com", "namespace": "remote", "start_time": base + float64(i), "end_time": base + float64(i) + 0.2}}})
	}
	old := fmt.Sprintf("1-%08x-%024x", int64(base)-3600, 99)
	put(t, c, map[string]any{"trace_id": old, "id": "0000000000000063", "name": "shop", "start_time": base - 3600, "end_time": base - 3599})
	asked := append(append([]string{old}, ids...), "1-00000000-000000000000000000000000") // one too old, one unknown

	start, err := c.StartTraceRetrieval(ctx, &xray.StartTraceRetrievalInput{TraceIds: asked,
		StartTime: aws.Time(time.Unix(int64(base)-60, 0)), EndTime: aws.Time(time.Unix(int64(base)+60, 0))})
	if err != nil {
		t.Fatal(err)
	}
	tok := start.RetrievalToken
	var got []string
	in := &xray.ListRetrievedTracesInput{RetrievalToken: tok}
	for {
		out, err := c.ListRetrievedTraces(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if out.RetrievalStatus != types.RetrievalStatusComplete || out.TraceFormat != types.TraceFormatTypeXray || len(out.Traces) > 5 {
			t.Fatalf("page: status %s format %s, %d traces", out.RetrievalStatus, out.TraceFormat, len(out.Traces))
		}
		for _, tr := range out.Traces {
			got = append(got, aws.ToString(tr.Id))
			if aws.ToFloat64(tr.Duration) != 0.5 {
				t.Errorf("%s: duration %v", aws.ToString(tr.Id), aws.ToFloat64(tr.Duration))
			}
			bt, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{aws.ToString(tr.Id)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Spans) != len(bt.Traces[0].Segments) || len(tr.Spans) != 2 { // the segment and the inferred db node
				t.Fatalf("%s: %d spans, BatchGetTraces has %d segments", aws.ToString(tr.Id), len(tr.Spans), len(bt.Traces[0].Segments))
			}
			for i, sp := range tr.Spans {
				if aws.ToString(sp.Document) != aws.ToString(bt.Traces[0].Segments[i].Document) {
					t.Errorf("span %d differs from BatchGetTraces", i)
				}
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("retrieved %v, want %v", got, ids)
	}
	g, err := c.GetRetrievedTracesGraph(ctx, &xray.GetRetrievedTracesGraphInput{RetrievalToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int64{}
	for _, s := range g.Services {
		if s.Service.SummaryStatistics != nil {
			names[aws.ToString(s.Service.Name)] = aws.ToInt64(s.Service.SummaryStatistics.TotalCount)
		}
	}
	if g.RetrievalStatus != types.RetrievalStatusComplete || names["shop"] != 7 || names["db.example.com"] != 7 {
		t.Fatalf("graph: status %s services %v", g.RetrievalStatus, names)
	}

	var inv *types.InvalidRequestException
	if _, err := c.ListRetrievedTraces(ctx, &xray.ListRetrievedTracesInput{RetrievalToken: tok, TraceFormat: types.TraceFormatTypeOtel}); !errors.As(err, &inv) {
		t.Errorf("OTEL: %v, want InvalidRequestException", err)
	}
	if _, err := c.StartTraceRetrieval(ctx, &xray.StartTraceRetrievalInput{TraceIds: ids,
		StartTime: aws.Time(time.Unix(int64(base), 0)), EndTime: aws.Time(time.Unix(int64(base)-1, 0))}); !errors.As(err, &inv) {
		t.Errorf("end before start: %v, want InvalidRequestException", err)
	}

	// Cancelled: no traces any more; unknown tokens are not found.
	if _, err := c.CancelTraceRetrieval(ctx, &xray.CancelTraceRetrievalInput{RetrievalToken: tok}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListRetrievedTraces(ctx, &xray.ListRetrievedTracesInput{RetrievalToken: tok})
	if err != nil || out.RetrievalStatus != types.RetrievalStatusCancelled || len(out.Traces) != 0 {
		t.Fatalf("after cancel: %+v, %v", out, err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := c.ListRetrievedTraces(ctx, &xray.ListRetrievedTracesInput{RetrievalToken: aws.String("nope")}); !errors.As(err, &nf) {
		t.Errorf("unknown token: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.CancelTraceRetrieval(ctx, &xray.CancelTraceRetrievalInput{RetrievalToken: aws.String("nope")}); !errors.As(err, &nf) {
		t.Errorf("cancel unknown token: %v, want ResourceNotFoundException", err)
	}
}
