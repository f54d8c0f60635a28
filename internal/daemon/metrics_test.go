package daemon

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// /metrics counts what happened to known traffic; /health answers.
func TestMetricsEndpoint(t *testing.T) {
	api := xraytest.NewAPI(t, t.TempDir())
	cfg := testConfig(api.URL)
	cfg.MetricsAddr = "127.0.0.1:0"
	d := startDaemon(t, cfg)
	run := time.Now().UnixNano()
	send(t, d.Addr("udp").String(), run, 2, 5)
	c, _ := dialUDP(d.Addr("udp").String())
	c.Write([]byte("{}"))                                     // no header
	c.Write([]byte(`{"format":"json","version":2}` + "\n{}")) // bad header
	c.Close()
	waitStored(t, api, run, 2, 10, 5*time.Second)
	get := func(path string) string {
		resp, err := http.Get("http://" + d.Addr("metrics").String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var body string
	waitFor(t, "the upload to be counted", 5*time.Second, func() bool {
		body = get("/metrics")
		return strings.Contains(body, "roentgen_daemon_segments_uploaded_total 10")
	})
	for _, want := range []string{
		"roentgen_daemon_segments_received_total 12",
		`roentgen_daemon_segments_dropped_total{reason="no_header"} 1`,
		`roentgen_daemon_segments_dropped_total{reason="bad_header"} 1`,
		"roentgen_daemon_upstream_up 1",
		"roentgen_daemon_upstream_latency_seconds_count",
		"roentgen_daemon_spool_segments 0",
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The receive buffer the kernel granted is metered (it may cap it).
	if d.recv.granted > 0 && !strings.Contains(body, fmt.Sprintf("roentgen_daemon_udp_receive_buffer_bytes %g\n", float64(d.recv.granted))) {
		t.Errorf("/metrics lacks the receive buffer of %d bytes", d.recv.granted)
	}
	if h := get("/health"); !strings.Contains(h, `"role":"daemon"`) || !strings.Contains(h, `"upstream_up":true`) {
		t.Errorf("/health = %s", h)
	}
}
