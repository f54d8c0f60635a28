package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/xray"
)

// scrape reads /metrics into "name{labels}" -> value.
func scrape(t *testing.T, s *server) map[string]float64 {
	t.Helper()
	resp, err := http.Get(s.URL("http") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

func TestMetricsCountKnownTraffic(t *testing.T) {
	s := startServer(t)
	hdr := `{"format": "json", "version": 1}` + "\n"
	id := newTraceID(77)
	var dgrams [][]byte
	for i := range 5 {
		dgrams = append(dgrams, []byte(hdr+segDoc(id, fmt.Sprintf("%016x", i+1), "m")))
	}
	dgrams = append(dgrams,
		[]byte(`{"format":"json","version":2}`+"\n{}"), // bad header
		[]byte(`{"format":"json","version":1}`),        // no newline
		[]byte(hdr),                                    // empty body
		[]byte(hdr+`{"id":"zz"}`),                      // a document that fails validation
	)
	s.sendUDP(dgrams...)
	s.waitDocs(id, 5)
	c := s.client("http")
	if _, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{segDoc(newTraceID(78), "70de5b6f19ff9a0a", "m"), "{}"}}); err != nil {
		t.Fatal(err)
	}
	c.GetEncryptionConfig(context.Background(), &xray.GetEncryptionConfigInput{})
	http.Post(s.URL("http")+"/Nope", "application/json", nil)

	want := map[string]float64{
		`roentgen_udp_datagrams_received_total`:                                                   9,
		`roentgen_udp_datagrams_rejected_total{reason="bad_header"}`:                              1,
		`roentgen_udp_datagrams_rejected_total{reason="no_header"}`:                               1,
		`roentgen_udp_datagrams_rejected_total{reason="empty_body"}`:                              1,
		`roentgen_documents_received_total{source="udp"}`:                                         6,
		`roentgen_documents_accepted_total{source="udp"}`:                                         5,
		`roentgen_documents_rejected_total{code="InvalidSegmentId",source="udp"}`:                 1,
		`roentgen_documents_received_total{source="api"}`:                                         2,
		`roentgen_documents_accepted_total{source="api"}`:                                         1,
		`roentgen_documents_rejected_total{code="InvalidSegmentId",source="api"}`:                 1,
		`roentgen_api_requests_total{operation="PutTraceSegments",status="200"}`:                  1,
		`roentgen_api_requests_total{operation="GetEncryptionConfig",status="200"}`:               1,
		`roentgen_api_requests_total{operation="unknown",status="404"}`:                           1,
		`roentgen_api_request_duration_seconds_count{operation="PutTraceSegments"}`:               1,
		`roentgen_api_request_duration_seconds_bucket{operation="GetEncryptionConfig",le="+Inf"}`: 1,
		`roentgen_ingest_pending_traces`:                                                          0,
	}
	// Both traces summarised: one when BatchGetTraces read it, the other
	// by the background flush a second after its document. The first may
	// be summarised more than once: waitDocs can read it before all five
	// datagrams were taken from the socket, and each later one re-summarises.
	atLeast := map[string]float64{`roentgen_traces_summarised_total`: 2}
	var got map[string]float64
	deadline := time.Now().Add(30 * time.Second)
	for {
		got = scrape(t, s)
		ok := true
		for k, v := range want {
			if got[k] != v {
				ok = false
			}
		}
		for k, v := range atLeast {
			if got[k] < v {
				ok = false
			}
		}
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for k, v := range atLeast {
		if got[k] < v {
			t.Errorf("%s = %v, want at least %v", k, got[k], v)
		}
	}
	if got["roentgen_store_disk_bytes"] <= 0 {
		t.Errorf("roentgen_store_disk_bytes = %v", got["roentgen_store_disk_bytes"])
	}
}
