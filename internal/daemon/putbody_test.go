package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// trickyDocuments are valid segment documents whose bytes need every kind
// of escaping in a JSON string: quotes, backslashes and escapes inside
// their strings, raw tabs, newlines and carriage returns between tokens,
// and non-ASCII text (two-, three- and four-byte UTF-8, U+2028).
func trickyDocuments(traceID string, n int) [][]byte {
	now := float64(time.Now().Unix())
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = fmt.Appendf(nil, "{\"trace_id\":%q,\r\n\t\"id\":\"%016x\",\"name\":\"svc-é-日本\",\n"+
			"\"start_time\":%.3f,\"end_time\":%.3f,\t\"annotations\":{\"quote\":\"say \\\"hi\\\" \\\\ back\\\\slash\","+
			"\"ctl\":\"a\\u0001b\\u001f\\n\\t\\/\"},\"metadata\":{\"default\":{\"emoji\":\"🚀 ok\",\"sep\":\"x\u2028y\u2029z\","+
			"\"html\":\"<a href='x'>&amp;</a>\",\"del\":\"\x7f\",\"n\":%d}}}",
			traceID, 0xabc000+i, now, now+0.5, i)
	}
	return docs
}

// The body the putter writes is read by the real Roentgen API (its fast
// PutTraceSegments decoder, then ingest and the store) as exactly the
// documents sent: BatchGetTraces returns each one byte for byte.
func TestPutTraceSegmentsBodyReadByRoentgen(t *testing.T) {
	api := xraytest.NewAPI(t, t.TempDir())
	ac := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	p := newSegmentsPutter(api.URL, &http.Client{Transport: tr}, ac, "xray-agent/roentgen-daemon/test")

	traceID := fmt.Sprintf("1-%08x-%024x", time.Now().Unix(), time.Now().UnixNano())
	docs := trickyDocuments(traceID, 7)
	b := &batch{}
	for _, d := range docs {
		if !json.Valid(d) {
			t.Fatalf("test document is not JSON: %s", d)
		}
		b.add(d)
	}
	un, err := p.put(context.Background(), b)
	if err != nil || len(un) != 0 {
		t.Fatalf("put: unprocessed %v, err %v", un, err)
	}

	out, err := api.Client(t).BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{traceID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Traces) != 1 {
		t.Fatalf("traces = %d, want 1", len(out.Traces))
	}
	got := map[string]string{}
	for _, s := range out.Traces[0].Segments {
		got[aws.ToString(s.Id)] = aws.ToString(s.Document)
	}
	for i, d := range docs {
		id := fmt.Sprintf("%016x", 0xabc000+i)
		if got[id] != string(d) {
			t.Errorf("document %s:\n got %q\nwant %q", id, got[id], d)
		}
	}
}

// The putter keeps the API's errors' types and codes: a throttled request
// is a retryable 429, a malformed one a permanent 400 with its message.
func TestPutTraceSegmentsErrors(t *testing.T) {
	for _, tc := range []struct {
		status    int
		header    string
		body      string
		code      string
		permanent bool
	}{
		{429, "ThrottledException", `{"message":"slow down"}`, "ThrottledException", false},
		{400, "", `{"__type":"com.amazonaws.xray#InvalidRequestException","message":"bad"}`, "InvalidRequestException", true},
		{403, "UnrecognizedClientException:http://internal", `{"message":"who"}`, "UnrecognizedClientException", false},
		{503, "", `not json`, "UnknownError", false},
	} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.header != "" {
				w.Header().Set("X-Amzn-ErrorType", tc.header)
			}
			w.WriteHeader(tc.status)
			w.Write([]byte(tc.body))
		}))
		tr := &http.Transport{}
		p := newSegmentsPutter(hs.URL, &http.Client{Transport: tr}, aws.Config{Region: "us-east-1"}, "t")
		b := &batch{}
		b.add([]byte(`{}`))
		_, err := p.put(context.Background(), b)
		if err == nil {
			t.Fatalf("%d: no error", tc.status)
		}
		if permanent(err) != tc.permanent {
			t.Errorf("%d: permanent = %v", tc.status, permanent(err))
		}
		if !strings.Contains(err.Error(), tc.code) || errorKind(err) != fmt.Sprintf("http_%dxx", tc.status/100) {
			t.Errorf("%d: err %v, kind %s", tc.status, err, errorKind(err))
		}
		tr.CloseIdleConnections()
		hs.Close()
	}
}

// FuzzAppendJSONString: any bytes become one valid JSON string that
// decodes to what encoding/json would encode them as (the bytes
// themselves when they are valid UTF-8), alone and in a request body.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", `{"a":"b\"c\\d"}`, "\x00\x01\x1f\x7f", "é日本🚀\u2028", "\xff\xfe", "a\xe2\x82", "\t\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		out := appendJSONString([]byte("x"), s)
		if out[0] != 'x' {
			t.Fatal("prefix overwritten")
		}
		out = out[1:]
		if !json.Valid(out) {
			t.Fatalf("not JSON: %q", out)
		}
		var got, want string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		ref, _ := json.Marshal(string(s))
		_ = json.Unmarshal(ref, &want)
		if got != want {
			t.Fatalf("%q decodes to %q, want %q", s, got, want)
		}
		if utf8.Valid(s) && got != string(s) {
			t.Fatalf("valid UTF-8 %q changed to %q", s, got)
		}
		b := &batch{}
		b.add(s)
		b.add([]byte(`{"x":1}`))
		var in struct{ TraceSegmentDocuments []string }
		body := appendPutTraceSegmentsBody(nil, b)
		if err := json.Unmarshal(body, &in); err != nil || len(in.TraceSegmentDocuments) != 2 ||
			in.TraceSegmentDocuments[0] != want || in.TraceSegmentDocuments[1] != `{"x":1}` {
			t.Fatalf("body %q decodes to %q, %v", body, in.TraceSegmentDocuments, err)
		}
	})
}

// BenchmarkPutTraceSegmentsBody writes the body of a full batch of ~1.3 kB
// documents.
func BenchmarkPutTraceSegmentsBody(b *testing.B) {
	bt := &batch{}
	doc := bytes.Repeat([]byte(`{"trace_id":"1-5f84c7a1-1234567890abcdef12345678","name":"svc","http":{"request":{"url":"https://x/y?a=b"}},"metadata":{"k":"v"}}`), 10)
	for range maxBatch {
		bt.add(doc)
	}
	var buf []byte
	b.SetBytes(int64(bt.size()))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendPutTraceSegmentsBody(buf[:0], bt)
	}
}
