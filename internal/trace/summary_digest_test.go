package trace_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

var updateDigest = flag.Bool("update-summary-digest", false, "rewrite testdata/summary-digest")

// TestSummaryDigest pins every summary the summariser gives, in its
// stored bytes (with and without its trace id) and in JSON, over the
// fixtures and generated traces of both shapes, new and with a previous
// summary: the digest was written by the code before the summariser was
// made cheaper (summ16), so that code and this one give the same bytes.
func TestSummaryDigest(t *testing.T) {
	at := time.Unix(1_765_000_000, 0)
	traces := fixtureTraces(t)
	for _, size := range []int{1, 0} {
		g := bench.NewGenerator(uint64(21 + size))
		g.TraceSize = size
		for i := range 1500 {
			tr, err := g.ParsedTrace(at)
			if err != nil {
				t.Fatal(err)
			}
			traces = append(traces, tr)
			if i%100 == 0 {
				traces = append(traces, bigTrace(t, i, at))
			}
		}
	}
	checkSummaryDigest(t, "testdata/summary-digest", len(traces), func(add func(*trace.Summary)) {
		for _, tr := range traces {
			prev := trace.SummarizeTrace(tr, nil, 1.7e9)
			add(prev)
			add(trace.SummarizeTrace(tr, prev, 1.7e9+1))
			add(trace.Summarize(trace.Assemble(tr), prev, 1.7e9+2))
		}
	})
}

// checkSummaryDigest hashes every summary summarise adds, in its stored
// bytes (with and without its trace id) and in JSON, and holds the digest
// to file's (written instead with -update-summary-digest).
func checkSummaryDigest(t *testing.T, file string, traces int, summarise func(add func(*trace.Summary))) {
	t.Helper()
	h := sha256.New()
	var buf []byte
	summarise(func(s *trace.Summary) {
		var err error
		if buf, err = trace.AppendSummary(buf[:0], s); err != nil {
			t.Fatal(err)
		}
		h.Write(buf)
		if buf, err = trace.AppendSummaryUnder(buf[:0], s, s.TraceID); err != nil {
			t.Fatal(err)
		}
		h.Write(buf)
		j, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(j)
	})
	got := hex.EncodeToString(h.Sum(nil))
	if *updateDigest {
		if err := os.WriteFile(file, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got != strings.TrimSpace(string(want)) {
		t.Fatalf("the summaries of %d traces changed: digest %s, want %s", traces, got, want)
	}
}
