package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// refuseInserts makes the ClickHouse server refuse every INSERT into table
// with the real "Too many parts" (Code: 252, store.ErrBusy), as an
// overloaded server does: the table is re-created, its rows and a blocker
// row copied in, with parts_to_throw_insert = 1. The returned func lets
// INSERTs through again: the table as it was, its rows kept.
func refuseInserts(t *testing.T, db, table, columns, orderBy, blocker string) func() {
	t.Helper()
	return refuseInsertsBut(t, db, table, columns, orderBy, blocker, "trace != 'blocker'")
}

// refuseInsertsBut is refuseInserts for a table whose rows other than the
// blocker are those where notBlocker holds.
func refuseInsertsBut(t *testing.T, db, table, columns, orderBy, blocker, notBlocker string) func() {
	t.Helper()
	create := func(name, settings string) {
		clickhousetest.Query(t, db, fmt.Sprintf(`CREATE TABLE %s (%s) ENGINE = MergeTree PARTITION BY p ORDER BY (%s)
			SETTINGS index_granularity = 256%s`, name, columns, orderBy, settings))
	}
	swap := func(from, where string) {
		clickhousetest.Query(t, db, fmt.Sprintf("INSERT INTO %s_swap SELECT * FROM %s WHERE %s", table, from, where))
		clickhousetest.Query(t, db, "DROP TABLE "+from)
		clickhousetest.Query(t, db, fmt.Sprintf("RENAME TABLE %s_swap TO %s", table, table))
	}
	clickhousetest.Query(t, db, fmt.Sprintf("RENAME TABLE %s TO %s_open", table, table))
	create(table+"_swap", ", parts_to_delay_insert = 1, parts_to_throw_insert = 1")
	// One INSERT: a part in a partition makes the next one refused.
	clickhousetest.Query(t, db, fmt.Sprintf("INSERT INTO %s_open VALUES (%s)", table, blocker))
	swap(table+"_open", "1")
	return func() {
		create(table+"_swap", "")
		swap(table, notBlocker)
	}
}

// countedEnv is an ingester and its service graph, as an app wires them.
type countedEnv struct {
	in  *ingest.Ingester
	agg *graph.Aggregator
}

func newCountedEnv(t *testing.T, st store.Store) countedEnv {
	agg := graph.NewAggregator(graph.AggregatorConfig{Store: st})
	in := ingest.New(ingest.Config{Store: st, FlushDelay: time.Hour, MaxFlushDelay: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	in.AddDeriver(agg.Prepare)
	t.Cleanup(func() { in.Close(); st.Close() })
	return countedEnv{in, agg}
}

// sharedEnv opens db as one more process would: a ClickHouse store and its
// ingester.
func sharedEnv(t *testing.T, db string) (*clickhouse.Store, countedEnv) {
	t.Helper()
	chs, err := clickhouse.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return chs, newCountedEnv(t, chs)
}

// embeddedEnv is the embedded Roentgen the ClickHouse answers are compared with.
func embeddedEnv(t *testing.T) countedEnv {
	t.Helper()
	pst, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return newCountedEnv(t, pst)
}

const (
	summariesColumns = "p UInt32, epoch Int64, trace String, ver UInt64, sum String, cleared Array(UInt64), owner String"
	summariesBlocker = "0, 0, 'blocker', 1, '', [], ''"
)

// refuseSummaries refuses the summaries' INSERTs (refuseInserts).
func refuseSummaries(t *testing.T, db string) func() {
	t.Helper()
	return refuseInserts(t, db, "summaries", summariesColumns, "trace, ver", summariesBlocker)
}

func (e countedEnv) put(t *testing.T, docs ...string) {
	t.Helper()
	raw := make([][]byte, len(docs))
	for i, d := range docs {
		raw[i] = []byte(d)
	}
	if r := e.in.Ingest(context.Background(), raw, ingest.Options{Source: "api"}); len(r) != 0 {
		t.Fatalf("rejected: %+v", r[0].Error)
	}
}

// graphStats are the service graph's services (with their edges and
// statistics) by name, in the API's shape.
func (e countedEnv) graphStats(t *testing.T, from, to int64) map[string]string {
	t.Helper()
	g, err := e.agg.ServiceGraph(context.Background(), graph.DefaultGroup, from, to)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range g.Services(float64(from), float64(to)) {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		out[s.Name] = string(b)
	}
	return out
}

// An Apply that ClickHouse refuses after its statistics went in (a later
// stage's INSERT refused: "Too many parts") is retried at the next flush,
// and the service graph still counts each request once, as an embedded
// Roentgen given the same segments does: also when the trace changed
// between the refused Apply and its retry.
func TestRetriedApplyCountsStatisticsOnce(t *testing.T) {
	for _, c := range []struct {
		name, table, columns, orderBy, blocker string
	}{
		{"summaries refused", "summaries", summariesColumns, "trace, ver", summariesBlocker},
		// The first stage's terms refused beside its statistics stored.
		{"terms refused", "terms", "p UInt32, field String, value String, epoch Int64, trace String, ver UInt64", "field, value, epoch, trace", "0, 'f', 'v', 0, 'blocker', 1"},
		// No "cleared marks refused" since schema version 7: a summary's
		// row carries its cleared marks (internal/store/clickhouse).
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db := clickhousetest.NewDatabase(t)
			chs, shared := sharedEnv(t, db)
			embedded := embeddedEnv(t)

			at := time.Now().Add(-time.Minute)
			first, late := countedDocs(at)

			shared.put(t, first...)
			allow := refuseInserts(t, db, c.table, c.columns, c.orderBy, c.blocker)
			shared.in.Sync(ctx) // Apply refused after its statistics went in
			if n := clickhousetest.Query(t, db, "SELECT count() FROM stats"); n == "0" {
				t.Fatal("no statistics stored by the refused Apply: the test provokes nothing")
			}
			if n := pending(t, chs); n != 4 {
				t.Fatalf("%d traces pending after the refused Apply, want 4", n)
			}
			shared.put(t, late...)
			allow()
			shared.in.Sync(ctx)
			if n := pending(t, chs); n != 0 {
				t.Errorf("%d traces still pending", n)
			}

			embedded.put(t, first...)
			embedded.in.Sync(ctx)
			embedded.put(t, late...)
			embedded.in.Sync(ctx)

			sameGraph(t, shared, embedded, at)
		})
	}
}

// countedDocs are four traces of front calling back, and a late document
// of the first (a fault on back) that changes its summary.
func countedDocs(at time.Time) (first, late []string) {
	st := float64(at.Unix())
	for i := range 4 {
		id := fmt.Sprintf("1-%08x-%024x", at.Unix(), 700+i)
		first = append(first,
			fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"front","start_time":%f,"end_time":%f,`+
				`"subsegments":[{"id":"%016x","name":"back","namespace":"remote","start_time":%f,"end_time":%f}]}`,
				id, 0x100+i, st, st+1, 0x200+i, st+0.1, st+0.9),
			fmt.Sprintf(`{"trace_id":%q,"id":"%016x","parent_id":"%016x","name":"back","start_time":%f,"end_time":%f}`,
				id, 0x300+i, 0x200+i, st+0.1, st+0.8))
		if i == 0 {
			late = append(late, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","parent_id":"%016x","name":"back","start_time":%f,"end_time":%f,"fault":true}`,
				id, 0x400+i, 0x200+i, st+0.2, st+0.7))
		}
	}
	return first, late
}

// countedIDs are countedDocs' trace ids.
func countedIDs(at time.Time) []string {
	var ids []string
	for i := range 4 {
		ids = append(ids, fmt.Sprintf("1-%08x-%024x", at.Unix(), 700+i))
	}
	return ids
}

// sameGraph checks that got's service graph around at is want's.
func sameGraph(t *testing.T, got, want countedEnv, at time.Time) {
	t.Helper()
	from := at.Unix() - at.Unix()%60 - 60
	w := want.graphStats(t, from, from+240)
	g := got.graphStats(t, from, from+240)
	if len(w) == 0 {
		t.Fatal("the embedded store counted nothing")
	}
	for k, ws := range w {
		if g[k] != ws {
			t.Errorf("%s: ClickHouse %s, embedded %s", k, g[k], ws)
		}
	}
	for k, gs := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("%s: ClickHouse counts %s, embedded nothing", k, gs)
		}
	}
}

// A refused Apply's statistics are taken back by its retry also when
// another process summarised the traces in between (from the summary it
// read: the stored one the refused Apply replaced), with a document of
// its own: the retry's Previous is that process's summary, and what it
// takes back is still the refused change.
func TestRetriedApplyCountsOnceAfterAnotherProcessSummarised(t *testing.T) {
	ctx := context.Background()
	db := clickhousetest.NewDatabase(t)
	chs, a := sharedEnv(t, db)
	_, b := sharedEnv(t, db)
	embedded := embeddedEnv(t)

	at := time.Now().Add(-time.Minute)
	first, late := countedDocs(at)
	ids := countedIDs(at)
	a.put(t, first...)
	allow := refuseSummaries(t, db)
	a.in.Sync(ctx)
	if n := pending(t, chs); n != 4 {
		t.Fatalf("%d traces pending after the refused Apply, want 4", n)
	}
	allow()
	b.put(t, late...)
	b.in.Sync(ctx, ids...) // B summarises all four, A's documents too
	if n := pending(t, chs); n != 0 {
		t.Fatalf("%d traces pending after B's summaries, want 0", n)
	}
	a.in.Sync(ctx) // A's retry
	if n := pending(t, chs); n != 0 {
		t.Errorf("%d traces still pending", n)
	}

	embedded.put(t, first...)
	embedded.put(t, late...)
	embedded.in.Sync(ctx)
	sameGraph(t, a, embedded, at)
	sameGraph(t, b, embedded, at)
}

// Keep policies: a refused Apply's dropped traces had their statistics
// and tombstones stored together, and their pending marks cleared with
// the summaries' stage (the drop is done), its kept ones their statistics
// only. The retry takes back the kept ones' and leaves the dropped ones'
// counted; nothing stays pending (a dropped trace did, before).
func TestRetriedApplyWithDropsCountsStatisticsOnce(t *testing.T) {
	ctx := context.Background()
	db := clickhousetest.NewDatabase(t)
	chs, shared := sharedEnv(t, db)
	embedded := embeddedEnv(t)
	policies := keep.Policies{Policies: []keep.Policy{{Name: "faults", FilterExpression: "fault", KeepRate: 1}}, DefaultRate: 0}
	shared.in.SetKeeper(newTestKeeper(t, policies))
	embedded.in.SetKeeper(newTestKeeper(t, policies))

	at := time.Now().Add(-time.Minute)
	st := float64(at.Unix())
	var docs []string
	for i := range 4 {
		fault := ""
		if i%2 == 0 {
			fault = `,"fault":true`
		}
		docs = append(docs, fmt.Sprintf(`{"trace_id":"1-%08x-%024x","id":"%016x","name":"front","start_time":%f,"end_time":%f%s}`,
			at.Unix(), 800+i, 0x500+i, st, st+1, fault))
	}
	shared.put(t, docs...)
	allow := refuseSummaries(t, db)
	shared.in.Sync(ctx)
	if n := pending(t, chs); n != 2 {
		t.Fatalf("%d traces pending after the refused Apply, want the 2 kept (the drops are done)", n)
	}
	allow()
	shared.in.Sync(ctx)
	if n := pending(t, chs); n != 0 {
		t.Errorf("%d traces still pending", n)
	}
	for i := 1; i < 4; i += 2 {
		gone(t, chs, fmt.Sprintf("1-%08x-%024x", at.Unix(), 800+i))
	}

	embedded.put(t, docs...)
	embedded.in.Sync(ctx)
	sameGraph(t, shared, embedded, at)
}

// A refused Apply's statistics are taken back also when another process
// drops the traces (keep policies) before this one retries: the retry
// finds them dropped and makes no update of its own, so it subtracts what
// the refused Apply added on its own (AddStats). Also when the retry's flush
// holds a trace of its own whose Apply is refused again: the take-back was
// lost with that flush (found in review; the service graph counted the
// dropped traces' requests twice).
func TestRefusedApplyTakenBackAfterAnotherProcessDropped(t *testing.T) {
	t.Run("retry stores", func(t *testing.T) { refusedThenDropped(t, false) })
	t.Run("retry refused too", func(t *testing.T) { refusedThenDropped(t, true) })
}

func refusedThenDropped(t *testing.T, retryRefused bool) {
	ctx := context.Background()
	db := clickhousetest.NewDatabase(t)
	chs, a := sharedEnv(t, db)
	_, b := sharedEnv(t, db)
	// B decides otherwise than A (a policy changed, a rate): it drops.
	b.in.SetKeeper(newTestKeeper(t, keep.Policies{DefaultRate: 0}))
	embedded := embeddedEnv(t)

	at := time.Now().Add(-time.Minute)
	first, _ := countedDocs(at)
	ids := countedIDs(at)
	a.put(t, first...)
	allow := refuseSummaries(t, db)
	a.in.Sync(ctx)
	if n := pending(t, chs); n != 4 {
		t.Fatalf("%d traces pending after the refused Apply, want 4", n)
	}
	allow()
	b.in.Sync(ctx, ids...) // B drops all four
	for _, id := range ids {
		gone(t, chs, id)
	}
	docs := first
	if retryRefused {
		st := float64(at.Unix())
		other := fmt.Sprintf(`{"trace_id":"1-%08x-%024x","id":"%016x","name":"front","start_time":%f,"end_time":%f}`, at.Unix(), 999, 0x999, st, st+1)
		docs = append(append([]string(nil), first...), other)
		a.put(t, other)
		allow = refuseSummaries(t, db)
		a.in.Sync(ctx) // A's retry: the four to take back, the new trace's Apply refused
		allow()
	}
	a.in.Sync(ctx) // A's retry: its statistics to take back (and the new trace to store)
	if n := pending(t, chs); n != 0 {
		t.Errorf("%d traces still pending", n)
	}

	embedded.put(t, docs...)
	embedded.in.Sync(ctx)
	sameGraph(t, a, embedded, at)
}
