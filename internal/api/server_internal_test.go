package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/groups"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/sampling"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/telemetry"
)

func newTestServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	in := ingest.New(ingest.Config{Store: st})
	t.Cleanup(in.Close)
	grp, err := groups.New(ctx, groups.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	smp, err := sampling.New(ctx, sampling.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, Ingest: in, Groups: grp, Sampling: smp, Telemetry: telemetry.New(st, nil),
		Graph: graph.NewAggregator(graph.AggregatorConfig{Store: st, Groups: grp.Matching})})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

type errBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func call(t *testing.T, hs *httptest.Server, method, path, body string) (*http.Response, errBody, string) {
	t.Helper()
	req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e errBody
	_ = json.Unmarshal(b, &e)
	return resp, e, string(b)
}

func TestErrorShapes(t *testing.T) {
	s, hs := newTestServer(t)
	s.ops["/Boom"] = &op{name: "Boom", handle: func(context.Context, []byte) (any, error) { panic("kaboom") }}
	cases := []struct {
		method, path, body string
		status             int
		typ, msg           string
	}{
		{"POST", "/Boom", "{}", 500, "InternalFailure", "Boom failed"},
		{"POST", "/Nope", "{}", 404, "UnknownOperationException", "/Nope"},
		{"PUT", "/TraceSegments", "{}", 405, "InvalidRequestException", "PutTraceSegments takes POST"},
		{"POST", "/TraceSegments", "[1]", 400, "InvalidRequestException", "must be a JSON object"},
		{"POST", "/TraceSegments", `{"TraceSegmentDocuments":[1]}`, 400, "InvalidRequestException", "TraceSegmentDocuments"},
		{"POST", "/Traces", `{"TraceIds":["` + strings.Repeat("a", 36) + `"]}`, 400, "InvalidRequestException", "1 to 35"},
		{"POST", "/Traces", `{"TraceIds":["a"],"NextToken":"9"}`, 400, "InvalidRequestException", "NextToken"},
		{"POST", "/TraceSummaries", `{"StartTime":10,"EndTime":10}`, 400, "InvalidRequestException", "EndTime"},
		{"POST", "/TraceSummaries", `{"StartTime":1,"EndTime":10,"TimeRangeType":"Sometimes"}`, 400, "InvalidRequestException", "TimeRangeType"},
		{"POST", "/TelemetryRecords", `{}`, 400, "InvalidRequestException", "TelemetryRecords is required"},
		{"POST", "/TelemetryRecords", `{"TelemetryRecords":[],"EC2InstanceId":"` + strings.Repeat("i", 21) + `"}`, 400, "InvalidRequestException", "EC2InstanceId"},
		{"POST", "/Insight", `{"InsightId":"x"}`, 400, "InvalidRequestException", `InsightId "x" is not a UUID`},
	}
	for _, tc := range cases {
		resp, e, raw := call(t, hs, tc.method, tc.path, tc.body)
		if resp.StatusCode != tc.status || e.Type != tc.typ || resp.Header.Get("X-Amzn-ErrorType") != tc.typ || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s %s %s: %d %s %s", tc.method, tc.path, tc.body, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), raw)
		}
		if resp.Header.Get("X-Amzn-RequestId") == "" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: headers %v", tc.path, resp.Header)
		}
	}
	// The server keeps serving after the panic.
	if resp, _, raw := call(t, hs, "POST", "/EncryptionConfig", ""); resp.StatusCode != 200 || !strings.Contains(raw, `"Status":"ACTIVE"`) {
		t.Errorf("after a panic: %d %s", resp.StatusCode, raw)
	}
}

func TestRequestIDsDiffer(t *testing.T) {
	_, hs := newTestServer(t)
	seen := map[string]bool{}
	for range 20 {
		resp, _, _ := call(t, hs, "POST", "/EncryptionConfig", "{}")
		id := resp.Header.Get("X-Amzn-RequestId")
		if len(id) != 36 || seen[id] {
			t.Fatalf("request id %q (repeated: %v)", id, seen[id])
		}
		seen[id] = true
	}
}

func TestSuccessfulOutputsUseEmptyListsNotNull(t *testing.T) {
	_, hs := newTestServer(t)
	_, _, raw := call(t, hs, "POST", "/TraceSegments", `{"TraceSegmentDocuments":[]}`)
	if raw != `{"UnprocessedTraceSegments":[]}` {
		t.Errorf("PutTraceSegments = %s", raw)
	}
	_, _, raw = call(t, hs, "POST", "/Traces", `{"TraceIds":["1-581cf771-a006649127e371903a2de979"]}`)
	if raw != `{"Traces":[],"UnprocessedTraceIds":["1-581cf771-a006649127e371903a2de979"]}` {
		t.Errorf("BatchGetTraces = %s", raw)
	}
	_, _, raw = call(t, hs, "POST", "/TelemetryRecords", `{"TelemetryRecords":[]}`)
	if raw != `{}` {
		t.Errorf("PutTelemetryRecords = %s", raw)
	}
}

func TestTelemetryStored(t *testing.T) {
	s, hs := newTestServer(t)
	body := `{"Hostname":"h","TelemetryRecords":[{"Timestamp":1000,"SegmentsReceivedCount":5},{"Timestamp":2000.5,"SegmentsSentCount":4}]}`
	if resp, _, raw := call(t, hs, "POST", "/TelemetryRecords", body); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	count := func() (n int) {
		_ = s.cfg.Telemetry.List(context.Background(), func(telemetry.Entry) bool { n++; return true })
		return n
	}
	if count() != 2 {
		t.Fatalf("stored %d records", count())
	}
}

// A request the client abandoned is recorded as 499, not logged as a failure.
func TestClientCanceledIsNotAFailure(t *testing.T) {
	s, _ := newTestServer(t)
	var logged strings.Builder
	s.log = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s.ops["/Slow"] = &op{name: "Slow", handle: func(ctx context.Context, _ []byte) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("POST", "/Slow", strings.NewReader("{}")).WithContext(ctx)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != statusClientClosed {
		t.Fatalf("status %d, want %d", rec.Code, statusClientClosed)
	}
	if logged.Len() != 0 {
		t.Fatalf("a canceled request was logged: %s", logged.String())
	}
}

// PutTraceSegments reads bodies into reused buffers (op.pooledBody): each
// request's documents must still be stored as sent after later requests
// overwrote the buffer, on the fast path and on the general one.
func TestPooledBodiesDoNotLeakIntoDocuments(t *testing.T) {
	_, hs := newTestServer(t)
	now := time.Now()
	type sent struct{ traceID, doc string }
	var all []sent
	for i := range 40 {
		traceID := fmt.Sprintf("1-%08x-%024x", now.Unix(), i)
		doc := fmt.Sprintf(`{"trace_id":"%s","id":"%016x","name":"service-%03d","start_time":%d.5,"end_time":%d.75}`,
			traceID, i+1, i, now.Unix()-1, now.Unix()-1)
		quoted, _ := json.Marshal(doc)
		body := `{"TraceSegmentDocuments":[` + string(quoted) + `]}`
		if i%2 == 1 {
			// A member the fast path does not expect sends the body
			// through the general decoder.
			body = `{"Extra":1,"TraceSegmentDocuments":[` + string(quoted) + `]}`
		}
		if resp, _, out := call(t, hs, http.MethodPost, "/TraceSegments", body); resp.StatusCode != http.StatusOK || !strings.Contains(out, `"UnprocessedTraceSegments":[]`) {
			t.Fatalf("PutTraceSegments %d: HTTP %d %s", i, resp.StatusCode, out)
		}
		all = append(all, sent{traceID, doc})
	}
	for _, s := range all {
		_, _, out := call(t, hs, http.MethodPost, "/Traces", `{"TraceIds":["`+s.traceID+`"]}`)
		var got struct {
			Traces []struct{ Segments []struct{ Document string } }
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Traces) != 1 || len(got.Traces[0].Segments) != 1 {
			t.Fatalf("BatchGetTraces %s: %v %s", s.traceID, err, out)
		}
		if d := got.Traces[0].Segments[0].Document; d != s.doc {
			t.Fatalf("trace %s stored\n%s\nbut was sent\n%s", s.traceID, d, s.doc)
		}
	}
}

// A body declared larger than MaxBodyBytes is refused before it is read,
// so a client that asks "Expect: 100-continue" never uploads it and always
// sees the 413 instead of racing a connection reset.
func TestOversizeBodyRefusedUnread(t *testing.T) {
	_, hs := newTestServer(t)
	body := strings.NewReader(strings.Repeat("x", MaxBodyBytes+1))
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/TraceSegments", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Expect", "100-continue")
	c := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e errBody
	json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || e.Type != "InvalidRequestException" || !strings.Contains(e.Message, "exceeds") {
		t.Fatalf("HTTP %d %+v", resp.StatusCode, e)
	}
	if n := body.Len(); n < MaxBodyBytes {
		t.Errorf("the client uploaded %d bytes of a body the server refused", MaxBodyBytes+1-n)
	}
}
