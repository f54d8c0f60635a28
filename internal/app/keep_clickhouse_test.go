package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// TestKeepPoliciesOnClickHouseTwoServers runs the workload on two
// `roentgen server` processes sharing one ClickHouse database, each trace
// sent whole to one of them: both find the same traces (every fault, slow
// and annotated one, and of the rest those whose id the hash keeps at 5%)
// and the same service graph as an
// embedded Roentgen without policies. Traces split between the two
// processes are decided alike by both, and a late document of a dropped
// trace, sent to the process that did not drop it, is dropped too.
func TestKeepPoliciesOnClickHouseTwoServers(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	onCH := func(c *app.Config) { c.Role, c.Store, c.UDPAddr, c.TCPAddr = app.RoleServer, db, "", "" }
	a, b := xraytest.Start(t, onCH), xraytest.Start(t, onCH)
	plain := xraytest.Start(t)
	ctx := context.Background()
	if code, body := putKeep(t, a, keepPolicies); code != 200 {
		t.Fatalf("PutKeepPolicies: %d %s", code, body)
	}
	// b holds the policies it read at start until it refreshes (every few
	// seconds; at once here).
	if err := b.RefreshKeepPolicies(ctx); err != nil {
		t.Fatal(err)
	}
	resp, body := xraytest.Post(t, b.URL("http")+"/roentgen/GetKeepPolicies", "application/json", nil)
	if resp.StatusCode != 200 || !json.Valid(body) || !strings.Contains(string(body), `"DefaultKeepRate":0.05`) {
		t.Fatalf("b's policies: %d %s", resp.StatusCode, body)
	}

	w := newKeepWorkload(2000) // half the embedded test's: ClickHouse is slower to fill
	var toA, toB []string
	for i, d := range w.docs {
		if i%2 == 0 {
			toA = append(toA, d)
		} else {
			toB = append(toB, d)
		}
	}
	ac, bc, pc := a.Client(t), b.Client(t), plain.Client(t)
	(&keepWorkload{docs: toA}).send(t, ac)
	(&keepWorkload{docs: toB}).send(t, bc)
	w.send(t, pc)
	// A read summarises what its own process holds; what the other holds
	// it summarises within a second (FlushDelay), or at once here.
	for _, s := range []*xraytest.Server{a, b} {
		s.Ingester().Sync(ctx)
	}

	got := w.found(t, ac)
	if fromB := w.found(t, bc); !reflect.DeepEqual(got, fromB) {
		t.Errorf("the two servers find different traces: %d and %d", len(got), len(fromB))
	}
	for _, set := range []map[string]bool{w.fault, w.slow, w.ordered} {
		for id := range set {
			if !got[id] {
				t.Errorf("trace %s not kept", id)
			}
		}
	}
	// The rest: exactly the ids the hash keeps at 5% (their share is
	// internal/keep's to test), whichever process received them.
	rest := 0
	var dropped []string
	for _, id := range w.rest {
		if got[id] {
			rest++
		} else {
			dropped = append(dropped, id)
		}
		if got[id] != keep.Sampled(id, 0.05) {
			t.Errorf("trace %s of the rest: kept %v, its id's hash says %v", id, got[id], keep.Sampled(id, 0.05))
		}
	}
	t.Logf("kept %d of %d others (%.2f%%)", rest, len(w.rest), 100*float64(rest)/float64(len(w.rest)))
	if g, want := w.graph(t, ac), w.graph(t, pc); !reflect.DeepEqual(g, want) {
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(want)
		t.Errorf("service graph on ClickHouse with policies differs:\n got %s\nwant %s", gj, wj)
	}

	// Traces split between the processes, ten minutes earlier (outside the
	// graph's window above): a root segment to a, then an independent
	// subsegment to b. Half carry a fault in the root, sent first, so
	// that whichever process summarises first sees it.
	now := time.Now().Add(-10 * time.Minute)
	var faulty, plainSplit []string
	for i := range 40 {
		id := fmt.Sprintf("1-%08x-%024x", now.Unix(), 0x5000+i)
		st := float64(now.Unix()) + float64(i)/10
		fault := i%2 == 0
		root := fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"front","start_time":%f,"end_time":%f,"fault":%t}`, id, 0x1000+i, st, st+0.5, fault)
		sub := fmt.Sprintf(`{"trace_id":%q,"id":"%016x","parent_id":"%016x","type":"subsegment","name":"back","start_time":%f,"end_time":%f}`,
			id, 0x2000+i, 0x1000+i, st+0.1, st+0.4)
		put(t, ac, root)
		put(t, bc, sub)
		if fault {
			faulty = append(faulty, id)
		} else {
			plainSplit = append(plainSplit, id)
		}
	}
	for _, s := range []*xraytest.Server{a, b} {
		s.Ingester().Sync(ctx)
	}
	whole := func(doc string) bool { return strings.Contains(doc, `"front"`) && strings.Contains(doc, `"back"`) }
	for _, c := range []*xray.Client{ac, bc} {
		for _, id := range faulty {
			if doc := documents(t, c, id); !whole(doc) {
				t.Errorf("split trace %s with a fault: found %q, want both parts", id, doc)
			}
		}
		for _, id := range plainSplit {
			doc := documents(t, c, id)
			if keep.Sampled(id, 0.05) != whole(doc) || !keep.Sampled(id, 0.05) && doc != "" {
				t.Errorf("split trace %s without a fault, kept by its id's hash: %v; found %q", id, keep.Sampled(id, 0.05), doc)
			}
		}
	}

	// A late fault of a dropped workload trace, sent to the process that
	// did not receive (nor drop) it, finds the tombstone.
	late := dropped[0]
	to, tc := bc, "b"
	for i, d := range w.docs {
		if strings.Contains(d, late) && i%2 == 1 {
			to, tc = ac, "a"
		}
	}
	put(t, to, fmt.Sprintf(`{"trace_id":%q,"id":"00000000000000ff","name":"late","start_time":%f,"end_time":%f,"fault":true}`,
		late, float64(time.Now().Unix()-5), float64(time.Now().Unix()-4)))
	for _, c := range []*xray.Client{ac, bc} {
		if doc := documents(t, c, late); doc != "" {
			t.Errorf("late fault of dropped trace %s (sent to %s): found %q", late, tc, doc)
		}
	}
	if got := w.found(t, ac); got[late] {
		t.Errorf("late fault of dropped trace %s is listed by GetTraceSummaries", late)
	}
}

func put(t *testing.T, c *xray.Client, docs ...string) {
	t.Helper()
	out, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	if err != nil || len(out.UnprocessedTraceSegments) != 0 {
		t.Fatalf("PutTraceSegments: %v %+v", err, out)
	}
}

// documents is what BatchGetTraces returns of one trace, its segments'
// documents (independent subsegments grafted into their parents) joined.
func documents(t *testing.T, c *xray.Client, id string) string {
	t.Helper()
	out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, tr := range out.Traces {
		for _, s := range tr.Segments {
			docs = append(docs, aws.ToString(s.Document))
		}
	}
	return strings.Join(docs, "\n")
}
