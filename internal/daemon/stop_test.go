package daemon

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// An app emits 200 segments and the daemon is told to stop at the same
// moment: all 200 reach the server, read back with BatchGetTraces.
func TestStopDeliversWhatTheAppSent(t *testing.T) {
	api := xraytest.NewAPI(t, t.TempDir())
	d := startDaemon(t, testConfig(api.URL))
	run := time.Now().UnixNano()
	sent := make(chan struct{})
	go func() { defer close(sent); send(t, d.Addr("udp").String(), run, 10, 20) }()
	<-sent // the last datagram has left the app: now the daemon stops
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := countStored(t, api.Client(t), run, 10); n != 200 {
		t.Fatalf("%d of 200 segments stored", n)
	}
}

// An upstream that never answers cannot hold the daemon past its shutdown
// timeout: what it did not take is in the disk spool, for the next run.
func TestStopIsBoundedAndSpools(t *testing.T) {
	release := make(chan struct{})
	hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	up := httptest.NewServer(hang)
	defer up.Close()
	defer close(release)
	cfg := testConfig(up.URL)
	cfg.SpoolDir = t.TempDir()
	cfg.ShutdownTimeout = time.Second
	cfg.RequestTimeout = time.Minute // only the shutdown deadline ends the calls
	d := startDaemon(t, cfg)
	run := time.Now().UnixNano()
	send(t, d.Addr("udp").String(), run, 4, 25)
	waitFor(t, "the datagrams to be read", 5*time.Second, func() bool { return testutil.ToFloat64(d.m.received) == 100 })
	start := time.Now()
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("Stop took %s with a 1s shutdown timeout", took)
	}
	var dr drops
	s := mustOpen(t, cfg.SpoolDir, DefaultSpoolSize, &dr)
	defer s.close()
	if _, docs, _ := s.stats(); docs != 100 {
		t.Errorf("the spool holds %d of 100 segments", docs)
	}
}

// Without a disk spool, what a down upstream did not take by the deadline
// is dropped and counted as such.
func TestStopWithoutSpoolCountsWhatIsLost(t *testing.T) {
	up := newRestartable(t, http.NotFoundHandler())
	up.down()
	cfg := testConfig(up.URL())
	cfg.ShutdownTimeout = 500 * time.Millisecond
	d := startDaemon(t, cfg)
	send(t, d.Addr("udp").String(), time.Now().UnixNano(), 2, 10)
	waitFor(t, "the datagrams to be read", 5*time.Second, func() bool { return testutil.ToFloat64(d.m.received) == 20 })
	d.Stop()
	if got := testutil.ToFloat64(d.m.dropped.WithLabelValues("shutdown")); got != 20 {
		t.Errorf("dropped{shutdown} = %v, want 20", got)
	}
}
