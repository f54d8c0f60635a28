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

// Encryption: data sits on the operator's own disk; there is no KMS.

type encryptionConfig struct {
	KeyId  string `json:"KeyId,omitempty"`
	Status string
	Type   string
}

func (s *Server) getEncryptionConfig(ctx context.Context, _ *struct{}) (any, error) {
	return struct{ EncryptionConfig encryptionConfig }{encryptionConfig{Status: "ACTIVE", Type: "NONE"}}, nil
}

func (s *Server) putEncryptionConfig(ctx context.Context, in *struct {
	KeyId *string
	Type  string
}) (any, error) {
	switch in.Type {
	case "NONE":
		if in.KeyId != nil {
			return nil, invalid("KeyId must be omitted when Type is NONE")
		}
		return s.getEncryptionConfig(ctx, nil)
	case "KMS":
		return nil, invalid("Type KMS is not supported: Roentgen stores data on local disk and has no KMS; use disk encryption instead")
	case "":
		return nil, invalid("Type is required (NONE or KMS)")
	}
	return nil, invalid("Type must be NONE or KMS, not %q", in.Type)
}

// Trace segment destination: always X-Ray, as Roentgen is the X-Ray service.

func (s *Server) getTraceSegmentDestination(ctx context.Context, _ *struct{}) (any, error) {
	return struct{ Destination, Status string }{"XRay", "ACTIVE"}, nil
}

func (s *Server) updateTraceSegmentDestination(ctx context.Context, in *struct{ Destination *string }) (any, error) {
	if in.Destination != nil && *in.Destination != "XRay" {
		if *in.Destination == "CloudWatchLogs" {
			return nil, invalid("Destination CloudWatchLogs (Transaction Search) is not supported by Roentgen; segments stay in its own store")
		}
		return nil, invalid("Destination must be XRay or CloudWatchLogs, not %q", *in.Destination)
	}
	return s.getTraceSegmentDestination(ctx, nil)
}
