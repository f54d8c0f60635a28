// Package storetest is the conformance suite every store.Store
// implementation must pass (in the style of Jaeger v2's storage tests). A
// backend's own test calls Run with a factory that opens an empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... },
//			storetest.WithReopen(func(t *testing.T, s store.Store) store.Store { ... }))
//	}
//
// Each area of the contract lives in its own file; Run lists them in suites.
package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Factory opens a new, empty store. The suite closes it.
type Factory func(t *testing.T) store.Store

// Reopener closes s and opens the same data again, as a restart would.
type Reopener func(t *testing.T, s store.Store) store.Store

// Option adjusts the suite to what a backend can do.
type Option func(*Harness)

// WithReopen enables the durability tests for backends that persist.
func WithReopen(r Reopener) Option { return func(h *Harness) { h.Reopen = r } }

// WithParallel runs the areas of the contract at once (up to -parallel),
// for backends whose stores are independent and whose latency is a
// server's (ClickHouse: a database per store): the factory and the
// reopener must then be safe for concurrent use.
func WithParallel() Option { return func(h *Harness) { h.parallel = true } }

// Harness is what each suite gets: how to open (and maybe reopen) a store.
type Harness struct {
	Open     Factory
	Reopen   Reopener // nil: the backend does not persist across Close
	parallel bool
}

// New opens a store that is closed when the test ends.
func (h *Harness) New(t *testing.T) store.Store {
	t.Helper()
	s := h.Open(t)
	t.Cleanup(func() { s.Close() })
	return s
}

// suites are the areas of the contract, each in its own file. A new area
// (for example the service-graph statistics) adds one line here.
var suites = []struct {
	name string
	run  func(t *testing.T, h *Harness)
}{
	{"Traces", testTraces},
	{"Pending", testPending}, // documents ahead of their summary (pending.go)
	{"Summaries", testSummaries},
	{"Terms", testTerms},
	{"TermsAgainstScan", testTermsAgainstScan}, // randomised (termsrandom.go)
	{"NumericTerms", testNumericTerms},
	{"AllOf", testAllOf}, // conjunctions of term sets (allof.go)
	{"Meta", testMeta},
	{"Retention", testRetention},
	{"Durability", testDurability},
	{"Stats", testStats}, // service-graph statistics (stats.go)
	{"Drop", testDrop},   // keep policies' dropped traces (drop.go)
}

// Run runs the whole conformance suite against the backend open makes.
func Run(t *testing.T, open Factory, opts ...Option) {
	h := &Harness{Open: open}
	for _, o := range opts {
		o(h)
	}
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			if h.parallel {
				t.Parallel()
			}
			s.run(t, h)
		})
	}
}

// Base is the epoch the suite's traces live around (2027-01-15), far from
// any partition boundary subtlety other than those tests create on purpose.
const Base = int64(1_800_000_000) - int64(1_800_000_000)%store.PartitionSeconds

// TraceID makes an X-Ray trace id carrying epoch and a serial number.
func TraceID(epoch int64, n int) string { return fmt.Sprintf("1-%08x-%024x", epoch, n) }

// Summary makes a minimal summary of a trace with one service node.
func Summary(id string, epoch int64) *trace.Summary {
	return &trace.Summary{
		TraceID:    id,
		Epoch:      epoch,
		StartTime:  float64(epoch) + 0.25,
		EndTime:    float64(epoch) + 1.5,
		Duration:   1.25,
		EntryPoint: 0,
		Nodes:      []trace.Node{{NodeID: trace.NodeID{Name: "svc", Type: "AWS::EC2::Instance"}, Root: true}},
	}
}

// Doc makes a stored document.
func Doc(id, body string) store.Doc { return store.Doc{ID: id, Raw: []byte(body)} }

// Put applies one new trace with its docs.
func Put(t *testing.T, s store.Store, sum *trace.Summary, docs ...store.Doc) {
	t.Helper()
	if err := s.Apply(context.Background(), []store.TraceUpdate{{TraceID: sum.TraceID, Epoch: sum.Epoch, Docs: docs, Summary: sum}}); err != nil {
		t.Fatalf("Apply %s: %v", sum.TraceID, err)
	}
}

// Collect returns the trace ids a summary query visits, in order.
func Collect(t *testing.T, s store.Store, q store.SummaryQuery) []string {
	t.Helper()
	var ids []string
	if err := s.Summaries(context.Background(), q, func(x *trace.Summary) bool {
		ids = append(ids, x.TraceID)
		return true
	}); err != nil {
		t.Fatalf("Summaries(%+v): %v", q, err)
	}
	return ids
}

func equalIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
