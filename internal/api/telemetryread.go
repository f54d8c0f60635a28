package api

import (
	"context"
	"sort"

	"github.com/roentgen-tracing/roentgen/internal/telemetry"
)

// TelemetryRecords (POST /roentgen/TelemetryRecords) is a Roentgen
// operation: the daemon health records PutTelemetryRecords stored, for a
// window, grouped by reporting daemon with totals, so the console can show
// how each daemon is doing. X-Ray has no read operation for them.

// telemetryReadMax bounds the records one answer carries; totals still
// cover the whole window.
const telemetryReadMax = 10000

type telemetryReadInput struct {
	StartTime *Timestamp
	EndTime   *Timestamp
}

// telemetryTotals sums a daemon's counters over the window.
type telemetryTotals struct {
	SegmentsReceivedCount, SegmentsSentCount, SegmentsSpilloverCount, SegmentsRejectedCount int64
	TimeoutCount, ConnectionRefusedCount, HTTPCode4XXCount, HTTPCode5XXCount                int64
	UnknownHostCount, OtherCount                                                            int64
}

type telemetryDaemon struct {
	Hostname      string
	EC2InstanceId string
	ResourceARN   string
	FirstSeen     Timestamp
	LastSeen      Timestamp
	RecordCount   int
	Totals        telemetryTotals
	Records       []telemetryRecord
}

type telemetryReadOutput struct {
	Daemons   []*telemetryDaemon
	Truncated bool
}

func i64(p *int32) int64 {
	if p == nil {
		return 0
	}
	return int64(*p)
}

func (s *Server) readTelemetryRecords(ctx context.Context, in *telemetryReadInput) (any, error) {
	if in.StartTime == nil || in.EndTime == nil {
		return nil, invalid("StartTime and EndTime are required")
	}
	start, end := float64(*in.StartTime), float64(*in.EndTime)
	if end <= start {
		return nil, invalid("EndTime (%s) must be after StartTime (%s)", ftoa(end), ftoa(start))
	}
	out := telemetryReadOutput{Daemons: []*telemetryDaemon{}}
	byKey := map[[3]string]*telemetryDaemon{}
	kept := 0
	err := s.cfg.Telemetry.Range(ctx, start, end, func(e telemetry.Entry) bool {
		id := [3]string{e.Hostname, e.EC2InstanceId, e.ResourceARN}
		d := byKey[id]
		if d == nil {
			d = &telemetryDaemon{Hostname: e.Hostname, EC2InstanceId: e.EC2InstanceId, ResourceARN: e.ResourceARN, FirstSeen: Timestamp(e.Record.Timestamp), Records: []telemetryRecord{}}
			byKey[id] = d
			out.Daemons = append(out.Daemons, d)
		}
		r := e.Record
		d.LastSeen = Timestamp(r.Timestamp)
		d.RecordCount++
		t := &d.Totals
		t.SegmentsReceivedCount += i64(r.SegmentsReceivedCount)
		t.SegmentsSentCount += i64(r.SegmentsSentCount)
		t.SegmentsSpilloverCount += i64(r.SegmentsSpilloverCount)
		t.SegmentsRejectedCount += i64(r.SegmentsRejectedCount)
		if b := r.BackendConnectionErrors; b != nil {
			t.TimeoutCount += i64(b.TimeoutCount)
			t.ConnectionRefusedCount += i64(b.ConnectionRefusedCount)
			t.HTTPCode4XXCount += i64(b.HTTPCode4XXCount)
			t.HTTPCode5XXCount += i64(b.HTTPCode5XXCount)
			t.UnknownHostCount += i64(b.UnknownHostCount)
			t.OtherCount += i64(b.OtherCount)
		}
		if kept < telemetryReadMax {
			ts := Timestamp(r.Timestamp)
			d.Records = append(d.Records, telemetryRecord{Timestamp: &ts, SegmentsReceivedCount: r.SegmentsReceivedCount,
				SegmentsSentCount: r.SegmentsSentCount, SegmentsSpilloverCount: r.SegmentsSpilloverCount,
				SegmentsRejectedCount: r.SegmentsRejectedCount, BackendConnectionErrors: r.BackendConnectionErrors})
			kept++
		} else {
			out.Truncated = true
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	// The daemon heard from most recently first.
	sort.SliceStable(out.Daemons, func(i, j int) bool { return out.Daemons[i].LastSeen > out.Daemons[j].LastSeen })
	return out, nil
}
