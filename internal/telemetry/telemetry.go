// Package telemetry keeps the health counters X-Ray daemons report with
// PutTelemetryRecords (spec §2.3), so that an operator can see how each
// daemon is doing, and drops them with the same retention as traces.
package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Meta is the metadata kind of the records. Keys begin with the record's
// zero-padded timestamp, so that the oldest come first.
const Meta = "telemetry"

// Limits of a reporter's identity (the API model's).
const (
	maxInstanceID  = 20
	maxHostname    = 255
	maxResourceARN = 500
)

// Reporter is who sent a batch of records.
type Reporter struct {
	EC2InstanceId string
	Hostname      string
	ResourceARN   string
}

// BackendConnectionErrors counts a daemon's failed uploads by cause.
type BackendConnectionErrors struct {
	TimeoutCount           *int32 `json:",omitempty"`
	ConnectionRefusedCount *int32 `json:",omitempty"`
	HTTPCode4XXCount       *int32 `json:",omitempty"`
	HTTPCode5XXCount       *int32 `json:",omitempty"`
	UnknownHostCount       *int32 `json:",omitempty"`
	OtherCount             *int32 `json:",omitempty"`
}

// Record is one report: a daemon's counters over an interval ending at
// Timestamp (epoch seconds).
type Record struct {
	Timestamp               float64
	SegmentsReceivedCount   *int32                   `json:",omitempty"`
	SegmentsSentCount       *int32                   `json:",omitempty"`
	SegmentsSpilloverCount  *int32                   `json:",omitempty"`
	SegmentsRejectedCount   *int32                   `json:",omitempty"`
	BackendConnectionErrors *BackendConnectionErrors `json:",omitempty"`
}

// Entry is one stored record with its reporter's identity.
type Entry struct {
	Reporter
	Record Record
}

// Error is a refusal of a batch, with a message a person can act on.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

// Service stores and prunes telemetry records.
type Service struct {
	store   store.Store
	metrics *metrics.Metrics
}

// New returns the service; m may be nil.
func New(st store.Store, m *metrics.Metrics) *Service { return &Service{store: st, metrics: m} }

// Put stores a reporter's records.
func (s *Service) Put(ctx context.Context, from Reporter, records []Record) error {
	if len(from.EC2InstanceId) > maxInstanceID || len(from.Hostname) > maxHostname || len(from.ResourceARN) > maxResourceARN {
		return &Error{fmt.Sprintf("EC2InstanceId (≤%d), Hostname (≤%d) or ResourceARN (≤%d) is too long", maxInstanceID, maxHostname, maxResourceARN)}
	}
	for i, r := range records {
		b, _ := json.Marshal(Entry{Reporter: from, Record: r})
		key := fmt.Sprintf("%020.6f/%s/%s/%d", r.Timestamp, from.Hostname, from.EC2InstanceId, i)
		if err := s.store.PutMeta(ctx, Meta, key, b); err != nil {
			return err
		}
		if s.metrics != nil {
			s.metrics.TelemetryRecords.Inc()
		}
	}
	return nil
}

// List calls fn for every stored entry, oldest first, until it returns
// false.
func (s *Service) List(ctx context.Context, fn func(Entry) bool) error {
	return s.store.ListMeta(ctx, Meta, func(_ string, v []byte) bool {
		var e Entry
		if json.Unmarshal(v, &e) != nil {
			return true
		}
		return fn(e)
	})
}

// Range calls fn for the entries whose timestamps lie in [from, to) (epoch
// seconds), oldest first, until it returns false. A damaged record is
// passed over.
func (s *Service) Range(ctx context.Context, from, to float64, fn func(Entry) bool) error {
	// Keys begin with the zero-padded timestamp (Put).
	lo, hi := fmt.Sprintf("%020.6f", from), fmt.Sprintf("%020.6f", to)
	return s.store.ListMeta(ctx, Meta, func(k string, v []byte) bool {
		if k < lo {
			return true
		}
		if k >= hi {
			return false
		}
		var e Entry
		if json.Unmarshal(v, &e) != nil {
			return true
		}
		return fn(e)
	})
}

// Prune deletes the records older than before, so that daemon health
// follows the same retention as traces, and returns how many it deleted.
func (s *Service) Prune(ctx context.Context, before time.Time) (int, error) {
	cut := fmt.Sprintf("%020.6f", float64(before.UnixNano())/1e9)
	var old []string
	err := s.store.ListMeta(ctx, Meta, func(k string, _ []byte) bool {
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
		if err := s.store.DeleteMeta(ctx, Meta, k); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}
