package bench

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// The generated documents must be what the server accepts, ~1 kB each, and
// form connected multi-service traces.
func TestGeneratorMakesValidConnectedTraces(t *testing.T) {
	g := NewGenerator(1)
	now := time.Now()
	total, docs, faults := 0, 0, 0
	for range 500 {
		id, raw := g.Trace(now, 0)
		tr := &trace.Trace{ID: id}
		for _, d := range raw {
			if !json.Valid(d) {
				t.Fatalf("invalid JSON: %s", d)
			}
			segs, err := segment.Parse(d, segment.Options{Now: now})
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, d)
			}
			tr.Put(segs...)
			total += len(d)
			docs++
		}
		sum := trace.Summarize(trace.Assemble(tr), nil, float64(now.Unix()))
		// Edges between instrumented services: one per downstream segment
		// (calls to DynamoDB or SQL add edges to inferred nodes besides).
		calls := 0
		for _, e := range sum.Edges {
			if e.From >= 0 && e.To >= 0 && !sum.Nodes[e.To].Inferred && e.Type == "" {
				calls++
			}
		}
		if calls != len(raw)-1 {
			t.Fatalf("trace of %d segments has %d edges between its services, want %d", len(raw), calls, len(raw)-1)
		}
		if sum.EntryPoint < 0 || len(sum.Annotations) == 0 {
			t.Fatalf("summary lacks entry point or annotations: %+v", sum)
		}
		if sum.HasFault {
			faults++
		}
	}
	avg := total / docs
	t.Logf("%d documents, %d bytes on average", docs, avg)
	if avg < 800 || avg > 1400 {
		t.Errorf("average document is %d bytes, want ~1 kB", avg)
	}
	if faults == 0 || faults > 50 {
		t.Errorf("%d of 500 traces have faults, want a few", faults)
	}
	if n := len(mustTrace(g, now, 20)); n != 20 {
		t.Errorf("Trace(n=20) made %d documents", n)
	}
}

func mustTrace(g *Generator, at time.Time, n int) [][]byte { _, d := g.Trace(at, n); return d }

// TraceSize 1 makes batches of single-segment traces: every document its
// own trace, as a service whose requests call nothing traced sends them.
func TestBatchesOfSingleSegmentTraces(t *testing.T) {
	g := NewGenerator(2)
	g.TraceSize = 1
	ids := map[string]bool{}
	n := 0
	for _, b := range g.Batches(time.Now(), 500, 50) {
		for _, d := range b {
			var doc struct {
				TraceID string `json:"trace_id"`
			}
			if err := json.Unmarshal(d, &doc); err != nil {
				t.Fatal(err)
			}
			ids[doc.TraceID] = true
			n++
		}
	}
	if n != 500 || len(ids) != 500 {
		t.Fatalf("%d documents in %d traces, want 500 in 500", n, len(ids))
	}
}

// A stream hands out exactly BatchesAt's batches for the same seed, shape
// and sizes, including a last short batch and runs shorter than one group.
func TestStreamMakesBatchesAtsBatches(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	for _, size := range []int{0, 1} {
		for _, c := range []struct{ n, batch int }{{1, 50}, {63, 50}, {500, 50}, {1001, 7}, {3000, 64}} {
			want := NewGenerator(3)
			want.TraceSize = size
			got := NewGenerator(3)
			got.TraceSize = size
			s := got.Stream(at, 500, c.n, c.batch)
			for i, w := range want.BatchesAt(at, 500, c.n, c.batch) {
				b := s.Next()
				if len(b) != len(w) {
					t.Fatalf("size %d, n %d: batch %d has %d documents, want %d", size, c.n, i, len(b), len(w))
				}
				for j := range w {
					if string(b[j]) != string(w[j]) {
						t.Fatalf("size %d, n %d: batch %d document %d differs:\n%s\nwant\n%s", size, c.n, i, j, b[j], w[j])
					}
				}
			}
			if b := s.Next(); b != nil {
				t.Fatalf("size %d, n %d: a batch past the end: %d documents", size, c.n, len(b))
			}
		}
	}
}

// Documents share the generator's arena: each is still whole after many
// more are written (some larger than the room left for them), and
// appending to one cannot overwrite the next.
func TestDocumentsOutliveTheArena(t *testing.T) {
	g := NewGenerator(6)
	now := time.Now()
	var docs [][]byte
	var want []string
	for i := range 300 {
		for _, d := range mustTrace(g, now, i%40) { // up to 39 segments: roots of ~10 kB
			docs = append(docs, d)
			want = append(want, string(d))
			if cap(d) != len(d) {
				t.Fatalf("document of %d bytes has capacity %d", len(d), cap(d))
			}
		}
	}
	for i, d := range docs {
		if string(d) != want[i] || !json.Valid(d) {
			t.Fatalf("document %d changed after it was returned", i)
		}
	}
}

// Escaped documents are the very documents of the same seed, escaped as
// JSON strings: put between quotes, they decode to them, and RawLen gives
// their length.
func TestEscapedDocumentsDecodeToTheDocuments(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	for _, size := range []int{0, 1} {
		for _, seed := range []uint64{1, 5, 77, 1 << 40} {
			raw, esc := NewGenerator(seed), NewGenerator(seed)
			raw.TraceSize, esc.TraceSize = size, size
			esc.Escaped = true
			rs, es := raw.Stream(at, 700, 3000, 50), esc.Stream(at, 700, 3000, 50)
			escapes := 0
			for b := rs.Next(); b != nil; b = rs.Next() {
				e := es.Next()
				if len(e) != len(b) {
					t.Fatalf("size %d seed %d: batches of %d and %d documents", size, seed, len(e), len(b))
				}
				for i, d := range b {
					var s string
					if err := json.Unmarshal([]byte(`"`+string(e[i])+`"`), &s); err != nil {
						t.Fatalf("size %d seed %d: escaped document is no JSON string's contents: %v\n%s", size, seed, err, e[i])
					}
					if s != string(d) {
						t.Fatalf("size %d seed %d: escaped document decodes to\n%s\nwant\n%s", size, seed, s, d)
					}
					if n := RawLen(e[i]); n != len(d) {
						t.Fatalf("size %d seed %d: RawLen %d, want %d", size, seed, n, len(d))
					}
					if strings.Contains(string(d), `\`) {
						escapes++ // a fault message's escaped quotes, escaped again
					}
				}
			}
			if es.Next() != nil {
				t.Fatalf("size %d seed %d: the escaped stream has more batches", size, seed)
			}
			if escapes == 0 {
				t.Errorf("size %d seed %d: no document had a backslash to escape", size, seed)
			}
		}
	}
}

// A stream that reuses its memory hands out the same batches, each whole
// until the next call, and writes a long run into a few arenas where one
// that does not keeps allocating them.
func TestStreamReusesArenas(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	for _, size := range []int{0, 1} {
		want := NewGenerator(8)
		want.TraceSize = size
		batches := want.BatchesAt(at, 500, 20000, 50)
		got := NewGenerator(8)
		got.TraceSize, got.Escaped = size, true
		s := got.Stream(at, 500, 20000, 50)
		s.Reuse = true
		for i, w := range batches {
			b := s.Next()
			if len(b) != len(w) {
				t.Fatalf("size %d: batch %d has %d documents, want %d", size, i, len(b), len(w))
			}
			for j := range w {
				if string(b[j]) != string(AppendEscaped(nil, w[j])) {
					t.Fatalf("size %d: batch %d document %d differs:\n%s\nwant (escaped)\n%s", size, i, j, b[j], w[j])
				}
			}
		}
		if s.Next() != nil {
			t.Fatalf("size %d: a batch past the end", size)
		}
		// 20,000 documents of ~1.25 kB fill ~800 arenas of 32 kB.
		if got.arenasAllocated > 40 || want.arenasAllocated < 400 {
			t.Fatalf("size %d: %d arenas allocated reusing them, %d without", size, got.arenasAllocated, want.arenasAllocated)
		}
		t.Logf("size %d: %d arenas allocated reusing them, %d without", size, got.arenasAllocated, want.arenasAllocated)
	}
}
