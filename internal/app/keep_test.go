package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// keepWorkload is the workload: 2% faults, 3% slow requests, one
// trace annotated with the order being debugged, the rest ordinary; each
// trace is a frontend segment calling "payments", so the service graph has
// an edge whose statistics every trace feeds.
type keepWorkload struct {
	docs                 []string
	fault, slow, ordered map[string]bool
	rest                 []string
	from, to             time.Time
}

func newKeepWorkload(n int) *keepWorkload {
	r := rand.New(rand.NewPCG(22, 1))
	now := time.Now()
	w := &keepWorkload{fault: map[string]bool{}, slow: map[string]bool{}, ordered: map[string]bool{},
		from: now.Add(-time.Minute), to: now.Add(time.Minute)}
	hex := func(n int) string {
		const d = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = d[r.IntN(16)]
		}
		return string(b)
	}
	for i := range n {
		id := fmt.Sprintf("1-%08x-%s", now.Unix()-int64(r.IntN(30)), hex(24))
		start := float64(now.UnixMilli())/1e3 - 40 + float64(i)*0.001
		dur, fault, status, ann := 0.05+r.Float64()*0.1, false, 200, ""
		switch {
		case i == n/2:
			w.ordered[id] = true
			ann = `,"annotations":{"order_id":"o-981"}`
		case r.Float64() < 0.02:
			w.fault[id], fault, status = true, true, 500
		case r.Float64() < 0.03/0.98:
			w.slow[id], dur = true, 2.5+r.Float64()
		default:
			w.rest = append(w.rest, id)
		}
		w.docs = append(w.docs, fmt.Sprintf(`{"name":"frontend","id":"%s","trace_id":"%s","start_time":%.3f,"end_time":%.3f,`+
			`"fault":%t,"http":{"request":{"method":"GET","url":"http://shop/checkout"},"response":{"status":%d}}%s,`+
			`"subsegments":[{"name":"payments","id":"%s","start_time":%.3f,"end_time":%.3f,"namespace":"remote","fault":%t,`+
			`"http":{"request":{"method":"POST","url":"http://payments/charge"},"response":{"status":%d}}}]}`,
			hex(16), id, start, start+dur, fault, status, ann, hex(16), start+0.001, start+dur-0.001, fault, status))
	}
	return w
}

func (w *keepWorkload) send(t *testing.T, c *xray.Client) {
	t.Helper()
	for lo := 0; lo < len(w.docs); lo += 500 {
		out, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: w.docs[lo:min(lo+500, len(w.docs))]})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.UnprocessedTraceSegments) > 0 {
			u := out.UnprocessedTraceSegments[0]
			t.Fatalf("%d unprocessed, first %s: %s", len(out.UnprocessedTraceSegments), aws.ToString(u.ErrorCode), aws.ToString(u.Message))
		}
	}
}

func (w *keepWorkload) found(t *testing.T, c *xray.Client) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	p := xray.NewGetTraceSummariesPaginator(c, &xray.GetTraceSummariesInput{StartTime: aws.Time(w.from), EndTime: aws.Time(w.to)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.TraceSummaries {
			ids[aws.ToString(s.Id)] = true
		}
	}
	return ids
}

func (w *keepWorkload) graph(t *testing.T, c *xray.Client) []types.Service {
	t.Helper()
	var all []types.Service
	p := xray.NewGetServiceGraphPaginator(c, &xray.GetServiceGraphInput{StartTime: aws.Time(w.from), EndTime: aws.Time(w.to)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Services...)
	}
	if len(all) == 0 {
		t.Fatal("empty service graph")
	}
	return all
}

func putKeep(t *testing.T, a *xraytest.Server, body string) (int, string) {
	t.Helper()
	resp, b := xraytest.Post(t, a.URL("http")+"/roentgen/PutKeepPolicies", "application/json", []byte(body))
	return resp.StatusCode, string(b)
}

const keepPolicies = `{"Policies":[
	{"Name":"faults","FilterExpression":"fault","KeepRate":1},
	{"Name":"slow","FilterExpression":"responsetime > 2","KeepRate":1},
	{"Name":"order","FilterExpression":"annotation.order_id = \"o-981\"","KeepRate":1}],
	"DefaultKeepRate":0.05}`

// TestKeepPoliciesWorkload is issue 22's "Done when": under "faults 100%,
// slow 100%, order 100%, rest 5%" every fault, slow and annotated trace is
// found, 5% ± 1 point of the rest, and the service graph counts every
// trace exactly as a server without policies does.
func TestKeepPoliciesWorkload(t *testing.T) {
	w := newKeepWorkload(4000)
	plain, kept := xraytest.Start(t), xraytest.Start(t)
	if code, body := putKeep(t, kept, keepPolicies); code != 200 {
		t.Fatalf("PutKeepPolicies: %d %s", code, body)
	}
	pc, kc := plain.Client(t), kept.Client(t)
	w.send(t, pc)
	w.send(t, kc)

	got := w.found(t, kc)
	for _, set := range []map[string]bool{w.fault, w.slow, w.ordered} {
		for id := range set {
			if !got[id] {
				t.Errorf("trace %s not kept", id)
			}
		}
	}
	rest := 0
	for _, id := range w.rest {
		if got[id] {
			rest++
		}
		// Exactly the traces the id's hash keeps: a deterministic check
		// (the ids' epochs follow the clock, so the share varies by run).
		if got[id] != keep.Sampled(id, 0.05) {
			t.Errorf("trace %s of the rest: kept %v, its id's hash says %v", id, got[id], keep.Sampled(id, 0.05))
		}
	}
	share := float64(rest) / float64(len(w.rest))
	t.Logf("%d faults, %d slow, %d ordered; kept %d of %d others (%.2f%%)", len(w.fault), len(w.slow), len(w.ordered), rest, len(w.rest), 100*share)
	if len(w.fault) < 50 || len(w.slow) < 80 {
		t.Fatalf("workload too small: %d faults, %d slow", len(w.fault), len(w.slow))
	}
	// The "5% ± 1" is ~3σ here; the hash is checked at 4.5σ so
	// that a run fails for a biased hash, not for an unlucky clock.
	if sigma := math.Sqrt(0.05 * 0.95 / float64(len(w.rest))); math.Abs(share-0.05) > 4.5*sigma {
		t.Errorf("kept %.2f%% of the rest, want 5%% ± %.2f (4.5σ)", 100*share, 450*sigma)
	}
	if n := len(w.found(t, pc)); n != len(w.docs) {
		t.Fatalf("server without policies found %d traces, want %d", n, len(w.docs))
	}

	if g, want := w.graph(t, kc), w.graph(t, pc); !reflect.DeepEqual(g, want) {
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(want)
		t.Errorf("service graph differs with policies:\n got %s\nwant %s", gj, wj)
	}

	// A dropped trace leaves nothing to read by id either.
	out, err := kc.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{w.rest[0], w.rest[1], w.rest[2]}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range out.Traces {
		if !got[aws.ToString(tr.Id)] {
			t.Errorf("BatchGetTraces returned dropped trace %s", aws.ToString(tr.Id))
		}
	}

	resp, err := http.Get(kept.URL("http") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf(`roentgen_keep_decisions_total{decision="kept",policy="faults"} %d`, len(w.fault)),
		fmt.Sprintf(`roentgen_keep_decisions_total{decision="kept",policy="slow"} %d`, len(w.slow)),
		`roentgen_keep_decisions_total{decision="kept",policy="order"} 1`,
		fmt.Sprintf(`roentgen_keep_decisions_total{decision="kept",policy="Default"} %d`, rest),
		fmt.Sprintf(`roentgen_keep_decisions_total{decision="dropped",policy="Default"} %d`, len(w.rest)-rest),
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The console reads the same counts with the policies.
	_, gb := xraytest.Post(t, kept.URL("http")+"/roentgen/GetKeepPolicies", "application/json", nil)
	for _, want := range []string{
		fmt.Sprintf(`{"Policy":"faults","Kept":%d,"Dropped":0}`, len(w.fault)),
		fmt.Sprintf(`{"Policy":"Default","Kept":%d,"Dropped":%d}`, rest, len(w.rest)-rest),
	} {
		if !strings.Contains(string(gb), want) {
			t.Errorf("GetKeepPolicies lacks %s: %s", want, gb)
		}
	}
}

// TestKeepPoliciesAPI: policies round-trip and survive a restart; a bad
// expression is refused with the filter language's own error and changes
// nothing.
func TestKeepPoliciesAPI(t *testing.T) {
	dir := t.TempDir()
	a := xraytest.Start(t, xraytest.InDir(dir))
	get := func(a *xraytest.Server) string {
		resp, b := xraytest.Post(t, a.URL("http")+"/roentgen/GetKeepPolicies", "application/json", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GetKeepPolicies: %d %s", resp.StatusCode, b)
		}
		return string(b)
	}
	if got := get(a); got != `{"Policies":[],"DefaultKeepRate":1}` {
		t.Errorf("default policies: %s", got)
	}
	if code, body := putKeep(t, a, keepPolicies); code != 200 {
		t.Fatalf("PutKeepPolicies: %d %s", code, body)
	}
	code, body := putKeep(t, a, `{"Policies":[{"Name":"bad","FilterExpression":"responsetime >","KeepRate":1}]}`)
	if code != 400 || !strings.Contains(body, "InvalidRequestException") || !strings.Contains(body, "Policies[0].FilterExpression: ") ||
		!strings.Contains(body, "at column 15") {
		t.Errorf("bad expression: %d %s", code, body)
	}
	t.Logf("bad expression refused: %s", body)
	for _, bad := range []string{
		`{"Policies":[{"Name":"x","FilterExpression":"fault","KeepRate":1.5}]}`,
		`{"Policies":[{"Name":"x","FilterExpression":"fault"}]}`,
		`{"Policies":[{"Name":"x","FilterExpression":"fault","KeepRate":1},{"Name":"x","FilterExpression":"error","KeepRate":1}]}`,
		`{"DefaultKeepRate":-0.1}`,
	} {
		if code, body := putKeep(t, a, bad); code != 400 || !strings.Contains(body, "InvalidRequestException") {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}
	want := get(a)
	if !strings.Contains(want, `"DefaultKeepRate":0.05`) || !strings.Contains(want, `"Name":"order"`) {
		t.Fatalf("after refused puts: %s", want)
	}
	a.Stop()
	if got := get(xraytest.Start(t, xraytest.InDir(dir))); got != want {
		t.Errorf("after restart %s, want %s", got, want)
	}
}
