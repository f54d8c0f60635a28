package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(sendersEnv) != "" { // the two-server benchmark's load generator (senders_test.go)
		os.Exit(sendersMain())
	}
	goleak.VerifyTestMain(m)
}

var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

func start(t *testing.T, dir string, now func() time.Time, retention time.Duration) *xraytest.Server {
	t.Helper()
	return xraytest.Start(t, xraytest.InDir(dir), func(c *app.Config) { c.Now, c.Retention = now, retention })
}

func post(t *testing.T, a *xraytest.Server, listener, path, body string) (int, map[string]any) {
	t.Helper()
	resp, b := xraytest.Post(t, a.URL(listener)+path, "application/json", []byte(body))
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func putDoc(t *testing.T, a *xraytest.Server, traceID, id string, at time.Time) {
	t.Helper()
	s := float64(at.Unix())
	d := fmt.Sprintf(`{"trace_id":%q,"id":%q,"name":"svc","start_time":%f,"end_time":%f}`, traceID, id, s, s+0.5)
	b, _ := json.Marshal(map[string]any{"TraceSegmentDocuments": []string{d}})
	code, out := post(t, a, "http", "/TraceSegments", string(b))
	if code != 200 || len(out["UnprocessedTraceSegments"].([]any)) != 0 {
		t.Fatalf("PutTraceSegments: %d %v", code, out)
	}
}

func traces(t *testing.T, a *xraytest.Server, ids ...string) (found, unprocessed int) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"TraceIds": ids})
	code, out := post(t, a, "tcp", "/Traces", string(b))
	if code != 200 {
		t.Fatalf("BatchGetTraces: %d %v", code, out)
	}
	return len(out["Traces"].([]any)), len(out["UnprocessedTraceIds"].([]any))
}

func TestHealthAndListeners(t *testing.T) {
	a := xraytest.Start(t, func(c *app.Config) { c.Pprof = true })
	defer a.Stop()
	for _, name := range []string{"http", "tcp", "udp"} {
		if a.Addr(name) == nil {
			t.Errorf("no %s listener", name)
		}
	}
	resp, err := client.Get("http://" + a.Addr("http").String() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"status":"ok"`) {
		t.Errorf("/health = %d %s", resp.StatusCode, b)
	}
	// The TCP side serves the API too.
	if code, out := post(t, a, "tcp", "/EncryptionConfig", ""); code != 200 || out["EncryptionConfig"] == nil {
		t.Errorf("GetEncryptionConfig on tcp = %d %v", code, out)
	}
	// Go's profiler (--pprof), for measuring the server in its own process.
	resp, err = client.Get("http://" + a.Addr("http").String() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "goroutine profile:") {
		t.Errorf("/debug/pprof/goroutine = %d %.200s", resp.StatusCode, b)
	}
}

func TestRestartKeepsEverythingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	a := start(t, dir, nil, 0)
	now := time.Now()
	var ids []string
	for i := range 20 {
		id := fmt.Sprintf("1-%08x-%024x", now.Unix(), i)
		putDoc(t, a, id, fmt.Sprintf("%016x", i+1), now)
		ids = append(ids, id)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	a = start(t, dir, nil, 0)
	defer a.Stop()
	for i := 0; i < len(ids); i += 5 {
		if found, _ := traces(t, a, ids[i:i+5]...); found != 5 {
			t.Errorf("after restart found %d of 5 traces", found)
		}
	}
}

func TestRetentionDropsOldPartitions(t *testing.T) {
	var clock atomic.Int64
	real := time.Now()
	clock.Store(real.Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	a := start(t, t.TempDir(), now, 2*time.Hour)
	defer a.Stop()

	old := fmt.Sprintf("1-%08x-%024x", real.Unix()-3600*5, 1)
	recent := fmt.Sprintf("1-%08x-%024x", real.Unix(), 2)
	putDoc(t, a, old, "aaaaaaaaaaaaaaaa", real.Add(-5*time.Hour))
	putDoc(t, a, recent, "bbbbbbbbbbbbbbbb", real)

	n, err := a.EnforceRetention(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("EnforceRetention = %d, %v; want 1 partition", n, err)
	}
	if found, gone := traces(t, a, old, recent); found != 1 || gone != 1 {
		t.Errorf("after retention: %d found, %d unprocessed; want the old one gone", found, gone)
	}
	// Three hours on, the recent trace's partition is past the retention too.
	clock.Add(4 * 3600)
	if n, err := a.EnforceRetention(context.Background()); err != nil || n != 1 {
		t.Errorf("second EnforceRetention = %d, %v", n, err)
	}
	if found, _ := traces(t, a, recent); found != 0 {
		t.Error("the recent trace survived past retention")
	}
}

func TestBusyPortFailsCleanly(t *testing.T) {
	a := start(t, t.TempDir(), nil, 0)
	defer a.Stop()
	_, err := app.Start(app.Config{DataDir: t.TempDir(), HTTPAddr: a.Addr("http").String(), UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), a.Addr("http").String()) {
		t.Errorf("Start on a busy port: %v; want an error naming the address", err)
	}
}

// A server answering queries is busy though nothing is ingested (a query
// node, dashboards over a quiet spell): requests count as activity for
// the idle checks, but scrapes and health checks, which come anyway, not.
func TestQueriesCountAsActivity(t *testing.T) {
	a := xraytest.Start(t)
	defer a.Stop()
	before := a.Activity()
	for _, path := range []string{"/metrics", "/health"} {
		resp, err := client.Get(a.URL("http") + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := a.Activity(); got != before {
		t.Errorf("activity %d after a scrape and a health check, want %d", got, before)
	}
	now := time.Now().Unix()
	if code, out := post(t, a, "http", "/TraceSummaries", fmt.Sprintf(`{"StartTime":%d,"EndTime":%d}`, now-60, now)); code != 200 {
		t.Fatalf("GetTraceSummaries: %d %v", code, out)
	}
	if got := a.Activity(); got == before {
		t.Error("a GetTraceSummaries call did not count as activity")
	}
}
