package otlp_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/otlp"
	"github.com/roentgen-tracing/roentgen/internal/otlp/translate"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// FuzzHTTPTraces posts arbitrary bodies as OTLP/HTTP protobuf and JSON
// through the real translation, ingest path and store: the receiver answers
// 200 with a decodable response or 400, and never crashes.
func FuzzHTTPTraces(f *testing.F) {
	td, _, _ := batch(9)
	s := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty()
	s.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	s.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	s.SetKind(ptrace.SpanKindClient)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	s.Attributes().PutStr("http.url", "http://x/y")
	pb, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	js, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	f.Add(pb, false)
	f.Add(js, true)
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"01"}]}]}]}`), true)
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00}, false)

	st, err := pebble.Open(f.TempDir(), pebble.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	in := ingest.New(ingest.Config{Store: st, Logger: logger})
	defer in.Close()
	r, err := otlp.Start(otlp.Config{Ingest: in, Translate: translate.Config{IndexAll: true}, Logger: logger})
	if err != nil {
		f.Fatal(err)
	}
	defer r.Stop()
	h := r.HTTPHandler()
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		ct := "application/x-protobuf"
		if isJSON {
			ct = "application/json"
		}
		req := httptest.NewRequest("POST", otlp.TracesPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			er := ptraceotlp.NewExportResponse()
			var err error
			if isJSON {
				err = er.UnmarshalJSON(w.Body.Bytes())
			} else {
				err = er.UnmarshalProto(w.Body.Bytes())
			}
			if err != nil {
				t.Fatalf("200 with an undecodable response: %v", err)
			}
		case http.StatusBadRequest:
		default:
			t.Fatalf("HTTP %d: %s", w.Code, w.Body.Bytes())
		}
	})
}
