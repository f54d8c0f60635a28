package pebble

import (
	"bytes"
	"cmp"
	"slices"

	"context"
	"fmt"
	"github.com/cockroachdb/pebble/v2"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// BenchmarkRecentTraces writes 40,000 generated ~4-segment traces as ingest
// does (PutDocs calls of ~50 documents, each followed by the Apply that
// summarises the call before it and so deletes its pending mark) through
// 2 MiB documents memtables, flushes, and then reads traces of the last
// 4,000 by id (Store.Trace), not compacting: the documents LSM's L0 as a
// busy store keeps it, many flushes' tables in many sublevels, which every
// read of a recent trace searches. Sub-benchmarks: "cut" ends the documents
// LSM's tables at 't' (tableCuts), as builds since session 26 do, "nocut"
// as builds before; "files=N" is its L0CompactionFileThreshold
// (docsL0Files). Reports L0's tables and sublevels, the sublevels its
// marks tables and its documents tables would make each on their own, the
// CPU per read, and the write phase's CPU and documents compactions' bytes
// per trace. docs/performance.md, session 27 (flush27).
func BenchmarkRecentTraces(b *testing.B) {
	const n, recent = 40_000, 4_000
	g := bench.NewGenerator(3)
	at := time.Now().Add(-time.Minute)
	tmpl, err := g.ParsedTrace(at)
	if err != nil {
		b.Fatal(err)
	}
	sum := trace.Summarize(trace.Assemble(tmpl), nil, float64(at.Unix()))
	var calls [][]store.DocPut
	var call []store.DocPut
	ids := make([]string, 0, n)
	docs := 0
	for i := range n {
		id, raw := g.Trace(at.Add(time.Duration(i)*time.Millisecond), 0)
		ep, ok := segment.TraceEpoch(id)
		if !ok {
			b.Fatalf("trace id %q", id)
		}
		p := store.DocPut{TraceID: id, Epoch: ep}
		for j, d := range raw {
			p.Docs = append(p.Docs, store.Doc{ID: fmt.Sprintf("%016x", i<<4|j), Raw: append([]byte(nil), d...)})
		}
		ids = append(ids, id)
		call = append(call, p)
		if docs += len(raw); docs >= 50 {
			calls, call, docs = append(calls, call), nil, 0
		}
	}
	calls = append(calls, call)
	summarise := func(c []store.DocPut) []store.TraceUpdate {
		us := make([]store.TraceUpdate, len(c))
		for i, p := range c {
			s := *sum
			s.TraceID, s.Epoch = p.TraceID, p.Epoch
			us[i] = store.TraceUpdate{TraceID: p.TraceID, Epoch: p.Epoch, Summary: &s}
		}
		return us
	}
	variants := []struct {
		name  string
		cut   bool
		files int
	}{{"cut/files=25", true, 25}, {"cut/files=100", true, 100}, {"nocut/files=100", false, 100}}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			if !v.cut {
				saved := tableCuts[documentsLSM]
				tableCuts[documentsLSM] = nil
				defer func() { tableCuts[documentsLSM] = saved }()
			}
			defer func(f int) { docsL0Files = f }(docsL0Files)
			docsL0Files = v.files
			s, err := Open(b.TempDir(), Options{MemTableBytes: 2 << 20, CombineStats: graph.CombineStats,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			c0 := bench.CPUTime()
			for i, c := range calls {
				if err := s.PutDocs(ctx, c); err != nil {
					b.Fatal(err)
				}
				if i > 0 {
					if err := s.Apply(ctx, summarise(calls[i-1])); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := s.Flush(); err != nil {
				b.Fatal(err)
			}
			for s.docs.Metrics().Compact.NumInProgress > 0 {
				time.Sleep(10 * time.Millisecond)
			}
			write := bench.CPUTime() - c0
			marks, docs := l0Chains(b, s)
			m := s.docs.Metrics()
			var compacted uint64
			for l := range m.Levels {
				compacted += m.Levels[l].TableBytesCompacted
			}
			r := rand.New(rand.NewPCG(1, 1))
			cpu := bench.StartCPU()
			for b.Loop() {
				id := ids[n-recent+r.IntN(recent)]
				t, err := s.Trace(ctx, id)
				if err != nil || len(t.Docs) == 0 {
					b.Fatalf("%s: %v, %d docs", id, err, len(t.Docs))
				}
			}
			cpu.Report(b)
			b.ReportMetric(float64(m.Levels[0].TablesCount), "L0-tables")
			b.ReportMetric(float64(m.Levels[0].Sublevels), "L0-sublevels")
			b.ReportMetric(float64(m.ReadAmp()), "read-amp")
			b.ReportMetric(float64(write.Nanoseconds())/n, "write-cpu-ns/trace")
			b.ReportMetric(float64(marks), "marks-chain")
			b.ReportMetric(float64(docs), "docs-chain")
			b.ReportMetric(float64(compacted)/n, "docs-compacted-B/trace")
		})
	}
}

// l0Chains are the sublevels the documents LSM's L0 marks tables (< t) and
// documents tables would make each on their own: a table goes one above
// the highest older table it overlaps, as Pebble's L0 sublevels do.
func l0Chains(b *testing.B, s *Store) (marks, docs int) {
	tables, err := s.docs.SSTables()
	if err != nil {
		b.Fatal(err)
	}
	l0 := slices.Clone(tables[0])
	slices.SortFunc(l0, func(x, y pebble.SSTableInfo) int { return cmp.Compare(x.LargestSeqNum, y.LargestSeqNum) })
	level := make([]int, len(l0))
	for i, t := range l0 {
		level[i] = 1
		for j := range i {
			o := l0[j]
			if bytes.Compare(t.Smallest.UserKey, o.Largest.UserKey) <= 0 && bytes.Compare(o.Smallest.UserKey, t.Largest.UserKey) <= 0 {
				level[i] = max(level[i], level[j]+1)
			}
		}
		if t.Largest.UserKey[0] < 't' {
			marks = max(marks, level[i])
		} else {
			docs = max(docs, level[i])
		}
	}
	return marks, docs
}
