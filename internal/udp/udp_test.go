package udp_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/udp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const header = `{"format": "json", "version": 1}` + "\n"

func doc(traceID, id string) string {
	now := float64(time.Now().Unix())
	return fmt.Sprintf(`{"trace_id":%q,"id":%q,"name":"svc","start_time":%f,"end_time":%f}`, traceID, id, now-1, now)
}

func TestDatagramsStoredAndBadOnesCounted(t *testing.T) {
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := metrics.New(nil)
	in := ingest.New(ingest.Config{Store: st, Metrics: m})
	defer in.Close()
	srv := &udp.Server{Ingest: in, Metrics: m}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	traceID := fmt.Sprintf("1-%08x-%024x", time.Now().Unix(), 1)
	const good = 300
	for i := range good {
		hdr := header
		if i%2 == 1 {
			hdr = `{"format":"json","version":1}` + "\n" // Node SDK spacing
		}
		if _, err := conn.Write([]byte(hdr + doc(traceID, fmt.Sprintf("%016x", i+1)))); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			// Let the readers catch up: a loaded machine's socket buffer
			// (net.core.rmem_max) may hold fewer than 300 datagrams.
			for deadline := time.Now().Add(30 * time.Second); testutil.ToFloat64(m.DatagramsReceived) < float64(i+1) && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		}
	}
	bad := map[string]string{
		"bad_header": `{"format":"xml","version":1}` + "\n{}",
		"no_header":  `{"id":"x"}`,
		"empty_body": header,
	}
	for _, d := range bad {
		conn.Write([]byte(d))
	}
	conn.Write([]byte(header + `{"trace_id":"1-00000001-000000000000000000000001"}`)) // parses as a datagram, rejected as a document
	conn.Write([]byte(header + strings.Repeat("{", 1000)))                            // garbage must not crash anything

	// Stop drains the socket and the queue: everything sent is counted.
	time.Sleep(50 * time.Millisecond)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	got, err := st.Trace(context.Background(), traceID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Docs) != good {
		t.Errorf("stored %d documents, want %d", len(got.Docs), good)
	}
	if v := testutil.ToFloat64(m.DatagramsReceived); v != float64(good+len(bad)+2) {
		t.Errorf("datagrams received = %v, want %d", v, good+len(bad)+2)
	}
	for reason := range bad {
		if v := testutil.ToFloat64(m.DatagramsRejected.WithLabelValues(reason)); v != 1 {
			t.Errorf("rejected{%s} = %v, want 1", reason, v)
		}
	}
	if v := testutil.ToFloat64(m.DocumentsAccepted.WithLabelValues("udp")); v != good {
		t.Errorf("documents accepted = %v", v)
	}
	if v := testutil.ToFloat64(m.DocumentsRejected.WithLabelValues("udp", "InvalidSegmentId")) + testutil.ToFloat64(m.DocumentsRejected.WithLabelValues("udp", "MalformedDocument")); v != 2 {
		t.Errorf("documents rejected (invalid id + malformed) = %v, want 2", v)
	}
}

func TestStartOnBusyAddressFails(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	srv := &udp.Server{}
	if err := srv.Start(pc.LocalAddr().String()); err == nil {
		srv.Stop()
		t.Fatal("Start on a busy port succeeded")
	}
}

// waitFor polls a counter: UDP ingest is asynchronous.
func waitFor(t *testing.T, what string, c func() float64, want float64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); c() != want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", what, c(), want)
		}
	}
}

// Past ingest's memory bound datagrams are shed and counted as dropped,
// and as documents rejected for ThrottledException, never queued without
// bound; once the backlog is summarised they are stored again.
func TestDatagramsShedAtTheMemoryBound(t *testing.T) {
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := metrics.New(nil)
	in := ingest.New(ingest.Config{Store: st, Metrics: m, FlushDelay: time.Hour, PendingBytes: 1 << 20, MaxPendingBytes: 100})
	defer in.Close()
	srv := &udp.Server{Ingest: in, Metrics: m}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	conn, err := net.Dial("udp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	send := func(n int) {
		if _, err := conn.Write([]byte(header + doc(fmt.Sprintf("1-%08x-%024x", time.Now().Unix(), n), "aaaaaaaaaaaaaaaa"))); err != nil {
			t.Fatal(err)
		}
	}
	accepted := func() float64 { return testutil.ToFloat64(m.DocumentsAccepted.WithLabelValues("udp")) }
	send(1)
	waitFor(t, "accepted", accepted, 1)
	send(2)
	waitFor(t, "dropped", func() float64 { return testutil.ToFloat64(m.DatagramsDropped) }, 1)
	waitFor(t, "rejected{ThrottledException}", func() float64 {
		return testutil.ToFloat64(m.DocumentsRejected.WithLabelValues("udp", ingest.CodeThrottled))
	}, 1)
	in.Sync(context.Background())
	send(3)
	waitFor(t, "accepted", accepted, 2)
}
