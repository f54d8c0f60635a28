package daemon

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// waitFor polls cond (a metric, a count) until it holds.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The upstream goes down under load: batches go to the disk spool; the
// daemon is restarted during the outage and keeps the spool; the upstream
// comes back and every segment of both runs arrives, once.
func TestOutageAndRestartLoseNothing(t *testing.T) {
	api := xraytest.NewAPI(t, t.TempDir())
	up := newRestartable(t, api)
	cfg := testConfig(up.URL())
	cfg.SpoolDir = t.TempDir()
	d1 := startDaemon(t, cfg)
	run := time.Now().UnixNano()

	// Up: the first traces go straight through.
	send(t, d1.Addr("udp").String(), run, 4, 25)
	if n := waitStored(t, api, run, 4, 100, 5*time.Second); n != 100 {
		t.Fatalf("%d of 100 stored before the outage", n)
	}

	up.down()
	const traces, per = 40, 25 // 1,000 more segments during the outage
	for tr := 4; tr < 24; tr++ {
		sendTrace(t, d1.Addr("udp").String(), run, tr, per)
	}
	waitFor(t, "the first run to spool its 500 segments", 10*time.Second, func() bool {
		return testutil.ToFloat64(d1.m.spooled) >= 500
	})
	if err := d1.Stop(); err != nil {
		t.Fatal(err)
	}

	d2 := startDaemon(t, cfg) // same spool directory
	if _, docs, _ := d2.spool.stats(); docs != 500 {
		t.Fatalf("the restarted daemon found %d segments in the spool, want 500", docs)
	}
	for tr := 24; tr < 44; tr++ {
		sendTrace(t, d2.Addr("udp").String(), run, tr, per)
	}
	waitFor(t, "the second run to spool its 500 segments", 10*time.Second, func() bool {
		return testutil.ToFloat64(d2.m.spooled) >= 500
	})
	if testutil.ToFloat64(d2.m.upstreamUp) != 0 {
		t.Error("upstream_up is 1 during the outage")
	}

	up.up()
	if n := waitStored(t, api, run, 4+traces, 100+traces*per, 15*time.Second); n != 100+traces*per {
		t.Fatalf("%d of %d segments stored after the outage", n, 100+traces*per)
	}
	waitFor(t, "the spool to empty", 5*time.Second, func() bool { _, docs, _ := d2.spool.stats(); return docs == 0 })
	if got := testutil.ToFloat64(d2.m.replayed); got != 1000 {
		t.Errorf("replayed %v segments, want 1000", got)
	}
	if got := testutil.ToFloat64(d2.m.upstreamUp); got != 1 {
		t.Errorf("upstream_up = %v after the outage", got)
	}
	for _, reason := range []string{"spool_full", "spool_corrupt", "spillover", "rejected", "shutdown"} {
		if v := testutil.ToFloat64(d2.m.dropped.WithLabelValues(reason)); v != 0 {
			t.Errorf("dropped{%s} = %v", reason, v)
		}
	}
}

func sendTrace(t *testing.T, addr string, run int64, trace, per int) {
	t.Helper()
	c, err := dialUDP(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range per {
		if _, err := c.Write([]byte(header + doc(run, trace, i))); err != nil {
			t.Fatal(err)
		}
	}
}
