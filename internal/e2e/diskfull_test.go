package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// The real server on a small tmpfs that fills up: PutTraceSegments answers
// each document StorageFull, UDP counts them rejected by that code, reads
// are served throughout, /metrics and /health say the store is not
// writable; once space is freed, writes resume by themselves. A restart on
// the full disk serves reads, and then writes once space is back. Every
// acknowledged segment is readable at the end.
func TestDiskFullEndToEnd(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=96m"); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (%v): run as root to test a full disk", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	data := filepath.Join(dir, "data")
	ctx := context.Background()

	s := &server{Server: xraytest.Start(t, xraytest.InDir(data)), t: t}
	acked := map[string]int{} // trace id -> segments acknowledged
	n := 0
	put := func(s *server) (ok, full int) {
		t.Helper()
		n++
		id := newTraceID(1000 + n)
		var docs []string
		for i := range 5 {
			docs = append(docs, segDoc(id, fmt.Sprintf("%016x", i+1), "svc"))
		}
		out, err := s.client("http").PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
		if err != nil {
			t.Fatalf("PutTraceSegments: %v", err)
		}
		for _, u := range out.UnprocessedTraceSegments {
			if *u.ErrorCode != "StorageFull" || !strings.Contains(*u.Message, "disk is full") {
				t.Fatalf("unprocessed %s: %s, want StorageFull", *u.ErrorCode, *u.Message)
			}
		}
		if len(out.UnprocessedTraceSegments) == 0 {
			acked[id] = len(docs)
		}
		return len(docs) - len(out.UnprocessedTraceSegments), len(out.UnprocessedTraceSegments)
	}
	readAll := func(s *server) {
		t.Helper()
		var ids []string
		for id := range acked {
			ids = append(ids, id)
		}
		for id, tr := range s.waitTraces(ids...) {
			if len(tr.Segments) != acked[id] {
				t.Fatalf("trace %s: %d segments, %d acknowledged", id, len(tr.Segments), acked[id])
			}
		}
		sums, err := s.client("http").GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{
			StartTime: ptr(time.Now().Add(-time.Hour)), EndTime: ptr(time.Now().Add(time.Minute))})
		if err != nil {
			t.Fatalf("GetTraceSummaries: %v", err)
		}
		if len(sums.TraceSummaries) == 0 {
			t.Fatal("GetTraceSummaries found nothing")
		}
	}
	for range 10 {
		if ok, _ := put(s); ok != 5 {
			t.Fatal("a write was refused before the disk filled")
		}
	}

	free := fillDisk(t, dir, 2<<20)
	if _, full := put(s); full != 5 {
		t.Fatalf("%d of 5 documents refused on a full disk", full)
	}
	hdr := `{"format": "json", "version": 1}` + "\n"
	s.sendUDP([]byte(hdr + segDoc(newTraceID(999), "00000000000000aa", "udp")))
	waitMetric(t, s, `roentgen_documents_rejected_total{code="StorageFull",source="udp"}`, 1)
	m := scrape(t, s)
	if m["roentgen_store_writable"] != 0 || m["roentgen_store_writes_refused_total"] == 0 {
		t.Fatalf("writable %v, refused %v on a full disk", m["roentgen_store_writable"], m["roentgen_store_writes_refused_total"])
	}
	if h := get(t, s.URL("http")+"/health"); !strings.Contains(h, `"status":"ok"`) || !strings.Contains(h, `"store":"read-only"`) {
		t.Fatalf("/health on a full disk: %s", h)
	}
	readAll(s)

	free()
	if ok, _ := put(s); ok != 5 {
		t.Fatal("writes did not resume once space was freed")
	}
	if scrape(t, s)["roentgen_store_writable"] != 1 {
		t.Fatal("roentgen_store_writable is not 1 once space was freed")
	}
	readAll(s)

	// A restart on a full disk serves reads, and writes once space is back.
	s.Stop()
	free = fillDisk(t, dir, 2<<20)
	s = &server{Server: xraytest.Start(t, xraytest.InDir(data)), t: t}
	readAll(s)
	if _, full := put(s); full != 5 {
		t.Fatalf("%d of 5 documents refused after a start on a full disk", full)
	}
	free()
	if ok, _ := put(s); ok != 5 {
		t.Fatal("writes did not resume once space was freed after a start on a full disk")
	}
	readAll(s)
}

func ptr[T any](v T) *T { return &v }

// fillDisk leaves about leave bytes free on dir's file system; the
// returned function frees the space again.
func fillDisk(t *testing.T, dir string, leave int64) (free func()) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, fmt.Sprintf("filler-%d", time.Now().UnixNano()))
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n := int64(st.Bavail)*st.Bsize - leave; n > 0 {
		if err := syscall.Fallocate(int(f.Fd()), 0, 0, n); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
}

func waitMetric(t *testing.T, s *server, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for scrape(t, s)[name] < want {
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %v", name, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
