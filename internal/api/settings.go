package api

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Metadata kinds used by this file.
const (
	metaSettings  = "settings"
	metaTelemetry = "telemetry"
)

// PutTelemetryRecords: daemon health counters (spec §2.3), kept so that the
// console can show how each daemon is doing.

type backendConnectionErrors struct {
	TimeoutCount           *int32 `json:",omitempty"`
	ConnectionRefusedCount *int32 `json:",omitempty"`
	HTTPCode4XXCount       *int32 `json:",omitempty"`
	HTTPCode5XXCount       *int32 `json:",omitempty"`
	UnknownHostCount       *int32 `json:",omitempty"`
	OtherCount             *int32 `json:",omitempty"`
}

type telemetryRecord struct {
	Timestamp               *Timestamp
	SegmentsReceivedCount   *int32                   `json:",omitempty"`
	SegmentsSentCount       *int32                   `json:",omitempty"`
	SegmentsSpilloverCount  *int32                   `json:",omitempty"`
	SegmentsRejectedCount   *int32                   `json:",omitempty"`
	BackendConnectionErrors *backendConnectionErrors `json:",omitempty"`
}

type putTelemetryRecordsInput struct {
	TelemetryRecords []telemetryRecord
	EC2InstanceId    string
	Hostname         string
	ResourceARN      string
}

// TelemetryEntry is one stored telemetry record with the reporter's identity.
type TelemetryEntry struct {
	EC2InstanceId string
	Hostname      string
	ResourceARN   string
	Record        telemetryRecord
}

func (s *Server) putTelemetryRecords(ctx context.Context, in *putTelemetryRecordsInput) (any, error) {
	if in.TelemetryRecords == nil {
		return nil, invalid("TelemetryRecords is required")
	}
	if len(in.EC2InstanceId) > 20 || len(in.Hostname) > 255 || len(in.ResourceARN) > 500 {
		return nil, invalid("EC2InstanceId (≤20), Hostname (≤255) or ResourceARN (≤500) is too long")
	}
	for i, r := range in.TelemetryRecords {
		if r.Timestamp == nil {
			return nil, invalid("TelemetryRecords[%d].Timestamp is required", i)
		}
	}
	for i, r := range in.TelemetryRecords {
		b, _ := json.Marshal(TelemetryEntry{EC2InstanceId: in.EC2InstanceId, Hostname: in.Hostname, ResourceARN: in.ResourceARN, Record: r})
		key := fmt.Sprintf("%020.6f/%s/%s/%d", float64(*r.Timestamp), in.Hostname, in.EC2InstanceId, i)
		if err := s.cfg.Store.PutMeta(ctx, metaTelemetry, key, b); err != nil {
			return nil, err
		}
		if m := s.cfg.Metrics; m != nil {
			m.TelemetryRecords.Inc()
		}
	}
	return struct{}{}, nil
}

// PruneTelemetry deletes telemetry records older than before, so that daemon
// health follows the same retention as traces. Keys begin with the record's
// zero-padded timestamp, so the old ones come first.
func (s *Server) PruneTelemetry(ctx context.Context, before time.Time) (int, error) {
	cut := fmt.Sprintf("%020.6f", float64(before.UnixNano())/1e9)
	var old []string
	err := s.cfg.Store.ListMeta(ctx, metaTelemetry, func(k string, _ []byte) bool {
		if k >= cut {
			return false
		}
		old = append(old, k)
		return true
	})
	if err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := s.cfg.Store.DeleteMeta(ctx, metaTelemetry, k); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}
