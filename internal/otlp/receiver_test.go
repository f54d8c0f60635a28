package otlp_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/otlp/translate"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// batch holds one good span and two the server must refuse (zero span id;
// end before start), all in one trace.
func batch(seed byte) (ptrace.Traces, pcommon.TraceID, pcommon.SpanID) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "batch")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	tid := pcommon.TraceID{0x5f, 0x84, 0xc7, seed, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	now := time.Now()
	add := func(sid pcommon.SpanID, start, end time.Time) {
		s := spans.AppendEmpty()
		s.SetTraceID(tid)
		s.SetSpanID(sid)
		s.SetKind(ptrace.SpanKindServer)
		s.SetName("op")
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	}
	good := pcommon.SpanID{seed, 1, 1, 1, 1, 1, 1, 1}
	add(good, now, now.Add(time.Millisecond))
	add(pcommon.SpanID{}, now, now.Add(time.Millisecond))
	add(pcommon.SpanID{seed, 2, 2, 2, 2, 2, 2, 2}, now, now.Add(-time.Second))
	return td, tid, good
}

func post(t *testing.T, url, ctype, encoding string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return xraytest.Post(t, url, ctype, body, "Content-Encoding", encoding)
}

func TestHTTPPartialSuccessJSONGzip(t *testing.T) {
	a := xraytest.Start(t, xraytest.OTLP())
	td, tid, good := batch(1)
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()
	resp, out := post(t, "http://"+a.Addr("otlp-http").String()+"/v1/traces", "application/json", "gzip", gz.Bytes())
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), out)
	}
	er := ptraceotlp.NewExportResponse()
	if err := er.UnmarshalJSON(out); err != nil {
		t.Fatal(err)
	}
	ps := er.PartialSuccess()
	if ps.RejectedSpans() != 2 || !strings.Contains(ps.ErrorMessage(), "span id is all zeros") || !strings.Contains(ps.ErrorMessage(), "InvalidEndTime") {
		t.Errorf("partial success: %d %q", ps.RejectedSpans(), ps.ErrorMessage())
	}
	docs := segments(t, a.Client(t), translate.TraceID(tid), 1)
	if _, ok := docs[good.String()]; !ok || len(docs) != 1 {
		t.Errorf("stored %v, want only %s", docs, good)
	}
}

func TestHTTPErrors(t *testing.T) {
	a := xraytest.Start(t, xraytest.OTLP())
	url := "http://" + a.Addr("otlp-http").String() + "/v1/traces"
	decode := func(ctype string, b []byte) *spb.Status {
		st := &spb.Status{}
		var err error
		if ctype == "application/json" {
			err = protojson.Unmarshal(b, st)
		} else {
			err = proto.Unmarshal(b, st)
		}
		if err != nil {
			t.Fatalf("error body is not a google.rpc.Status (%s): %v: %q", ctype, err, b)
		}
		return st
	}
	for _, c := range []struct {
		name, ctype, enc string
		body             []byte
		status           int
		msg              string
	}{
		{"bad protobuf", "application/x-protobuf", "", []byte{0x0a, 0xff, 0xff, 0xff}, 400, "not an OTLP ExportTraceServiceRequest"},
		{"bad json", "application/json", "", []byte(`{"resourceSpans":[{`), 400, "not an OTLP ExportTraceServiceRequest"},
		{"bad gzip", "application/x-protobuf", "gzip", []byte("plain"), 400, "not gzip"},
		{"unknown encoding", "application/json", "br", []byte("{}"), 415, "Content-Encoding"},
		{"unknown type", "text/plain", "", []byte("hi"), 415, "Content-Type"},
	} {
		resp, out := post(t, url, c.ctype, c.enc, c.body)
		if resp.StatusCode != c.status {
			t.Errorf("%s: HTTP %d, want %d", c.name, resp.StatusCode, c.status)
			continue
		}
		st := decode(resp.Header.Get("Content-Type"), out)
		if !strings.Contains(st.Message, c.msg) || codes.Code(st.Code) != codes.InvalidArgument {
			t.Errorf("%s: status %v %q", c.name, codes.Code(st.Code), st.Message)
		}
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	// Too large: refused from Content-Length before the body is sent
	// (a server that answers mid-upload races the client into a reset).
	big := bytes.Repeat([]byte{0}, 17<<20)
	if resp, _ := xraytest.Post(t, url, "application/x-protobuf", big, "Expect", "100-continue"); resp.StatusCode != 413 {
		t.Errorf("17 MiB body: HTTP %d", resp.StatusCode)
	}
	// An empty request is fine.
	if resp, out := post(t, url, "application/x-protobuf", "", nil); resp.StatusCode != 200 {
		t.Errorf("empty: %d %q", resp.StatusCode, out)
	}
}

func TestGRPCPartialSuccess(t *testing.T) {
	a := xraytest.Start(t, xraytest.OTLP())
	cc, err := grpc.NewClient(a.Addr("otlp-grpc").String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	td, tid, good := batch(2)
	resp, err := ptraceotlp.NewGRPCClient(cc).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(td))
	if err != nil {
		t.Fatal(err)
	}
	if ps := resp.PartialSuccess(); ps.RejectedSpans() != 2 || !strings.Contains(ps.ErrorMessage(), "2 of 3 spans rejected") {
		t.Errorf("partial success: %d %q", ps.RejectedSpans(), ps.ErrorMessage())
	}
	docs := segments(t, a.Client(t), translate.TraceID(tid), 1)
	if _, ok := docs[good.String()]; !ok {
		t.Errorf("good span not stored: %v", docs)
	}
}

// TestServerRoleAndZstd: `roentgen server` runs the receivers too; zstd
// bodies are accepted.
func TestServerRoleAndZstd(t *testing.T) {
	a := xraytest.Start(t, func(c *app.Config) {
		c.Role, c.UDPAddr, c.TCPAddr, c.OTLPHTTPAddr = app.RoleServer, "", "", "127.0.0.1:0"
	})
	if a.Addr("otlp-grpc") != nil || a.Addr("udp") != nil {
		t.Errorf("unexpected listeners: grpc %v udp %v", a.Addr("otlp-grpc"), a.Addr("udp"))
	}
	td, tid, good := batch(3)
	body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	zw, _ := zstd.NewWriter(nil)
	resp, out := post(t, "http://"+a.Addr("otlp-http").String()+"/v1/traces", "application/x-protobuf", "zstd", zw.EncodeAll(body, nil))
	zw.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d: %q", resp.StatusCode, out)
	}
	er := ptraceotlp.NewExportResponse()
	if err := er.UnmarshalProto(out); err != nil || er.PartialSuccess().RejectedSpans() != 2 {
		t.Errorf("response %v: rejected %d", err, er.PartialSuccess().RejectedSpans())
	}
	if _, ok := segments(t, a.Client(t), translate.TraceID(tid), 1)[good.String()]; !ok {
		t.Error("span not stored")
	}
}
