package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// A caller's segment arrives, is summarised (the graph has been read in
// between), and its callee's segment arrives seconds later: the graph then
// shows the real callee, not also the "remote" node inferred from the
// caller's subsegment before the callee was known.
func TestServiceGraphCalleeArrivingLate(t *testing.T) {
	s := startServer(t)
	c := s.client("http")
	ctx := context.Background()
	id := newTraceID(7100)
	now := float64(time.Now().UnixMicro()) / 1e6
	caller := fmt.Sprintf(`{"trace_id":%q,"id":"a000000000000001","name":"frontend","origin":"AWS::EC2::Instance",`+
		`"start_time":%.6f,"end_time":%.6f,"http":{"request":{"method":"GET","url":"http://frontend/"},"response":{"status":200}},`+
		`"subsegments":[{"id":"a000000000000002","name":"backend","namespace":"remote","start_time":%.6f,"end_time":%.6f,`+
		`"http":{"request":{"method":"GET","url":"http://backend/"},"response":{"status":200}}}]}`,
		id, now-1, now-0.2, now-0.9, now-0.3)
	callee := fmt.Sprintf(`{"trace_id":%q,"id":"b000000000000001","parent_id":"a000000000000002","name":"backend","origin":"AWS::EC2::Instance",`+
		`"start_time":%.6f,"end_time":%.6f,"http":{"request":{"method":"GET","url":"http://backend/"},"response":{"status":200}}}`,
		id, now-0.85, now-0.35)
	put := func(doc string) {
		t.Helper()
		out, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{doc}})
		if err != nil || len(out.UnprocessedTraceSegments) != 0 {
			t.Fatalf("put: %v %+v", err, out)
		}
	}
	graph := func() map[string]types.Service {
		t.Helper()
		out, err := c.GetServiceGraph(ctx, &xray.GetServiceGraphInput{
			StartTime: aws.Time(time.Now().Add(-5 * time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute))})
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]types.Service{}
		for _, svc := range out.Services {
			byName[aws.ToString(svc.Name)+"|"+aws.ToString(svc.Type)] = svc
		}
		return byName
	}

	put(caller)
	before := graph()
	if _, ok := before["backend|remote"]; !ok {
		t.Fatalf("before the callee arrived, no inferred remote backend: %v", keys(before))
	}
	time.Sleep(1500 * time.Millisecond) // past the summary delay: the late segment is a second summary
	put(callee)
	after := graph()
	if _, ok := after["backend|remote"]; ok {
		t.Errorf("the inferred remote node outlived the real callee: %v", keys(after))
	}
	fe, ok := after["frontend|AWS::EC2::Instance"]
	be, okBE := after["backend|AWS::EC2::Instance"]
	if !ok || !okBE {
		t.Fatalf("services = %v; want frontend and backend as EC2 instances", keys(after))
	}
	if len(fe.Edges) != 1 || aws.ToInt32(fe.Edges[0].ReferenceId) != aws.ToInt32(be.ReferenceId) ||
		fe.Edges[0].SummaryStatistics == nil || aws.ToInt64(fe.Edges[0].SummaryStatistics.TotalCount) != 1 {
		t.Errorf("frontend's edges = %+v; want one call to backend (%d)", fe.Edges, aws.ToInt32(be.ReferenceId))
	}
}

func keys(m map[string]types.Service) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
