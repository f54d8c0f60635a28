package daemon

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// telemetry keeps the official daemon's counters and sends them with
// PutTelemetryRecords: a record is cut every interval (60 s), but only once
// a segment has arrived; up to 30 wait for sending, the oldest dropped;
// they are sent 10 per request and put back when a request fails.
type telemetry struct {
	received, sent, spillover, rejected             atomic.Int64
	timeout, refused, http4xx, http5xx, host, other atomic.Int64
	seen                                            atomic.Bool

	mu      sync.Mutex
	pending []types.TelemetryRecord

	instanceID, hostname, resourceARN string
}

const (
	telemetryBuffer  = 30
	telemetryPerCall = 10
)

func (t *telemetry) cut(now time.Time) {
	if !t.seen.Load() {
		return
	}
	i32 := func(a *atomic.Int64) *int32 { v := int32(min(a.Swap(0), 1<<31-1)); return &v }
	rec := types.TelemetryRecord{
		Timestamp:              aws.Time(now),
		SegmentsReceivedCount:  i32(&t.received),
		SegmentsSentCount:      i32(&t.sent),
		SegmentsSpilloverCount: i32(&t.spillover),
		SegmentsRejectedCount:  i32(&t.rejected),
		BackendConnectionErrors: &types.BackendConnectionErrors{
			TimeoutCount: i32(&t.timeout), ConnectionRefusedCount: i32(&t.refused),
			HTTPCode4XXCount: i32(&t.http4xx), HTTPCode5XXCount: i32(&t.http5xx),
			UnknownHostCount: i32(&t.host), OtherCount: i32(&t.other),
		},
	}
	t.mu.Lock()
	t.pending = append(t.pending, rec)
	if len(t.pending) > telemetryBuffer {
		t.pending = t.pending[len(t.pending)-telemetryBuffer:]
	}
	t.mu.Unlock()
}

// send uploads the pending records; those a failed request did not carry
// wait for the next time.
func (t *telemetry) send(ctx context.Context, c *xray.Client) error {
	t.mu.Lock()
	recs := t.pending
	t.pending = nil
	t.mu.Unlock()
	for len(recs) > 0 {
		n := min(telemetryPerCall, len(recs))
		_, err := c.PutTelemetryRecords(ctx, &xray.PutTelemetryRecordsInput{
			TelemetryRecords: recs[:n], EC2InstanceId: aws.String(t.instanceID),
			Hostname: aws.String(t.hostname), ResourceARN: aws.String(t.resourceARN),
		})
		if err != nil {
			t.countError(err)
			t.mu.Lock()
			t.pending = append(recs, t.pending...)
			if len(t.pending) > telemetryBuffer {
				t.pending = t.pending[len(t.pending)-telemetryBuffer:]
			}
			t.mu.Unlock()
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// errorKind classifies an upstream failure as the official daemon's
// BackendConnectionErrors do.
func errorKind(err error) string {
	var re *smithyhttp.ResponseError
	switch {
	case errors.As(err, &re):
		switch c := re.HTTPStatusCode(); {
		case c >= 500:
			return "http_5xx"
		case c >= 400:
			return "http_4xx"
		}
		return "other"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		return "timeout"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "unknown_host"
	}
	return "other"
}

func isTimeout(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "request canceled") || strings.Contains(s, "deadline exceeded") || strings.Contains(s, "timeout")
}

func (t *telemetry) countError(err error) {
	switch errorKind(err) {
	case "http_5xx":
		t.http5xx.Add(1)
	case "http_4xx":
		t.http4xx.Add(1)
	case "connection_refused":
		t.refused.Add(1)
	case "timeout":
		t.timeout.Add(1)
	case "unknown_host":
		t.host.Add(1)
	default:
		t.other.Add(1)
	}
}
