package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// fakeXRay answers PutTraceSegments and PutTelemetryRecords with a
// scripted function, recording what it was sent.
type fakeXRay struct {
	mu        sync.Mutex
	segments  [][]string
	telemetry []map[string]any
	answer    func(call int, docs []string) (int, string)
	calls     int
}

func (f *fakeXRay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		// A request its client gave up on mid-body (a telemetry send cut
		// by the daemon's stop, under load): X-Ray never sees it whole, so
		// neither is it recorded here.
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/TraceSegments":
		var in struct{ TraceSegmentDocuments []string }
		json.Unmarshal(b, &in)
		f.calls++
		code, body := 200, `{"UnprocessedTraceSegments":[]}`
		if f.answer != nil {
			code, body = f.answer(f.calls, in.TraceSegmentDocuments)
		}
		if code == 200 {
			f.segments = append(f.segments, in.TraceSegmentDocuments)
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	case "/TelemetryRecords":
		var in map[string]any
		json.Unmarshal(b, &in)
		f.telemetry = append(f.telemetry, in)
		io.WriteString(w, `{}`)
	default:
		w.WriteHeader(404)
	}
}

func (f *fakeXRay) docs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.segments {
		n += len(s)
	}
	return n
}

func (f *fakeXRay) unique() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := map[string]bool{}
	for _, s := range f.segments {
		for _, d := range s {
			ids[idOf(d)] = true
		}
	}
	return len(ids)
}

func idOf(d string) string {
	var v struct {
		ID string `json:"id"`
	}
	json.Unmarshal([]byte(d), &v)
	return v.ID
}

// UnprocessedTraceSegments: a throttled document is sent again, an invalid
// one is counted as rejected (in /metrics and telemetry) and not resent.
func TestUnprocessedSegments(t *testing.T) {
	// The answers go by document, not by position in a call: under load the
	// five datagrams may span more than one batch (BatchWait is 20 ms here).
	const throttled, invalid = "0000000000000001", "0000000000000002"
	seen := map[string]bool{}
	fx := &fakeXRay{answer: func(call int, docs []string) (int, string) {
		var un []string
		for _, d := range docs {
			switch id := idOf(d); {
			case id == throttled && !seen[id]:
				seen[id] = true
				un = append(un, fmt.Sprintf(`{"Id":%q,"ErrorCode":"ThrottledException","Message":"slow down"}`, id))
			case id == invalid:
				un = append(un, fmt.Sprintf(`{"Id":%q,"ErrorCode":"InvalidTraceId","Message":"too old"}`, id))
			}
		}
		return 200, `{"UnprocessedTraceSegments":[` + strings.Join(un, ",") + `]}`
	}}
	srv := httptest.NewServer(fx)
	defer srv.Close()
	d := startDaemon(t, testConfig(srv.URL))
	run := time.Now().UnixNano()
	send(t, d.Addr("udp").String(), run, 1, 5)
	waitFor(t, "the throttled document to be resent", 5*time.Second, func() bool { return fx.docs() >= 6 })
	d.Stop()
	fx.mu.Lock()
	defer fx.mu.Unlock()
	sent := map[string]int{}
	for _, call := range fx.segments {
		for _, doc := range call {
			sent[idOf(doc)]++
		}
	}
	if len(sent) != 5 || sent[throttled] != 2 || sent[invalid] != 1 {
		t.Fatalf("documents sent (by id, times) = %v, want each of 5 once but the throttled one twice; uploads = %v", sent, fx.segments)
	}
	if got := testutil.ToFloat64(d.m.dropped.WithLabelValues("rejected")); got != 1 {
		t.Errorf("rejected = %v, want 1", got)
	}
	if got := testutil.ToFloat64(d.m.uploaded); got != 4 {
		t.Errorf("uploaded = %v, want 4 (3 at once, the throttled one again)", got)
	}
}

// A 4xx that retrying cannot fix drops the batch (counted); a 5xx is
// retried with backoff and succeeds without spooling.
func TestUploadRetriesTransientFailures(t *testing.T) {
	fx := &fakeXRay{answer: func(call int, docs []string) (int, string) {
		if call <= 2 {
			return 503, `{"__type":"ServiceUnavailableException","message":"busy"}`
		}
		return 200, `{}`
	}}
	srv := httptest.NewServer(fx)
	defer srv.Close()
	d := startDaemon(t, testConfig(srv.URL))
	send(t, d.Addr("udp").String(), time.Now().UnixNano(), 1, 3)
	waitFor(t, "the upload after two 503s", 5*time.Second, func() bool { return fx.docs() == 3 })
	if got := testutil.ToFloat64(d.m.spooled); got != 0 {
		t.Errorf("spooled %v; two failures should be retried in place", got)
	}
	if got := testutil.ToFloat64(d.m.uploadErrs.WithLabelValues("http_5xx")); got != 2 {
		t.Errorf("upload_errors{http_5xx} = %v", got)
	}

	fx.mu.Lock()
	fx.answer = func(int, []string) (int, string) {
		return 400, `{"__type":"InvalidRequestException","message":"no"}`
	}
	fx.mu.Unlock()
	send(t, d.Addr("udp").String(), time.Now().UnixNano(), 1, 2)
	waitFor(t, "the refused batch to be counted", 5*time.Second, func() bool {
		return testutil.ToFloat64(d.m.dropped.WithLabelValues("rejected")) == 2
	})
	if got := testutil.ToFloat64(d.m.spooled); got != 0 {
		t.Errorf("a refused batch was spooled (%v)", got)
	}
}

// Telemetry: once a segment has arrived, a record with the official
// daemon's counters is sent every interval, and a last one at stop.
func TestTelemetryRecords(t *testing.T) {
	fx := &fakeXRay{}
	srv := httptest.NewServer(fx)
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.ResourceARN = "arn:aws:ecs:us-east-1:1:task/t"
	t.Setenv("AWS_HOSTNAME", "host-1")
	t.Setenv("AWS_INSTANCE_ID", "i-0abc")
	cfg.TelemetryInterval = 30 * time.Millisecond
	d := startDaemon(t, cfg)
	time.Sleep(100 * time.Millisecond) // intervals with no segment send nothing
	fx.mu.Lock()
	early := len(fx.telemetry)
	fx.mu.Unlock()
	if early != 0 {
		t.Fatalf("%d telemetry requests before any segment", early)
	}
	c, _ := dialUDP(d.Addr("udp").String())
	c.Write([]byte(header + doc(time.Now().UnixNano(), 0, 0)))
	c.Write([]byte("no header"))
	c.Write([]byte(`{"format":"xml","version":1}` + "\n{}"))
	c.Close()
	waitFor(t, "the segment to upload", 5*time.Second, func() bool { return fx.docs() == 1 })
	d.Stop()

	fx.mu.Lock()
	defer fx.mu.Unlock()
	sum := map[string]float64{}
	for _, req := range fx.telemetry {
		if req["Hostname"] != "host-1" || req["EC2InstanceId"] != "i-0abc" || req["ResourceARN"] != cfg.ResourceARN {
			t.Errorf("telemetry request = %v", req)
		}
		for _, r := range req["TelemetryRecords"].([]any) {
			rec := r.(map[string]any)
			if _, ok := rec["Timestamp"].(float64); !ok {
				t.Errorf("record without an epoch Timestamp: %v", rec)
			}
			for _, k := range []string{"SegmentsReceivedCount", "SegmentsSentCount", "SegmentsRejectedCount", "SegmentsSpilloverCount"} {
				sum[k] += rec[k].(float64)
			}
			if _, ok := rec["BackendConnectionErrors"].(map[string]any)["ConnectionRefusedCount"]; !ok {
				t.Errorf("BackendConnectionErrors = %v", rec["BackendConnectionErrors"])
			}
		}
	}
	if sum["SegmentsReceivedCount"] != 3 || sum["SegmentsSentCount"] != 1 || sum["SegmentsRejectedCount"] != 2 || sum["SegmentsSpilloverCount"] != 0 {
		t.Errorf("counters = %v", sum)
	}
}

// Without a spool directory the memory budget bounds what waits for a
// down upstream: the oldest batches are dropped, counted as spillover, and
// the newest are delivered when it is back.
func TestMemoryBudgetSpillover(t *testing.T) {
	fx := &fakeXRay{}
	up := newRestartable(t, fx)
	cfg := testConfig(up.URL())
	cfg.BufferMemoryMB = 3
	d := startDaemon(t, cfg)
	up.down()
	c, _ := dialUDP(d.Addr("udp").String())
	pad := strings.Repeat("p", 8000)
	run := time.Now().UnixNano()
	for i := range 1000 { // 8 MB of documents, paced so the socket keeps up
		c.Write([]byte(header + strings.Replace(doc(run, i/50, i%50), `"annotations"`, `"pad":"`+pad+`","annotations"`, 1)))
		if i%50 == 49 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	c.Close()
	waitFor(t, "every datagram to be read", 5*time.Second, func() bool { return testutil.ToFloat64(d.m.received) == 1000 })
	d.bt.flush()
	spilled := 0.0
	waitFor(t, "spillover", 5*time.Second, func() bool {
		spilled = testutil.ToFloat64(d.m.dropped.WithLabelValues("spillover"))
		return spilled >= 500
	})
	up.up()
	waitFor(t, "the kept segments to arrive", 10*time.Second, func() bool {
		_, docs, _ := d.spool.stats()
		return docs == 0 && d.fwd.held.Load() == 0
	})
	// Delivery is at least once (a batch whose answer was lost is sent
	// again), so distinct documents are counted.
	if got := float64(fx.unique()) + spilled; got != 1000 {
		t.Errorf("uploaded %d + spilled %v != 1000", fx.unique(), spilled)
	}
}

// Roentgen stores the daemon's telemetry records as they are sent.
func TestTelemetryToRoentgen(t *testing.T) {
	api := xraytest.NewAPI(t, t.TempDir())
	cfg := testConfig(api.URL)
	cfg.TelemetryInterval = 50 * time.Millisecond
	t.Setenv("AWS_HOSTNAME", "host-r")
	d := startDaemon(t, cfg)
	run := time.Now().UnixNano()
	send(t, d.Addr("udp").String(), run, 1, 3)
	waitStored(t, api, run, 1, 3, 5*time.Second)
	d.Stop()
	received := 0.0
	err := api.Store.ListMeta(context.Background(), "telemetry", func(_ string, v []byte) bool {
		var e struct {
			Hostname string
			Record   map[string]any
		}
		if err := json.Unmarshal(v, &e); err != nil || e.Hostname != "host-r" {
			t.Errorf("stored telemetry %s", v)
		}
		n, _ := e.Record["SegmentsReceivedCount"].(float64)
		received += n
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if received != 3 {
		t.Errorf("stored records count %v received segments, want 3", received)
	}
}

// A periodic telemetry send still in flight when the daemon stops ends
// before the last send does (at the upload deadline at worst): the
// records it carried and the upstream did not take go in the last send,
// not lost. Before, the stop cancelled it after the last send.
func TestTelemetryInFlightAtStopIsResent(t *testing.T) {
	fx := &fakeXRay{}
	held := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		if r.URL.Path == "/TelemetryRecords" {
			once.Do(func() { first = true })
		}
		if !first {
			fx.ServeHTTP(w, r)
			return
		}
		io.ReadAll(r.Body)
		close(held)
		<-r.Context().Done() // held until its client gives up: not taken
	}))
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.TelemetryInterval = 30 * time.Millisecond
	cfg.RequestTimeout = time.Minute // only the stop ends the held call
	// The stop abandons the held call at 9/10 of this and leaves the last
	// tenth for the final telemetry send: 100 ms of a 1 s timeout was too
	// little for that send on a loaded machine (a CI-like run at load 14
	// saw no counters once); 400 ms is not.
	cfg.ShutdownTimeout = 4 * time.Second
	d := startDaemon(t, cfg)
	c, _ := dialUDP(d.Addr("udp").String())
	c.Write([]byte(header + doc(time.Now().UnixNano(), 0, 0)))
	c.Close()
	waitFor(t, "the segment to upload", 5*time.Second, func() bool { return fx.docs() == 1 })
	select {
	case <-held:
	case <-time.After(30 * time.Second): // a guard only
		t.Fatal("no telemetry sent after a segment")
	}
	d.Stop()

	fx.mu.Lock()
	defer fx.mu.Unlock()
	sum := map[string]float64{}
	for _, req := range fx.telemetry {
		for _, r := range req["TelemetryRecords"].([]any) {
			rec := r.(map[string]any)
			for _, k := range []string{"SegmentsReceivedCount", "SegmentsSentCount"} {
				sum[k] += rec[k].(float64)
			}
		}
	}
	if sum["SegmentsReceivedCount"] != 1 || sum["SegmentsSentCount"] != 1 {
		t.Errorf("counters in the telemetry the upstream took = %v, want 1 received and 1 sent", sum)
	}
}
