package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// TestReadTelemetryRecords: what daemons sent with the official client's
// PutTelemetryRecords reads back per daemon, with totals, within the window.
func TestReadTelemetryRecords(t *testing.T) {
	e := newSearchEnv(t, t.TempDir())
	rec := func(at time.Time, recv, rej int32) types.TelemetryRecord {
		return types.TelemetryRecord{Timestamp: aws.Time(at), SegmentsReceivedCount: aws.Int32(recv), SegmentsSentCount: aws.Int32(recv - rej),
			SegmentsRejectedCount: aws.Int32(rej), BackendConnectionErrors: &types.BackendConnectionErrors{TimeoutCount: aws.Int32(1)}}
	}
	put := func(host string, recs ...types.TelemetryRecord) {
		if _, err := e.c.PutTelemetryRecords(context.Background(), &xray.PutTelemetryRecordsInput{Hostname: aws.String(host), TelemetryRecords: recs}); err != nil {
			t.Fatal(err)
		}
	}
	put("daemon-a", rec(e.now.Add(-3*time.Minute), 10, 1), rec(e.now.Add(-2*time.Minute), 20, 0))
	put("daemon-b", rec(e.now.Add(-time.Minute), 5, 5))
	put("daemon-old", rec(e.now.Add(-3*time.Hour), 99, 0))

	status, body := postTo(t, e.url+"/roentgen/TelemetryRecords", map[string]any{"StartTime": e.now.Add(-time.Hour).Unix(), "EndTime": e.now.Unix() + 1})
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var out struct {
		Daemons []struct {
			Hostname    string
			RecordCount int
			Totals      map[string]int64
		}
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Daemons) != 2 || out.Daemons[0].Hostname != "daemon-b" || out.Daemons[1].Hostname != "daemon-a" {
		t.Fatalf("daemons: %s", body)
	}
	a := out.Daemons[1]
	if a.RecordCount != 2 || a.Totals["SegmentsReceivedCount"] != 30 || a.Totals["SegmentsRejectedCount"] != 1 || a.Totals["TimeoutCount"] != 2 {
		t.Errorf("daemon-a: %+v", a)
	}
	if status, body := postTo(t, e.url+"/roentgen/TelemetryRecords", map[string]any{"StartTime": 10, "EndTime": 5}); status != 400 {
		t.Errorf("a reversed window: %d %s", status, body)
	}
}
