package main

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/app"
)

// The soak's bookkeeping end to end on a real server and store: what the
// server acknowledges is logged, found by the check, and a logged document
// the store lacks is reported lost.
func TestSoakLogsAndVerifiesAcknowledged(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	a, err := app.Start(app.Config{DataDir: data, HTTPAddr: "127.0.0.1:0", UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "acked.bin"))
	if err != nil {
		t.Fatal(err)
	}
	acks := &ackLog{w: bufio.NewWriter(f)}
	n := &soakCounts{}
	s := &soakSender{url: "http://" + a.Addr("http").String() + "/TraceSegments", client: &http.Client{Timeout: time.Minute}}
	b := newBatcher(config{seed: 3, batch: 50}, 1, 0)
	for range 4 {
		if err := s.send(b.next(), n, acks); err != nil {
			t.Fatal(err)
		}
	}
	s.client.CloseIdleConnections()
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if n.acked.Load() != 200 || n.failed.Load() != 0 || n.throttled.Load() != 0 {
		t.Fatalf("acked %d, failed %d, throttled %d; want 200 acknowledged", n.acked.Load(), n.failed.Load(), n.throttled.Load())
	}
	// One document the server never saw.
	if err := packIDs(acks.rec[:], []byte("1-5f000000-0123456789abcdef01234567"), []byte("0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	acks.w.Write(acks.rec[:])
	// A torn record, as a killed run leaves at the log's end: not an error.
	acks.w.Write(acks.rec[:ackRecord/2])
	if err := acks.close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var out strings.Builder
	lost, traces, err := verifyAcked(filepath.Join(dir, "acked.bin"), data, &out)
	if err != nil {
		t.Fatal(err)
	}
	if lost != 1 || traces < 2 || !strings.Contains(out.String(), "1-5f000000-0123456789abcdef01234567") {
		t.Fatalf("lost %d of %d traces, want the one document the server never saw:\n%s", lost, traces, out.String())
	}
}

func TestPackIDsRoundTrip(t *testing.T) {
	var rec [ackRecord]byte
	tid, id := "1-6751f2a0-0123456789abcdef01234567", "fedcba9876543210"
	if err := packIDs(rec[:], []byte(tid), []byte(id)); err != nil {
		t.Fatal(err)
	}
	if gt, gi := unpackIDs(rec[:]); gt != tid || gi != id {
		t.Fatalf("round trip: %s %s", gt, gi)
	}
	doc := []byte(`{"trace_id":"` + tid + `","id":"` + id + `","name":"x","subsegments":[{"id":"aaaaaaaaaaaaaaaa"}]}`)
	if gt, gi, ok := docIDs(doc); !ok || string(gt) != tid || string(gi) != id {
		t.Fatalf("docIDs: %s %s %v", gt, gi, ok)
	}
}
