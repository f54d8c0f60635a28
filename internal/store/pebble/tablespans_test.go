package pebble

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Each Apply writes statistics records (G, H, I) beside its summaries (s):
// the main LSM's files must end at each key table, so that the summaries'
// files, written in time order, do not overlap one another (and are moved
// down instead of rewritten), and be zstd-compressed from the flush on,
// since a file moved down keeps its codec.
func TestMainLSMFilesHoldOneTable(t *testing.T) {
	s, err := Open(t.TempDir(), Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const base = int64(1_800_000_000)
	delta := (&graph.Stats{OK: 1, Response: graph.Histogram{{Ms: 5, Count: 1}}}).Encode()
	const flushes = 6
	for f := 0; f < flushes; f++ {
		var us []store.TraceUpdate
		for i := 0; i < 50; i++ {
			ep := base + int64(f*10+i/5)
			id := fmt.Sprintf("1-%08x-%024x", ep, f*1000+i)
			sum := &trace.Summary{TraceID: id, Epoch: ep, StartTime: float64(ep), EndTime: float64(ep) + 1, Duration: 1,
				Nodes: []trace.Node{{NodeID: trace.NodeID{Name: "svc", Type: "AWS::EC2::Instance"}, Root: true}}}
			var stats []store.StatRecord
			for _, r := range []int64{60, 300, 3600} {
				k := store.StatKey{Resolution: r, Bucket: ep - ep%r, Group: "Default", Entity: "n1"}
				stats = append(stats, store.StatRecord{StatKey: k, Value: delta})
			}
			us = append(us, store.TraceUpdate{TraceID: id, Epoch: ep, Summary: sum, Stats: stats})
		}
		if err := s.Apply(ctx, us); err != nil {
			t.Fatal(err)
		}
		if err := s.main.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	levels, err := s.main.SSTables(pebble.WithProperties())
	if err != nil {
		t.Fatal(err)
	}
	var summaries []pebble.SSTableInfo
	for level, files := range levels {
		for _, f := range files {
			lo, hi := f.Smallest.UserKey, f.Largest.UserKey
			if lo[0] != hi[0] {
				t.Errorf("L%d file %s holds keys of tables %q to %q", level, f.FileNum, lo[0], hi[0])
			}
			if lo[0] == 's' {
				summaries = append(summaries, f)
				if got, want := f.Properties.CompressionName, sstable.BalancedCompression.Name; got != want {
					t.Errorf("L%d summaries file %s compressed %q, want %q", level, f.FileNum, got, want)
				}
			}
		}
	}
	if len(summaries) < flushes {
		t.Fatalf("%d summaries files, want one per flush (%d)", len(summaries), flushes)
	}
	for i, a := range summaries {
		for _, b := range summaries[i+1:] {
			if bytes.Compare(a.Largest.UserKey, b.Smallest.UserKey) >= 0 && bytes.Compare(b.Largest.UserKey, a.Smallest.UserKey) >= 0 {
				t.Errorf("summaries files %s and %s overlap", a.FileNum, b.FileNum)
			}
		}
	}
}
