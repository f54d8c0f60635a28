package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// droppingDocs are four one-segment traces of front; the even ones have a
// fault, which keepFaults keeps, and the odd ones are dropped.
func droppingDocs(at time.Time) (docs, droppedIDs []string) {
	st := float64(at.Unix())
	for i := range 4 {
		id := fmt.Sprintf("1-%08x-%024x", at.Unix(), 900+i)
		fault := ""
		if i%2 == 0 {
			fault = `,"fault":true`
		} else {
			droppedIDs = append(droppedIDs, id)
		}
		docs = append(docs, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"front","start_time":%f,"end_time":%f,`+
			`"subsegments":[{"id":"%016x","name":"back","namespace":"remote","start_time":%f,"end_time":%f}]%s}`,
			id, 0x600+i, st, st+1, 0x700+i, st+0.1, st+0.9, fault))
	}
	return docs, droppedIDs
}

var keepFaults = keep.Policies{Policies: []keep.Policy{{Name: "faults", FilterExpression: "fault", KeepRate: 1}}, DefaultRate: 0}

// Keep policies on ClickHouse: whichever stage of an Apply holding drops
// the server refuses ("Too many parts", the real Code: 252), the retry
// leaves each dropped trace's statistics counted exactly once, as an
// embedded Roentgen given the same segments counts them; the dropped
// traces end neither pending nor readable, and PurgeDropped deletes their
// documents once their hour is past.
func TestRefusedStageOfADropCountsItOnce(t *testing.T) {
	for _, c := range []struct {
		name, table, columns, orderBy, blocker, notBlocker string
	}{
		// The statistics refused beside the other tables of their stage.
		{"statistics refused", "stats", "p UInt32, res Int64, bucket Int64, grp String, entity String, value String, at DateTime DEFAULT now()",
			"res, grp, bucket, entity", "0, 0, 0, 'blocker', '', '', now()", "grp != 'blocker'"},
		{"tombstones refused", "dropped", "p UInt32, trace String, epoch Int64, ver UInt64", "trace, ver", "0, 'blocker', 0, 1", "trace != 'blocker'"},
		{"summaries refused", "summaries", summariesColumns, "trace, ver", summariesBlocker, "trace != 'blocker'"},
		// No "cleared marks refused" since schema version 7: no stage
		// after the summaries and tombstones writes marks.
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db := clickhousetest.NewDatabase(t)
			chs, shared := sharedEnv(t, db)
			embedded := embeddedEnv(t)
			sharedKeeper, embeddedKeeper := newTestKeeper(t, keepFaults), newTestKeeper(t, keepFaults)
			shared.in.SetKeeper(sharedKeeper)
			embedded.in.SetKeeper(embeddedKeeper)

			at := time.Now().Add(-time.Minute)
			docs, droppedIDs := droppingDocs(at)
			shared.put(t, docs...)
			allow := refuseInsertsBut(t, db, c.table, c.columns, c.orderBy, c.blocker, c.notBlocker)
			shared.in.Sync(ctx) // refused
			if n := pending(t, chs); n == 0 {
				t.Fatal("nothing pending after the refused Apply: the test provokes nothing")
			}
			allow()
			shared.in.Sync(ctx)
			if n := pending(t, chs); n != 0 {
				t.Errorf("%d traces still pending", n)
			}
			for _, id := range droppedIDs {
				gone(t, chs, id)
			}

			embedded.put(t, docs...)
			embedded.in.Sync(ctx)
			sameGraph(t, shared, embedded, at)
			// The decisions too are counted once.
			if got, want := fmt.Sprint(sharedKeeper.counted), fmt.Sprint(embeddedKeeper.counted); got != want {
				t.Errorf("decisions counted %s, want %s", got, want)
			}

			// The hour long past: the dropped traces' documents go.
			if _, err := chs.PurgeDropped(ctx, time.Now().Add(3*time.Hour)); err != nil {
				t.Fatal(err)
			}
			waitMutations(t, db)
			for _, id := range droppedIDs {
				if n := clickhousetest.Query(t, db, fmt.Sprintf("SELECT count() FROM docs WHERE trace = '%s'", id)); n != "0" {
					t.Errorf("dropped trace %s: %s document rows left after PurgeDropped", id, n)
				}
			}
		})
	}
}

// A retry whose summaries the server refused again, after its statistics
// took back the change a first refused Apply counted and added its own:
// the next retry takes back only the second change. (Before schema version
// 7 the second refusal was of the cleared marks, a stage that is gone.)
func TestTwiceRefusedApplyCountsStatisticsOnce(t *testing.T) {
	ctx := context.Background()
	db := clickhousetest.NewDatabase(t)
	chs, shared := sharedEnv(t, db)
	embedded := embeddedEnv(t)

	at := time.Now().Add(-time.Minute)
	first, late := countedDocs(at)
	shared.put(t, first...)
	allow := refuseSummaries(t, db)
	shared.in.Sync(ctx) // statistics stored, summaries refused
	allow()
	shared.put(t, late...)
	allow = refuseSummaries(t, db)
	shared.in.Sync(ctx) // the first change taken back, the second's statistics stored, summaries refused again
	if n := pending(t, chs); n == 0 {
		t.Fatal("nothing pending after the second refusal: the test provokes nothing")
	}
	allow()
	shared.in.Sync(ctx)
	if n := pending(t, chs); n != 0 {
		t.Errorf("%d traces still pending", n)
	}

	embedded.put(t, first...)
	embedded.put(t, late...)
	embedded.in.Sync(ctx)
	sameGraph(t, shared, embedded, at)
}

// waitMutations waits for the database's mutations, which ClickHouse runs
// in the background (18.16 has no synchronous mode); the deadline only
// guards against a server that never finishes.
func waitMutations(t *testing.T, db string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for clickhousetest.Query(t, db, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0") != "0" {
		if time.Now().After(deadline) {
			t.Fatal("mutations not done after 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
