package daemon

import (
	"testing"
	"time"

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
