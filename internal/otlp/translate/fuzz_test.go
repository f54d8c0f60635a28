package translate

import (
	"encoding/json"

	"fmt"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// FuzzSpan feeds arbitrary attribute keys and values, in every position the
// translation reads, and checks that it never panics and that whatever it
// emits passes the shared segment parser.
func FuzzSpan(f *testing.F) {
	f.Add(uint8(1), "GET /", "http.status_code", "500", int64(500), 1.5, "goroutine 1:\nmain.f()\n\t/a.go:1 +0x1", "go", []byte(`{"db.system":"mysql","db.name":"x"}`))
	f.Add(uint8(2), "", "", "", int64(-1), -0.0, "", "", []byte(`{"rpc.system":"aws-api","aws.dynamodb.table_names":["a","b"]}`))
	f.Add(uint8(3), "ü\x00", "a.b-c", "\xff\xfe", int64(1<<62), 1e308, "\tat x(Y.java:99999999999999999999)", "java", []byte(`{"url.full":"http://[::1","server.port":"x","cloud.platform":"aws_ecs"}`))
	f.Add(uint8(5), "q", "enduser.id", "bob", int64(0), 0.0, "  File \"a\", line 1, in b", "python", []byte(`{"nested":{"a":[1,[2,[3,{"b":null}]]]}}`))
	f.Fuzz(func(t *testing.T, kind uint8, name, key, val string, i int64, d float64, stack, lang string, raw []byte) {
		fx := newSpan(ptrace.SpanKind(kind%6), kind&8 != 0)
		fx.span.SetName(name)
		a := fx.span.Attributes()
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil {
			_ = a.FromRaw(m)
			_ = fx.res.Attributes().FromRaw(m)
		}
		a.PutStr(key, val)
		for _, k := range []string{"http.status_code", "http.response.status_code", "db.system", "server.port", "url.full", "http.url", "rpc.system", "peer.service"} {
			if _, ok := a.Get(k); !ok && len(val)%3 == int(kind)%3 {
				a.PutStr(k, val)
			}
		}
		a.PutInt(key+".i", i)
		a.PutDouble(key+".d", d)
		fx.res.Attributes().PutStr("service.name", name)
		fx.res.Attributes().PutStr("telemetry.sdk.language", lang)
		fx.span.Status().SetCode(ptrace.StatusCode(kind % 3))
		ev := fx.span.Events().AppendEmpty()
		ev.SetName("exception")
		ev.Attributes().PutStr("exception.stacktrace", stack)
		ev.Attributes().PutStr("exception.message", val)
		for _, tr := range []*Translator{all, New(ParseIndexFlag(key))} {
			b, err := tr.Span(fx.span, fx.res, fx.scope)
			if err != nil {
				continue
			}
			if len(b) > maxDocument {
				t.Fatalf("document of %d bytes", len(b))
			}
			parsed, err := segment.Parse(b, segment.Options{SkipTraceEpoch: true, Stored: true})
			if err != nil {
				t.Fatalf("emitted a document the parser rejects: %v\n%s", err, b)
			}
			// The in-memory segment ingest takes must equal the decoded one.
			seg, err := tr.Segment(fx.span, fx.res, fx.scope)
			if err != nil {
				t.Fatalf("Segment failed where Span did not: %v", err)
			}
			if err := segment.Validate(seg, segment.Options{SkipTraceEpoch: true, Stored: true}); err != nil {
				t.Fatalf("Validate rejects what Parse accepts: %v", err)
			}
			if d := segmentDiff(seg, parsed[0]); d != "" {
				t.Fatalf("in-memory segment differs from the decoded document: %s\n%s", d, b)
			}
		}
	})
}

// segmentDiff compares two segments as stored (Raw) and as indexed: their
// JSON forms and the Go types of their annotation values.
func segmentDiff(a, b *segment.Segment) string {
	if string(a.Raw) != string(b.Raw) {
		return "raw documents differ"
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		return fmt.Sprintf("%s != %s", ja, jb)
	}
	for k, v := range a.Annotations {
		if fmt.Sprintf("%T", v) != fmt.Sprintf("%T", b.Annotations[k]) {
			return fmt.Sprintf("annotation %q is %T in memory, %T decoded", k, v, b.Annotations[k])
		}
	}
	return ""
}
