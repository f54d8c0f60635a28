package clickhouse_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// TestRescanAnswersAsTheWholeScan: every whole answer after the first is
// made from what changed since the last (rescan.go), and equals the whole
// scan, round after round of traces marked and left pending, summarised,
// dropped, purged, marked again in an older partition (late writers), and
// marked by a writer whose clock runs ahead (its mark comes before the
// bound rounds later, from an old part), with the docs and summaries
// tables made anew once (read whole then).
func TestRescanAnswersAsTheWholeScan(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	w, r := open(t, db), open(t, db) // a writer and another process adopting
	defer w.Close()
	defer r.Close()
	if len(r.Shards()) > 0 {
		t.Skip("a sharded store reads whole every time")
	}
	clickhouse.SetStaleFullEvery(r, time.Nanosecond) // every call a whole answer
	ctx := context.Background()
	ep := time.Now().Unix()
	old := ep - 3600 // the hour before: late writers
	rng := rand.New(rand.NewPCG(28, 17))
	const traces, rounds, recreated = 48, 12, 6
	n := 0
	doc := func() []store.Doc { n++; return []store.Doc{storetest.Doc(fmt.Sprintf("%016x", n), "a")} }
	// Each round's bound is a minute later than the last's.
	bound := func(round int) time.Time { return time.Now().Add(time.Duration(round) * time.Minute) }
	var seen []string
	for round := range rounds {
		var puts []store.DocPut
		var ups []store.TraceUpdate
		for i := range traces {
			e := ep
			if i%3 == 0 {
				e = old
			}
			id := storetest.TraceID(e, i+1)
			switch rng.IntN(6) {
			case 0, 1: // acknowledged and left pending
				puts = append(puts, store.DocPut{TraceID: id, Epoch: e, Docs: doc()})
			case 2: // summarised
				ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: e, Docs: doc(), Summary: storetest.Summary(id, e)})
			case 3: // dropped
				ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: e, Summary: storetest.Summary(id, e), Drop: true})
			case 4: // a writer 3.5 minutes ahead: before the bound 4 rounds on
				ahead := bound(round).Add(3*time.Minute + 30*time.Second)
				if err := w.PutDocsAt(ctx, []store.DocPut{{TraceID: id, Epoch: e, Docs: doc()}}, uint64(ahead.UnixNano())); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.PutDocs(ctx, puts); err != nil {
			t.Fatal(err)
		}
		if err := w.Apply(ctx, ups); err != nil {
			t.Fatal(err)
		}
		switch round {
		case 3, 8: // the dropped traces' documents deleted (a mutation)
			if _, err := w.PurgeDropped(ctx, time.Now().Add(48*time.Hour)); err != nil {
				t.Fatal(err)
			}
		case recreated: // as migration 4 does: block numbers start again
			for _, table := range []string{"docs", "summaries"} {
				for _, q := range []string{"RENAME TABLE %[1]s TO %[1]s_old", "CREATE TABLE %[1]s AS %[1]s_old",
					"INSERT INTO %[1]s SELECT * FROM %[1]s_old", "DROP TABLE %[1]s_old"} {
					clickhousetest.Query(t, db, fmt.Sprintf(q, table))
				}
			}
		}
		before := bound(round)
		var got []string
		if err := r.PendingBefore(ctx, before, func(id string) bool { got = append(got, id); return true }); err != nil {
			t.Fatal(err)
		}
		want, err := r.PendingBeforeScan(ctx, before)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: PendingBefore = %v, the whole scan %v", round, got, want)
		}
		seen = append(seen, want...)
	}
	fulls, windows := clickhouse.StaleScans(r)
	if rescans := clickhouse.StaleRescans(r); fulls != 2 || windows != 0 || rescans != rounds-2 {
		t.Errorf("%d whole scans, %d rescans, %d windows; want 2 (the first, the tables made anew), %d, 0", fulls, rescans, windows, rounds-2)
	}
	if len(seen) == 0 {
		t.Error("no round left a trace pending: the test tests nothing")
	}
}

// TestRescanLeavesClearedTracesAlone: a summary whose own version is older
// than the mark it clears (its writer's clock behind the mark's) leaves the
// whole scan's window before the mark does; the whole scan then calls the
// trace pending, though no part was written since and the trace is
// summarised (PendingAmong, which reads every row, says so). The rescan
// keeps its answer (rescan.go): it does not adopt the trace.
func TestRescanLeavesClearedTracesAlone(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	w, r := open(t, db), open(t, db)
	defer w.Close()
	defer r.Close()
	if len(r.Shards()) > 0 {
		t.Skip("a sharded store reads whole every time")
	}
	clickhouse.SetStaleFullEvery(r, time.Nanosecond)
	ctx := context.Background()
	start := time.Now()
	ep := start.Unix() + 3600 // filed an hour on: in both windows
	id := storetest.TraceID(ep, 1)
	mark := start.Add(30 * time.Minute)
	if err := w.PutDocsAt(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", "a")}}}, uint64(mark.UnixNano())); err != nil {
		t.Fatal(err)
	}
	if got, err := w.LeaseTraces(ctx, []string{id}); err != nil || len(got) != 1 {
		t.Fatalf("leased %v, %v", got, err)
	}
	if _, err := w.Traces(ctx, []string{id}); err != nil {
		t.Fatal(err)
	}
	if err := w.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: ep, Summary: storetest.Summary(id, ep)}}); err != nil {
		t.Fatal(err)
	}
	pending := func(before time.Time) []string {
		t.Helper()
		var got []string
		if err := r.PendingBefore(ctx, before, func(id string) bool { got = append(got, id); return true }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := pending(start.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("first answer %v, want none", got)
	}
	late := start.Add(2*time.Hour + 10*time.Minute) // the summary's version has left the window, the mark not
	if got := pending(late); len(got) != 0 {
		t.Errorf("rescan %v, want none", got)
	}
	if fulls, _ := clickhouse.StaleScans(r); fulls != 1 || clickhouse.StaleRescans(r) != 1 {
		t.Errorf("%d whole scans, %d rescans; want 1 and 1", fulls, clickhouse.StaleRescans(r))
	}
	if got, err := r.PendingBeforeScan(ctx, late); err != nil || !slices.Equal(got, []string{id}) {
		t.Errorf("the whole scan: %v, %v; want the trace (the test tests nothing)", got, err)
	}
	if got, err := r.PendingAmong(ctx, []string{id}); err != nil || len(got) != 0 {
		t.Errorf("pending among the trace: %v, %v; want none (it is summarised)", got, err)
	}
}

// TestPendingAtStartReadsSinceTheLastStart: each start's Pending is made
// from the last start's recorded answer (pendingstart.go), and equals the
// whole scan, round after round of traces marked and left pending,
// summarised, dropped, purged, marked again in an older partition, that
// partition dropped by retention (every recorded trace judged again), and
// the docs and summaries tables made anew (read whole then).
func TestPendingAtStartReadsSinceTheLastStart(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	w := open(t, db)
	defer w.Close()
	if len(w.Shards()) > 0 {
		t.Skip("a sharded store scans whole every time")
	}
	ctx := context.Background()
	ep := time.Now().Unix()
	old := ep - 3600
	rng := rand.New(rand.NewPCG(28, 28))
	const traces, rounds, recreated, retention = 48, 12, 6, 9
	n, rescans := 0, 0
	doc := func() []store.Doc { n++; return []store.Doc{storetest.Doc(fmt.Sprintf("%016x", n), "a")} }
	var seen []string
	for round := range rounds {
		var puts []store.DocPut
		var ups []store.TraceUpdate
		for i := range traces {
			e := ep
			if i%3 == 0 {
				e = old
			}
			id := storetest.TraceID(e, i+1)
			switch rng.IntN(5) {
			case 0, 1:
				puts = append(puts, store.DocPut{TraceID: id, Epoch: e, Docs: doc()})
			case 2:
				ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: e, Docs: doc(), Summary: storetest.Summary(id, e)})
			case 3:
				ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: e, Summary: storetest.Summary(id, e), Drop: true})
			}
		}
		if err := w.PutDocs(ctx, puts); err != nil {
			t.Fatal(err)
		}
		if err := w.Apply(ctx, ups); err != nil {
			t.Fatal(err)
		}
		switch round {
		case 3:
			if _, err := w.PurgeDropped(ctx, time.Now().Add(48*time.Hour)); err != nil {
				t.Fatal(err)
			}
		case recreated:
			for _, table := range []string{"docs", "summaries"} {
				for _, q := range []string{"RENAME TABLE %[1]s TO %[1]s_old", "CREATE TABLE %[1]s AS %[1]s_old",
					"INSERT INTO %[1]s SELECT * FROM %[1]s_old", "DROP TABLE %[1]s_old"} {
					clickhousetest.Query(t, db, fmt.Sprintf(q, table))
				}
			}
		case retention: // the older partition dropped
			if _, err := w.DropBefore(ctx, time.Unix(ep, 0)); err != nil {
				t.Fatal(err)
			}
		}
		s := open(t, db) // a process starting
		var got []string
		if err := s.Pending(ctx, func(id string) bool { got = append(got, id); return true }); err != nil {
			t.Fatal(err)
		}
		want, err := s.PendingScan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: Pending = %v, the whole scan %v", round, got, want)
		}
		rescans += clickhouse.StartRescans(s)
		s.Close()
		seen = append(seen, want...)
	}
	if rescans != rounds-2 {
		t.Errorf("%d starts rescanned, want %d (all but the first and the one after the tables were made anew)", rescans, rounds-2)
	}
	if len(seen) == 0 {
		t.Error("no round left a trace pending: the test tests nothing")
	}
}

// TestPendingAtStartIgnoresAnUnreadableRecord: a record this build cannot
// read (another version's, or damaged) makes the start read whole.
func TestPendingAtStartIgnoresAnUnreadableRecord(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	w := open(t, db)
	defer w.Close()
	ctx := context.Background()
	ep := time.Now().Unix()
	id := storetest.TraceID(ep, 1)
	if err := w.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", "a")}}}); err != nil {
		t.Fatal(err)
	}
	for _, rec := range []string{`{"v":2,"docs":1000000,"open":[]}`, `{"v":1,"docs":`} {
		if err := w.PutMeta(ctx, clickhouse.PendingKind, "", []byte(rec)); err != nil {
			t.Fatal(err)
		}
		s := open(t, db)
		var got []string
		if err := s.Pending(ctx, func(id string) bool { got = append(got, id); return true }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{id}) || clickhouse.StartRescans(s) != 0 {
			t.Errorf("record %s: Pending = %v after %d rescans; want the trace, read whole", rec, got, clickhouse.StartRescans(s))
		}
		s.Close()
	}
}

// TestAdoptingLoopRecordsTheNextStart: a process's whole answer records
// the next start's answer again once the record is older than the whole
// answers' period (here at once), so a start reads only what was written
// since; that start answers as the whole scan.
func TestAdoptingLoopRecordsTheNextStart(t *testing.T) {
	t.Parallel()
	db := clickhousetest.NewDatabase(t)
	w, r := open(t, db), open(t, db)
	defer w.Close()
	defer r.Close()
	if len(r.Shards()) > 0 {
		t.Skip("a sharded store records nothing")
	}
	clickhouse.SetStaleFullEvery(r, time.Nanosecond)
	ctx := context.Background()
	ep := time.Now().Unix()
	put := func(i int) {
		t.Helper()
		id := storetest.TraceID(ep, i)
		if err := w.PutDocs(ctx, []store.DocPut{{TraceID: id, Epoch: ep, Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", i), "a")}}}); err != nil {
			t.Fatal(err)
		}
	}
	put(1)
	if err := w.Pending(ctx, func(string) bool { return true }); err != nil { // a start: recorded
		t.Fatal(err)
	}
	first := clickhouse.RecordedDocsBlock(w)
	put(2)
	put(3)
	for range 2 { // a whole scan, then a whole answer due: the record made again
		if err := r.PendingBefore(ctx, time.Now(), func(string) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	newest := clickhousetest.Query(t, db, `SELECT max(max_block_number) FROM system.parts WHERE database = currentDatabase() AND table = 'docs' AND active`)
	if got := clickhouse.RecordedDocsBlock(r); first < 0 || fmt.Sprint(got) != newest {
		t.Fatalf("the record's docs block %d (at the start %d), want the newest, %s", got, first, newest)
	}
	s := open(t, db)
	defer s.Close()
	var got []string
	if err := s.Pending(ctx, func(id string) bool { got = append(got, id); return true }); err != nil {
		t.Fatal(err)
	}
	want, err := s.PendingScan(ctx)
	if err != nil || !slices.Equal(got, want) || len(want) != 3 || clickhouse.StartRescans(s) != 1 {
		t.Errorf("start: %v after %d rescans; the whole scan %v, %v", got, clickhouse.StartRescans(s), want, err)
	}
}
