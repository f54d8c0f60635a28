package xray_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/xray"
	"github.com/roentgen-tracing/roentgen/xray/strategy/sampling"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// daemon is a real UDP socket standing in for the daemon; it parses every
// datagram with Roentgen's own parser.
type daemon struct {
	t    *testing.T
	conn *net.UDPConn
	mu   sync.Mutex
	docs []*segment.Segment
	raw  [][]byte
	got  chan struct{}
	done chan struct{}
}

func newDaemon(t *testing.T) *daemon {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadBuffer(4 << 20)
	d := &daemon{t: t, conn: c, got: make(chan struct{}, 100000), done: make(chan struct{})}
	go d.read()
	t.Cleanup(func() { c.Close(); <-d.done })
	all, _ := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":0,"rate":1},"rules":[]}`))
	if err := xray.Configure(xray.Config{DaemonAddr: c.LocalAddr().String(), SamplingStrategy: all, ServiceVersion: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = xray.Shutdown(context.Background()) })
	return d
}

func (d *daemon) read() {
	defer close(d.done)
	buf := make([]byte, 1<<16)
	for {
		n, err := d.conn.Read(buf)
		if err != nil {
			return
		}
		p := append([]byte(nil), buf[:n]...)
		body, err := segment.SplitDatagram(p)
		if err != nil {
			d.t.Errorf("datagram rejected: %v: %.200s", err, p)
			continue
		}
		docs, err := segment.Parse(body, segment.Options{SkipTraceEpoch: true})
		if err != nil {
			d.t.Errorf("document rejected: %v: %.300s", err, body)
			continue
		}
		d.mu.Lock()
		d.docs = append(d.docs, docs...)
		d.raw = append(d.raw, p)
		d.mu.Unlock()
		d.got <- struct{}{}
	}
}

// wait returns the first n documents, after Flush.
func (d *daemon) wait(n int) []*segment.Segment {
	d.t.Helper()
	if err := xray.Flush(context.Background()); err != nil {
		d.t.Fatal(err)
	}
	timeout := time.After(5 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-d.got:
		case <-timeout:
			d.mu.Lock()
			defer d.mu.Unlock()
			d.t.Fatalf("got %d documents, want %d", len(d.docs), n)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*segment.Segment(nil), d.docs...)
}

func TestSegmentDocumentParses(t *testing.T) {
	d := newDaemon(t)
	ctx, seg := xray.BeginSegment(context.Background(), "checkout")
	if err := xray.AddAnnotation(ctx, "customer", "c-42"); err != nil {
		t.Fatal(err)
	}
	_ = xray.AddAnnotation(ctx, "items", 3)
	_ = xray.AddAnnotation(ctx, "vip", true)
	if err := xray.AddAnnotation(ctx, "bad", []int{1}); err == nil {
		t.Error("an annotation with a slice value was accepted")
	}
	_ = xray.AddMetadata(ctx, "order", map[string]any{"id": "o-1", "total": 12.5, "tags": []string{"a\"b", "\u2028"}})
	_ = xray.AddMetadataToNamespace(ctx, "billing", "currency", "EUR")
	err := xray.Capture(ctx, "charge-card", func(ctx context.Context) error {
		_ = xray.AddAnnotation(ctx, "rule", "standard")
		return errors.New("card declined")
	})
	_ = xray.AddError(ctx, err)
	seg.User = "ops"
	seg.Close(nil)

	docs := d.wait(1)
	s := docs[0]
	if s.Name != "checkout" || s.TraceID != seg.TraceID || s.ID != seg.ID || s.User != "ops" || !s.Fault || s.EndTime < s.StartTime {
		t.Errorf("segment = %+v", s)
	}
	if s.Annotations["customer"] != "c-42" || s.Annotations["items"] != 3.0 || s.Annotations["vip"] != true || len(s.Annotations) != 3 {
		t.Errorf("annotations = %v", s.Annotations)
	}
	md := map[string]json.RawMessage{}
	walkMetadata(t, s.Raw, func(name string, m map[string]json.RawMessage) {
		if name == "checkout" {
			md = m
		}
	})
	if string(md["billing"]) != `{"currency":"EUR"}` || !strings.Contains(string(md["default"]), `"tags":["a\"b","\u2028"]`) {
		t.Errorf("metadata = %s / %s", md["billing"], md["default"])
	}
	if s.Service == nil || s.Service.Version != "1.2.3" || s.AWS == nil {
		t.Errorf("service = %+v aws = %+v", s.Service, s.AWS)
	}
	if len(s.Subsegments) != 1 || s.Subsegments[0].Name != "charge-card" || !s.Subsegments[0].Fault || s.Subsegments[0].Cause == nil {
		t.Fatalf("subsegments = %+v", s.Subsegments)
	}
	if !strings.Contains(string(d.raw[0]), `"sdk":"X-Ray for Go"`) || !strings.HasPrefix(string(d.raw[0]), xray.Header) {
		t.Errorf("datagram = %s", d.raw[0])
	}
}

// A segment closed while a subsegment is still open goes out at once with
// it in progress, and again complete when it closes: nothing waits forever.
func TestOpenSubsegmentEmitsInProgressThenComplete(t *testing.T) {
	d := newDaemon(t)
	ctx, seg := xray.BeginSegment(context.Background(), "job")
	_, sub := xray.BeginSubsegment(ctx, "slow")
	seg.Close(nil)
	first := d.wait(1)[0]
	if len(first.Subsegments) != 1 || !first.Subsegments[0].InProgress {
		t.Fatalf("first document = %+v", first.Subsegments[0])
	}
	sub.Close(nil)
	second := d.wait(1)
	last := second[len(second)-1]
	if len(second) != 2 || last.Subsegments[0].InProgress || last.Subsegments[0].EndTime == 0 {
		t.Fatalf("second document = %+v", last.Subsegments[0])
	}
}

func TestUnsampledEmitsNothing(t *testing.T) {
	d := newDaemon(t)
	none, _ := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":0,"rate":0},"rules":[]}`))
	if err := xray.Configure(xray.Config{SamplingStrategy: none}); err != nil {
		t.Fatal(err)
	}
	ctx, seg := xray.BeginSegment(context.Background(), "quiet")
	_ = xray.Capture(ctx, "x", func(context.Context) error { return nil })
	seg.Close(nil)
	if seg.Sampled || seg.TraceID != "1-00000000-000000000000000000000000" {
		t.Errorf("unsampled segment: sampled=%v trace=%s", seg.Sampled, seg.TraceID)
	}
	_ = xray.Flush(context.Background())
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.docs) != 0 {
		t.Errorf("an unsampled segment was emitted: %+v", d.docs)
	}
}

// More subsegments than the streaming threshold (20) go out as independent
// subsegments that the parser accepts and that name their parent.
func TestManySubsegmentsAreStreamed(t *testing.T) {
	d := newDaemon(t)
	ctx, seg := xray.BeginSegment(context.Background(), "batch")
	for i := 0; i < 25; i++ {
		_ = xray.Capture(ctx, "step", func(context.Context) error { return nil })
	}
	seg.Close(nil)
	docs := d.wait(26)
	var subs, segs int
	for _, doc := range docs {
		switch {
		case doc.IsIndependentSubsegment():
			subs++
			if doc.ParentID != seg.ID || doc.TraceID != seg.TraceID {
				t.Errorf("streamed subsegment parent %s trace %s", doc.ParentID, doc.TraceID)
			}
		case doc.ID == seg.ID:
			segs++
			if len(doc.Subsegments) != 0 {
				t.Errorf("the segment still embeds %d subsegments", len(doc.Subsegments))
			}
		}
	}
	if subs != 25 || segs != 1 {
		t.Errorf("got %d streamed subsegments and %d segments", subs, segs)
	}
}

// A 300 kB segment is split into datagrams that each fit, and together hold
// every subsegment and all its metadata.
func TestLargeSegmentIsStreamedNotDropped(t *testing.T) {
	d := newDaemon(t)
	ctx, seg := xray.BeginSegment(context.Background(), "big")
	blob := strings.Repeat("x", 30_000)
	for i := 0; i < 10; i++ {
		c, sub := xray.BeginSubsegment(ctx, "part")
		_ = xray.AddMetadata(c, "blob", blob)
		_ = xray.Capture(c, "inner", func(context.Context) error { return nil })
		sub.Close(nil)
	}
	seg.Close(nil)
	docs := d.wait(11)
	ids := map[string]bool{}
	for _, raw := range d.raw {
		if len(raw) > 64000 {
			t.Errorf("datagram of %d bytes", len(raw))
		}
	}
	total := 0
	for _, doc := range docs {
		doc.Walk(func(s, _ *segment.Segment) { ids[s.ID] = true })
		walkMetadata(t, doc.Raw, func(name string, m map[string]json.RawMessage) {
			if name == "part" {
				total += len(m["default"])
			}
		})
	}
	if len(ids) != 21 || total < 300_000 {
		t.Errorf("%d ids, %d metadata bytes in %d documents", len(ids), total, len(docs))
	}
}

func TestHandlerContinuesTraceAndAnswersHeader(t *testing.T) {
	d := newDaemon(t)
	srv := httptest.NewServer(xray.Handler(xray.NewFixedSegmentNamer("api"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if xray.GetSegment(r.Context()) == nil {
			t.Error("no segment in the request context")
		}
		w.WriteHeader(http.StatusTooManyRequests)
	})))
	defer srv.Close()
	get := func(h, v string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x?q=1", nil)
		if h != "" {
			req.Header.Set(h, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	r1 := get("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1")
	if got := r1.Header.Get("X-Amzn-Trace-Id"); got != "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1" {
		t.Errorf("response header = %q", got)
	}
	r2 := get("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if got := r2.Header.Get("X-Amzn-Trace-Id"); !strings.HasPrefix(got, "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7") {
		t.Errorf("response header for traceparent = %q", got)
	}
	r3 := get("", "")
	if got := r3.Header.Get("X-Amzn-Trace-Id"); !strings.HasPrefix(got, "Root=1-") || strings.Contains(got, ";") {
		t.Errorf("response header without a trace header = %q", got)
	}
	docs := d.wait(3)
	byTrace := map[string]*segment.Segment{}
	for _, s := range docs {
		byTrace[s.TraceID] = s
	}
	s := byTrace["1-5759e988-bd862e3fe1be46a994272793"]
	if s == nil || s.ParentID != "53995c3f42cd8ad8" || s.Name != "api" || !s.Throttle || !s.Error || s.HTTP == nil {
		t.Fatalf("segment = %+v", s)
	}
	if s.HTTP.Request.Method != "GET" || !strings.HasSuffix(s.HTTP.Request.URL, "/x") || s.HTTP.Request.ClientIP != "127.0.0.1" || s.HTTP.Response.Status != 429 {
		t.Errorf("http = %+v %+v", s.HTTP.Request, s.HTTP.Response)
	}
	if w := byTrace["1-4bf92f35-77b34da6a3ce929d0e0e4736"]; w == nil || w.ParentID != "00f067aa0ba902b7" {
		t.Errorf("traceparent segment = %+v", w)
	}
}

func TestClientInjectsHeaderAndRecordsCall(t *testing.T) {
	d := newDaemon(t)
	var seen string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Get("X-Amzn-Trace-Id")
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(503)
		w.Write([]byte("no"))
	}))
	defer backend.Close()
	ctx, seg := xray.BeginSegment(context.Background(), "caller")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, backend.URL+"/pay?card=secret", nil)
	resp, err := xray.Client(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.Header.Get("X-Amzn-Trace-Id") != "" {
		t.Error("the caller's request was modified")
	}
	seg.Close(nil)
	s := d.wait(1)[0]
	if len(s.Subsegments) != 1 {
		t.Fatalf("subsegments = %+v", s.Subsegments)
	}
	call := s.Subsegments[0]
	want := "Root=" + seg.TraceID + ";Parent=" + call.ID + ";Sampled=1"
	if seen != want {
		t.Errorf("downstream header = %q, want %q", seen, want)
	}
	if call.Namespace != "remote" || !call.Fault || call.HTTP.Response.Status != 503 || call.HTTP.Response.ContentLength != 2 ||
		strings.Contains(call.HTTP.Request.URL, "secret") {
		t.Errorf("call = %+v http=%+v %+v", call, call.HTTP.Request, call.HTTP.Response)
	}
	names := map[string]bool{}
	for _, c := range call.Subsegments {
		names[c.Name] = true
	}
	if !names["connect"] || !names["request"] || !names["response"] {
		t.Errorf("phases = %v", names)
	}
}

// In Lambda the function's segment is a facade: subsegments go out on their
// own with the invocation's trace and parent.
func TestLambdaFacadeSubsegments(t *testing.T) {
	d := newDaemon(t)
	ctx := context.WithValue(context.Background(), xray.LambdaTraceHeaderKey, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	_ = xray.Capture(ctx, "handler-work", func(ctx context.Context) error {
		return xray.Capture(ctx, "inner", func(context.Context) error { return nil })
	})
	s := d.wait(1)[0]
	if !s.IsIndependentSubsegment() || s.TraceID != "1-5759e988-bd862e3fe1be46a994272793" || s.ParentID != "53995c3f42cd8ad8" ||
		len(s.Subsegments) != 1 {
		t.Errorf("lambda subsegment = %+v", s)
	}
}

// Shutdown ships everything queued before it returns.
func TestShutdownDrainsTheQueue(t *testing.T) {
	d := newDaemon(t)
	for i := 0; i < 500; i++ {
		_, seg := xray.BeginSegment(context.Background(), "burst")
		seg.Close(nil)
	}
	if err := xray.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(d.wait(500)); n != 500 {
		t.Errorf("%d of 500 documents", n)
	}
}

func TestHandlerPanicIsAFault(t *testing.T) {
	d := newDaemon(t)
	h := xray.Handler(xray.NewFixedSegmentNamer("api"), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("nil map")
	}))
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	}()
	s := d.wait(1)[0]
	if !s.Fault || s.Cause == nil || len(s.Cause.Exceptions) != 1 || s.Cause.Exceptions[0].Message != "nil map" {
		t.Errorf("segment = %+v cause = %+v", s, s.Cause)
	}
}

// walkMetadata calls fn with the name and metadata of a raw document and of
// every subsegment in it: segment.Parse leaves metadata in Raw.
func walkMetadata(t *testing.T, raw []byte, fn func(name string, md map[string]json.RawMessage)) {
	t.Helper()
	type node struct {
		Name        string                     `json:"name"`
		Metadata    map[string]json.RawMessage `json:"metadata"`
		Subsegments []json.RawMessage          `json:"subsegments"`
	}
	var n node
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatalf("document %s: %v", raw, err)
	}
	fn(n.Name, n.Metadata)
	for _, sub := range n.Subsegments {
		walkMetadata(t, sub, fn)
	}
}
