package pebble

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

const stairDocs = 4 // documents per trace in flushMarksStaircase

type stairTrace struct {
	id    string
	epoch int64
}

// flushMarksStaircase leaves in s's documents LSM what ingest leaves in
// its L0: each of 45 flushes brings new documents and pending marks, and
// the tombstones of the marks put three flushes before, so that each
// flush's marks table overlaps the one before it (lsm.go). It returns the
// traces put, once background compactions are done.
func flushMarksStaircase(tb testing.TB, s *Store) []stairTrace {
	tb.Helper()
	ctx := context.Background()
	const flushes, perFlush = 45, 100
	var all []stairTrace
	for f := range flushes {
		epoch := storetest.Base + int64(f)*10
		var puts []store.DocPut
		for i := range perFlush {
			id := storetest.TraceID(epoch, f*perFlush+i)
			p := store.DocPut{TraceID: id, Epoch: epoch}
			for d := range stairDocs {
				p.Docs = append(p.Docs, storetest.Doc(fmt.Sprintf("%08x%08x", f*perFlush+i, d), fmt.Sprintf(`{"n":%d,"pad":"%0300d"}`, d, i)))
			}
			puts = append(puts, p)
			all = append(all, stairTrace{id, epoch})
		}
		if err := s.PutDocs(ctx, puts); err != nil {
			tb.Fatal(err)
		}
		// Summarise the traces put three flushes before but one in ten,
		// which stays pending as a trace waiting for late segments does.
		if f >= 3 {
			var ups []store.TraceUpdate
			for _, p := range all[(f-3)*perFlush : (f-2)*perFlush] {
				if len(ups)%10 != 9 {
					ups = append(ups, store.TraceUpdate{TraceID: p.id, Epoch: p.epoch, Summary: storetest.Summary(p.id, p.epoch)})
				}
			}
			if err := s.Apply(ctx, ups); err != nil {
				tb.Fatal(err)
			}
		}
		if err := s.Flush(); err != nil {
			tb.Fatal(err)
		}
	}
	for idle := 0; idle < 5; {
		time.Sleep(20 * time.Millisecond)
		if s.docs.Metrics().Compact.NumInProgress == 0 {
			idle++
		} else {
			idle = 0
		}
	}
	return all
}

// The marks' tables, never deep at any key, still leave L0 few sublevels:
// every read of the documents LSM opens a level per sublevel.
func TestDocumentsL0StaysShallow(t *testing.T) {
	s := openAt(t, t.TempDir())
	defer s.Close()
	flushMarksStaircase(t, s)
	l0 := s.docs.Metrics().Levels[0]
	if l0.Sublevels > 8 {
		t.Errorf("documents L0: %d tables in %d sublevels after 45 flushes, want at most 8 sublevels", l0.TablesCount, l0.Sublevels)
	}
}

// BenchmarkTraceL0Marks reads one trace's documents by id from a store
// whose documents LSM's L0 is as flushMarksStaircase leaves it, and
// reports that L0's tables and sublevels and the CPU per read.
func BenchmarkTraceL0Marks(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	all := flushMarksStaircase(b, s)
	m := s.docs.Metrics()
	r := rand.New(rand.NewPCG(1, 1))
	cpu := bench.StartCPU()
	for b.Loop() {
		p := all[r.IntN(len(all))]
		t, err := s.Trace(context.Background(), p.id)
		if err != nil || len(t.Docs) != stairDocs {
			b.Fatalf("%s: %v", p.id, err)
		}
	}
	cpu.Report(b)
	b.ReportMetric(float64(m.Levels[0].TablesCount), "L0-tables")
	b.ReportMetric(float64(m.Levels[0].Sublevels), "L0-sublevels")
}
