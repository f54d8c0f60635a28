package telemetry_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/telemetry"
)

func TestTelemetryStoredAndPruned(t *testing.T) {
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	s := telemetry.New(st, nil)
	five, four := int32(5), int32(4)
	if err := s.Put(ctx, telemetry.Reporter{Hostname: "h"}, []telemetry.Record{
		{Timestamp: 1000, SegmentsReceivedCount: &five}, {Timestamp: 2000.5, SegmentsSentCount: &four}}); err != nil {
		t.Fatal(err)
	}
	var got []telemetry.Entry
	list := func() {
		got = got[:0]
		if err := s.List(ctx, func(e telemetry.Entry) bool { got = append(got, e); return true }); err != nil {
			t.Fatal(err)
		}
	}
	list()
	if len(got) != 2 || got[0].Hostname != "h" || *got[0].Record.SegmentsReceivedCount != 5 || got[1].Record.Timestamp != 2000.5 {
		t.Fatalf("stored %+v", got)
	}
	n, err := s.Prune(ctx, time.Unix(1500, 0))
	list()
	if err != nil || n != 1 || len(got) != 1 || got[0].Record.Timestamp != 2000.5 {
		t.Errorf("Prune = %d, %v; left %+v", n, err, got)
	}
	err = s.Put(ctx, telemetry.Reporter{EC2InstanceId: strings.Repeat("i", 21)}, nil)
	var te *telemetry.Error
	if !errors.As(err, &te) || !strings.Contains(te.Message, "too long") {
		t.Errorf("a 21-character instance id: %v", err)
	}
}
