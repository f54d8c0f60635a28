package daemon

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/roentgen-tracing/roentgen/internal/jsonword"
	"math/bits"
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
	for _, s := range []string{"", `{"a":"b\"c\\d"}`, "\x00\x01\x1f\x7f", "é日本🚀\u2028", "\xff\xfe", "a\xe2\x82", "\t\r\n", "abcdefgh\"ijklmnop\\qrstuvw\x1fxyz\x80!!!!!!!!", "        !#[]~\x7f\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		for i := 0; i+8 <= len(s); i++ {
			first := 8
			for k := 7; k >= 0; k-- {
				if !plain[s[i+k]] {
					first = k
				}
			}
			if got := bits.TrailingZeros64(jsonword.Special(binary.LittleEndian.Uint64(s[i:]))) >> 3; got != first {
				t.Fatalf("special(%q) points at byte %d, want %d", s[i:i+8], got, first)
			}
		}
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

// BenchmarkPutTraceSegmentsBody writes the body of a full batch of ~1.8 kB
// documents shaped like an SDK's segment (dense with quotes, as real ones
// are; the daemon harness's padded documents escape faster).
func BenchmarkPutTraceSegmentsBody(b *testing.B) {
	bt := benchBatch()
	var buf []byte
	b.SetBytes(int64(bt.size()))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendPutTraceSegmentsBody(buf[:0], bt)
	}
}

func benchBatch() *batch {
	sub := `{"id":"53995c3f42cd8ad8","name":"DynamoDB","start_time":1478293361.271,"end_time":1478293361.449,` +
		`"namespace":"aws","aws":{"operation":"GetItem","region":"us-east-1","table_name":"orders","retries":0},` +
		`"http":{"response":{"status":200,"content_length":58}},"annotations":{"customer":"c-12","tier":"gold"}}`
	doc := []byte(`{"trace_id":"1-581cf771-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"orders-api",` +
		`"start_time":1478293361.271,"end_time":1478293361.449,"origin":"AWS::ECS::Container",` +
		`"http":{"request":{"method":"POST","url":"https://orders.example.com/v1/orders?expand=items","client_ip":"10.0.1.7",` +
		`"user_agent":"Mozilla/5.0 (X11; Linux x86_64)"},"response":{"status":201,"content_length":312}},` +
		`"aws":{"xray":{"sdk":"X-Ray for Go","sdk_version":"1.8.5"},"ecs":{"container":"orders-7d9f"}},` +
		`"metadata":{"default":{"note":"created \"order\" for c-12"}},"subsegments":[` + strings.Repeat(sub+",", 3) + sub + `]}`)
	bt := &batch{}
	for range maxBatch {
		bt.add(doc)
	}
	return bt
}
