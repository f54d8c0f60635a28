package api

import (
	"context"
	"errors"

	"github.com/roentgen-tracing/roentgen/internal/telemetry"
)

// PutTelemetryRecords: daemon health counters (spec §2.3), kept by
// internal/telemetry.

type backendConnectionErrors = telemetry.BackendConnectionErrors

type telemetryRecord struct {
	Timestamp               *Timestamp
	SegmentsReceivedCount   *int32
	SegmentsSentCount       *int32
	SegmentsSpilloverCount  *int32
	SegmentsRejectedCount   *int32
	BackendConnectionErrors *backendConnectionErrors
}

type putTelemetryRecordsInput struct {
	TelemetryRecords []telemetryRecord
	EC2InstanceId    string
	Hostname         string
	ResourceARN      string
}

func (s *Server) putTelemetryRecords(ctx context.Context, in *putTelemetryRecordsInput) (any, error) {
	if in.TelemetryRecords == nil {
		return nil, invalid("TelemetryRecords is required")
	}
	recs := make([]telemetry.Record, len(in.TelemetryRecords))
	for i, r := range in.TelemetryRecords {
		if r.Timestamp == nil {
			return nil, invalid("TelemetryRecords[%d].Timestamp is required", i)
		}
		recs[i] = telemetry.Record{Timestamp: float64(*r.Timestamp), SegmentsReceivedCount: r.SegmentsReceivedCount,
			SegmentsSentCount: r.SegmentsSentCount, SegmentsSpilloverCount: r.SegmentsSpilloverCount,
			SegmentsRejectedCount: r.SegmentsRejectedCount, BackendConnectionErrors: r.BackendConnectionErrors}
	}
	err := s.cfg.Telemetry.Put(ctx, telemetry.Reporter{EC2InstanceId: in.EC2InstanceId, Hostname: in.Hostname, ResourceARN: in.ResourceARN}, recs)
	var te *telemetry.Error
	if errors.As(err, &te) {
		return nil, invalid("%s", te.Message)
	}
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
