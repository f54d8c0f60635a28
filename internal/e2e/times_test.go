package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
)

// Times no client means are refused over UDP and PutTraceSegments alike,
// with the reason counted and named, and reads over the same window keep
// answering. end_time 1.7e308 in one datagram made every GetTraceSummaries
// over its window and BatchGetTraces of its trace answer 500; start_time
// 1e300 filed its trace under epoch MinInt64; start_time 1.0 filed it in
// 1970, where retention deleted it after it was acknowledged.
func TestAbsurdTimesAreRefused(t *testing.T) {
	s := startServer(t)
	hdr := `{"format": "json", "version": 1}` + "\n"
	good := newTraceID(90)
	s.sendUDP(
		[]byte(hdr+segDoc(good, "a000000000000001", "t")),
		[]byte(hdr+segDoc(good, "a000000000000002", "t", `"end_time":1.7e308`)),
		[]byte(hdr+segDoc(newTraceID(91), "a000000000000003", "t", `"start_time":1e300`, `"end_time":1e300`)),
		[]byte(hdr+segDoc(newTraceID(92), "a000000000000004", "t", `"start_time":1.0`)),
	)
	s.waitDocs(good, 1)
	c := s.client("http")
	ctx := context.Background()
	out, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{
		segDoc(good, "a000000000000005", "t", `"end_time":1.7e308`),
	}})
	if err != nil || len(out.UnprocessedTraceSegments) != 1 || aws.ToString(out.UnprocessedTraceSegments[0].ErrorCode) != "InvalidEndTime" {
		t.Fatalf("PutTraceSegments: %+v, %v; want InvalidEndTime", out, err)
	}
	sums, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now().Add(time.Minute))})
	if err != nil || len(sums.TraceSummaries) != 1 || aws.ToString(sums.TraceSummaries[0].Id) != good {
		t.Fatalf("GetTraceSummaries: %+v, %v; want the good trace alone", sums, err)
	}
	traces, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{good}})
	if err != nil || len(traces.Traces) != 1 || len(traces.Traces[0].Segments) != 1 {
		t.Fatalf("BatchGetTraces: %+v, %v", traces, err)
	}
	want := map[string]float64{
		`roentgen_documents_rejected_total{code="InvalidEndTime",source="udp"}`:   1,
		`roentgen_documents_rejected_total{code="InvalidStartTime",source="udp"}`: 2,
		`roentgen_documents_rejected_total{code="InvalidEndTime",source="api"}`:   1,
	}
	var got map[string]float64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) { // UDP is asynchronous
		got = scrape(t, s)
		if got[`roentgen_documents_rejected_total{code="InvalidStartTime",source="udp"}`] == 2 || time.Now().After(deadline) {
			break
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
