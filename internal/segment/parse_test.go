package segment

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// now is the clock of these tests; traceAt makes an id whose epoch is now+d.
var now = time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC)

func traceAt(d time.Duration) string {
	return fmt.Sprintf("1-%08x-a006649127e371903a2de979", now.Add(d).Unix())
}

var tid = traceAt(-time.Minute)

func opts() Options { return Options{Now: now} }

// doc builds a valid segment document, with fields replaced or added by
// extra (raw JSON members, later ones win as in encoding/json).
func doc(extra ...string) string {
	parts := []string{
		`"name":"example.com"`, `"id":"70de5b6f19ff9a0a"`, `"trace_id":"` + tid + `"`,
		fmt.Sprintf(`"start_time":%d.271`, now.Unix()-60), fmt.Sprintf(`"end_time":%d.449`, now.Unix()-60),
	}
	return "{" + strings.Join(append(parts, extra...), ",") + "}"
}

func TestParseRules(t *testing.T) {
	start := fmt.Sprintf("%d.5", now.Unix()-60)
	sub := func(fields string) string {
		return `"subsegments":[{"name":"db","id":"53995c3f42cd8ad8","start_time":` + start + `,"end_time":` + start + fields + `}]`
	}
	cases := []struct {
		name string
		doc  string
		code string // "" = accepted
	}{
		// Shape.
		{"minimal segment", doc(), ""},
		{"empty", "  ", CodeMalformed},
		{"not JSON", `{"name":`, CodeMalformed},
		{"string", `"segment"`, CodeMalformed},
		{"number", `42`, CodeMalformed},
		{"empty array", `[]`, CodeMalformed},
		{"array of non-objects", `[1,2]`, CodeMalformed},
		{"oversize", doc(`"metadata":{"default":{"pad":"` + strings.Repeat("x", MaxDocumentSize) + `"}}`), CodeTooLarge},
		{"just under the size limit", doc(`"metadata":{"default":{"pad":"` + strings.Repeat("x", MaxDocumentSize-len(doc(`"metadata":{"default":{"pad":""}}`))) + `"}}`), ""},
		// Tolerance.
		{"unknown fields (Go SDK Dummy)", doc(`"Dummy":false`, `"whatever":{"x":[1]}`), ""},
		{"stack line null", doc(`"cause":{"exceptions":[{"id":"1234567890abcdef","stack":[{"path":"a.py","line":null,"label":"f"}]}]}`), ""},
		{"cause as exception id", doc(`"cause":"1234567890abcdef"`), ""},
		{"exponent times", `{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"` + tid + `","start_time":` + fmt.Sprintf("%.9E", float64(now.Unix()-60)) + `,"end_time":` + fmt.Sprintf("%.9E", float64(now.Unix()-59)) + `}`, ""},
		{"wrong-typed optional member", doc(`"http":{"response":{"status":"200"}}`, `"user":7`), ""},
		{"upper-case hex trace id", doc(`"trace_id":"` + strings.ToUpper(tid[:2]) + strings.ToUpper(tid[2:]) + `"`), ""},
		{"in progress without end", doc(`"end_time":0`, `"in_progress":true`), ""},
		{"non-scalar annotation", doc(`"annotations":{"ok":"x","obj":{"a":1},"list":[1]}`), ""},
		// Ids.
		{"id missing", doc(`"id":""`), CodeInvalidID},
		{"id short", doc(`"id":"70de5b6f19ff9a0"`), CodeInvalidID},
		{"id not hex", doc(`"id":"70de5b6f19ff9a0g"`), CodeInvalidID},
		{"id number", `{"id":7,"name":"a","trace_id":"` + tid + `","start_time":5,"end_time":6}`, CodeInvalidID},
		{"parent id bad", doc(`"parent_id":"xyz"`), CodeInvalidParentID},
		{"parent id good", doc(`"parent_id":"defdfd9912dc5a56"`), ""},
		// Trace ids.
		{"trace id missing", doc(`"trace_id":""`), CodeInvalidTraceID},
		{"trace id version 2", doc(`"trace_id":"2` + tid[1:] + `"`), CodeInvalidTraceID},
		{"trace id short random", doc(`"trace_id":"` + tid[:34] + `"`), CodeInvalidTraceID},
		{"trace id not hex", doc(`"trace_id":"1-zzzzzzzz-a006649127e371903a2de979"`), CodeInvalidTraceID},
		{"trace id 29 days old", doc(`"trace_id":"` + traceAt(-29*24*time.Hour) + `"`), ""},
		{"trace id 31 days old", doc(`"trace_id":"` + traceAt(-31*24*time.Hour) + `"`), CodeInvalidTraceID},
		{"trace id 4 minutes ahead", doc(`"trace_id":"` + traceAt(4*time.Minute) + `"`), ""},
		{"trace id 10 minutes ahead", doc(`"trace_id":"` + traceAt(10*time.Minute) + `"`), CodeInvalidTraceID},
		// Names.
		{"name missing", doc(`"name":""`), CodeInvalidName},
		{"name 200 chars", doc(`"name":"` + strings.Repeat("é", 200) + `"`), ""},
		{"name 201 chars", doc(`"name":"` + strings.Repeat("a", 201) + `"`), CodeInvalidName},
		{"name allowed symbols", doc(`"name":"Svc 1_.:/%&#=+\\-@ünï 世界"`), ""},
		{"name with !", doc(`"name":"hello!"`), CodeInvalidName},
		{"name with ?", doc(`"name":"a?b"`), CodeInvalidName},
		// Times.
		{"start missing", doc(`"start_time":0`), CodeInvalidStartTime},
		{"start negative", doc(`"start_time":-5`), CodeInvalidStartTime},
		{"end missing", doc(`"end_time":0`), CodeInvalidEndTime},
		{"end before start", doc(fmt.Sprintf(`"end_time":%d`, now.Unix()-120)), CodeInvalidEndTime},
		{"end equals start", doc(`"start_time":`+start, `"end_time":`+start), ""},
		// Independent subsegments.
		{"independent subsegment", doc(`"type":"subsegment"`, `"parent_id":"defdfd9912dc5a56"`, `"name":"any name!"`), ""},
		{"independent without parent", doc(`"type":"subsegment"`), CodeInvalidParentID},
		{"independent without name", doc(`"type":"subsegment"`, `"parent_id":"defdfd9912dc5a56"`, `"name":""`), CodeInvalidName},
		{"independent without trace id", doc(`"type":"subsegment"`, `"parent_id":"defdfd9912dc5a56"`, `"trace_id":""`), CodeInvalidTraceID},
		// Embedded subsegments.
		{"embedded plain", doc(sub(``)), ""},
		{"embedded with trace and parent", doc(sub(`,"trace_id":"` + tid + `","parent_id":"70de5b6f19ff9a0a"`)), ""},
		{"embedded other trace", doc(sub(`,"trace_id":"` + traceAt(-2*time.Minute) + `"`)), CodeInvalidTraceID},
		{"embedded bad id", doc(`"subsegments":[{"name":"db","id":"nope","start_time":1,"end_time":2}]`), CodeInvalidID},
		{"embedded no name", doc(`"subsegments":[{"id":"53995c3f42cd8ad8","start_time":` + start + `,"end_time":` + start + `}]`), CodeInvalidName},
		{"embedded bad parent", doc(sub(`,"parent_id":"12"`)), CodeInvalidParentID},
		{"embedded no start", doc(`"subsegments":[{"name":"db","id":"53995c3f42cd8ad8","end_time":` + start + `}]`), CodeInvalidStartTime},
		{"embedded no end", doc(`"subsegments":[{"name":"db","id":"53995c3f42cd8ad8","start_time":` + start + `}]`), CodeInvalidEndTime},
		{"embedded in progress", doc(`"subsegments":[{"name":"db","id":"53995c3f42cd8ad8","start_time":` + start + `,"in_progress":true}]`), ""},
		{"deeply embedded bad", doc(`"subsegments":[{"name":"a","id":"53995c3f42cd8ad8","start_time":` + start + `,"end_time":` + start + `,"subsegments":[{"name":"b","id":"bad","start_time":1,"end_time":2}]}]`), CodeInvalidID},
		// Arrays of subsegments.
		{"array of independent subsegments", "[" + doc(`"type":"subsegment"`, `"parent_id":"defdfd9912dc5a56"`) + "," + doc(`"id":"1111111111111111"`) + "]", ""},
		{"array with one bad element", "[" + doc() + "," + doc(`"id":"x"`) + "]", CodeInvalidID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			segs, err := Parse([]byte(tc.doc), opts())
			if tc.code == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if len(segs) == 0 {
					t.Fatal("accepted but no segments")
				}
				return
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *Error with code %s", err, tc.code)
			}
			if se.Code != tc.code {
				t.Errorf("code = %s, want %s (message %q)", se.Code, tc.code, se.Message)
			}
			if !strings.HasPrefix(se.Message, "Invalid segment. ErrorCode: "+se.Code) {
				t.Errorf("message %q does not begin with X-Ray's form", se.Message)
			}
		})
	}
}

func TestParseMessagesSayWhere(t *testing.T) {
	_, err := Parse([]byte(doc(`"subsegments":[{"name":"db","id":"53995c3f42cd8ad8","start_time":5,"end_time":4}]`)), opts())
	var se *Error
	if !errors.As(err, &se) || se.ID != "70de5b6f19ff9a0a" || !strings.Contains(se.Message, "53995c3f42cd8ad8") {
		t.Errorf("nested error = %+v; want the document id and the subsegment named", err)
	}
	_, err = Parse([]byte(`{"id":"70de5b6f19ff9a0a","name":`), opts())
	if !errors.As(err, &se) || se.ID != "70de5b6f19ff9a0a" {
		t.Errorf("malformed error = %+v; want the id recovered from the bytes", err)
	}
}

func TestParseKeepsRawAndDecodes(t *testing.T) {
	in := []byte(doc(`"user":"alice"`, `"annotations":{"s":"x","n":2,"b":true,"o":{"x":1}}`, `"http":{"request":{"method":"GET","url":"http://a/b"},"response":{"status":503}}`, `"fault":true`))
	segs, err := Parse(in, opts())
	if err != nil {
		t.Fatal(err)
	}
	s := segs[0]
	if string(s.Raw) != string(in) {
		t.Errorf("Raw = %s", s.Raw)
	}
	in[0] = 'X'
	if s.Raw[0] != '{' {
		t.Error("Raw shares memory with the caller's buffer")
	}
	if s.User != "alice" || !s.Fault || s.HTTP.Response.Status != 503 || s.HTTP.Request.Method != "GET" {
		t.Errorf("decoded = %+v", s)
	}
	if len(s.Annotations) != 3 || s.Annotations["n"] != 2.0 || s.Annotations["b"] != true {
		t.Errorf("annotations = %v; want only scalar values", s.Annotations)
	}
	segs, err = Parse([]byte("["+doc()+","+doc(`"id":"1111111111111111"`)+"]"), opts())
	if err != nil || len(segs) != 2 || segs[1].ID != "1111111111111111" || string(segs[1].Raw) != doc(`"id":"1111111111111111"`) {
		t.Errorf("array: %v %+v", err, segs)
	}
}

// The decoded strings refer to Raw, not to the caller's buffer, which
// callers reuse (PutTraceSegments' pooled buffers); the trace id, kept in
// maps long after the document, refers to neither.
func TestParsedStringsOutliveTheInput(t *testing.T) {
	in := []byte(doc(`"user":"alice"`, `"annotations":{"k\u00e9y":"v\"1","plain":"x"}`, `"http":{"request":{"url":"http://a/b"}}`,
		`"subsegments":[{"name":"DynamoDB","id":"53995c3f42cd8ad8","start_time":1,"end_time":2,"aws":{"table_name":"t"}}]`))
	segs, err := Parse(in, Options{Now: now, Stored: true})
	if err != nil {
		t.Fatal(err)
	}
	clear(in) // the caller reuses its buffer
	s := segs[0]
	if s.Name != "example.com" || s.ID != "70de5b6f19ff9a0a" || s.TraceID != tid || s.User != "alice" || s.HTTP.Request.URL != "http://a/b" ||
		s.Annotations["k\u00e9y"] != "v\"1" || s.Annotations["plain"] != "x" ||
		s.Subsegments[0].Name != "DynamoDB" || s.Subsegments[0].AWS.TableName != "t" {
		t.Errorf("decoded = %+v, annotations %q", s, s.Annotations)
	}
	raw := unsafe.Pointer(unsafe.SliceData(s.Raw))
	within := func(x string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(x)))
		return p >= uintptr(raw) && p < uintptr(raw)+uintptr(len(s.Raw))
	}
	if !within(s.Name) {
		t.Error("Name is a copy: Parse allocates a string per member again")
	}
	if within(s.TraceID) {
		t.Error("TraceID refers to Raw: a map keyed by it keeps the whole document alive")
	}
}

func TestAppendParse(t *testing.T) {
	dst := make([]*Segment, 1, 8)
	dst, err := AppendParse(dst, []byte(doc()), opts())
	if err != nil || len(dst) != 2 || dst[1].ID != "70de5b6f19ff9a0a" {
		t.Fatalf("AppendParse = %v, %v", dst, err)
	}
	dst, err = AppendParse(dst, []byte("["+doc(`"id":"1111111111111111"`)+","+doc(`"id":"x"`)+"]"), opts())
	if err == nil || len(dst) != 2 {
		t.Fatalf("a refused array: %d segments, %v", len(dst), err)
	}
	if dst[:3][2] != nil {
		t.Error("the refused array's first element stays reachable past dst")
	}
	dst, err = AppendParse(dst, []byte("["+doc(`"id":"1111111111111111"`)+","+doc(`"id":"2222222222222222"`)+"]"), opts())
	if err != nil || len(dst) != 4 || dst[2].ID != "1111111111111111" || dst[3].ID != "2222222222222222" {
		t.Fatalf("AppendParse of an array = %v, %v", dst, err)
	}
}

func TestSkipTraceEpoch(t *testing.T) {
	old := doc(`"trace_id":"1-00000001-a006649127e371903a2de979"`)
	if _, err := Parse([]byte(old), opts()); err == nil {
		t.Error("a 1970 trace id was accepted")
	}
	o := opts()
	o.SkipTraceEpoch = true
	if _, err := Parse([]byte(old), o); err != nil {
		t.Errorf("SkipTraceEpoch still rejects: %v", err)
	}
}

func TestCauseRoundTrip(t *testing.T) {
	segs, err := Parse([]byte(doc(`"cause":"1234567890abcdef"`)), opts())
	if err != nil || segs[0].Cause == nil || segs[0].Cause.ExceptionID != "1234567890abcdef" {
		t.Fatalf("cause id: %v %+v", err, segs[0].Cause)
	}
	b, _ := segs[0].Cause.MarshalJSON()
	if string(b) != `"1234567890abcdef"` {
		t.Errorf("marshal = %s", b)
	}
}

func TestTraceEpoch(t *testing.T) {
	if ep, ok := TraceEpoch("1-581cf771-a006649127e371903a2de979"); !ok || ep != 0x581cf771 {
		t.Errorf("TraceEpoch = %d %v", ep, ok)
	}
	for _, bad := range []string{"", "1-581cf771-a006649127e371903a2de97", "1_581cf771-a006649127e371903a2de979", "1-581cf771_a006649127e371903a2de979", "1-581cf77g-a006649127e371903a2de979"} {
		if IsTraceID(bad) {
			t.Errorf("IsTraceID(%q) = true", bad)
		}
	}
}

// Hostile shapes within the size limit are rejected or accepted, never a crash.
func TestParseHostileShapes(t *testing.T) {
	deepSubs := strings.Repeat(`{"name":"a","id":"53995c3f42cd8ad8","start_time":1,"end_time":2,"subsegments":[`, 700) + strings.Repeat("]}", 700)
	for name, in := range map[string]string{
		"deep metadata":        doc(`"metadata":{"default":{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`),
		"deep subsegments":     doc(`"subsegments":[` + deepSubs + `]`),
		"unclosed nesting":     doc(`"metadata":{"default":{"x":` + strings.Repeat("[", 30000)),
		"invalid UTF-8":        doc(`"name":"a` + "\xff\xfe" + `"`),
		"huge number":          doc(`"start_time":1e400`),
		"duplicate keys":       doc(`"id":"70de5b6f19ff9a0a"`, `"id":"x"`),
		"NUL bytes":            doc(`"name":"a\u0000b"`),
		"annotation key empty": doc(`"annotations":{"":1}`),
	} {
		t.Run(name, func(t *testing.T) {
			segs, err := Parse([]byte(in), opts())
			if err == nil && (len(segs) == 0 || !IsID(segs[0].ID)) {
				t.Errorf("accepted without a valid id: %+v", segs)
			}
			if err != nil {
				var se *Error
				if !errors.As(err, &se) || se.Code == "" {
					t.Errorf("error %v is not a coded *Error", err)
				}
			}
		})
	}
}

// A subsegment that is null or not an object is rejected with a clear
// error; a null one crashed validation before.
func TestNullSubsegmentIsRejected(t *testing.T) {
	for _, sub := range []string{`null`, `1`, `"x"`, fmt.Sprintf(`{"name":"a","id":"53995c3f42cd8ad8","start_time":%d,"end_time":%d,"subsegments":[null]}`, now.Unix()-60, now.Unix()-59)} {
		_, err := Parse([]byte(doc(`"subsegments":[`+sub+`]`)), opts())
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalidID {
			t.Errorf("subsegment %s: got %v, want %s", sub, err, CodeInvalidID)
		}
	}
}

// Metadata is not decoded (Raw keeps it), but a document whose metadata is
// not JSON is still rejected as malformed: it would be stored and returned
// verbatim to clients that parse it. Each of these was rejected when
// metadata was decoded into a map.
func TestMetadataSkippedButValidated(t *testing.T) {
	in := doc(`"metadata":{"default":{"order":{"id":"o-1","tags":["a","b"],"n":1.5,"ok":true,"x":null}}}`)
	segs, err := Parse([]byte(in), opts())
	if err != nil {
		t.Fatal(err)
	}
	if string(segs[0].Raw) != in || !strings.Contains(string(segs[0].Raw), `"tags":["a","b"]`) {
		t.Errorf("Raw = %s; want the document with its metadata", segs[0].Raw)
	}
	for _, bad := range []string{
		`{"default":{"a":tru}}`,
		`{"default":{"a":[1,]}}`,
		`{"default":{"a":01}}`,
		`{"default":{"a" 1}}`,
		`{"default":{"a":"\x"}}`,
		`{"default":{"a":1,}}`,
		`{"default":{"a":nul}}`,
		`{"default":{"a":-}}`,
		`{"default":{"a":[1 2]}}`,
		`{"default":{"b":1 "c":2}}`,
		`{"default":{"a":}}`,
		`{"default":{"a":1}`,
		`{"default":{"a":1e}}`,
		`{"default":{"a":{"b":[{"c":tRue}]}}}`,
	} {
		_, err := Parse([]byte(doc(`"metadata":`+bad)), opts())
		var se *Error
		if !errors.As(err, &se) || se.Code != CodeMalformed {
			t.Errorf("metadata %s: err = %v; want %s", bad, err, CodeMalformed)
		}
	}
	// Metadata of another type than an object is dropped, as before.
	if _, err := Parse([]byte(doc(`"metadata":"x"`)), opts()); err != nil {
		t.Errorf("metadata of the wrong type: %v; want it accepted", err)
	}
}

// TraceEpoch's table reading gives what the plain one (isHex on every
// digit, strconv.ParseUint on the epoch) gave, for well-formed ids and
// ids with each byte replaced by every other byte.
func TestTraceEpochMatchesParseUint(t *testing.T) {
	plain := plainTraceEpoch
	ids := []string{"1-581cf771-a006649127e371903a2de979", "1-FFFFFFFF-ABCDEFabcdef0123456789ab", "1-00000000-000000000000000000000000", "", "1-581cf771-a006649127e371903a2de97", "1-581cf771-a006649127e371903a2de9790"}
	for _, base := range ids[:3] {
		for i := range len(base) {
			for c := range 256 {
				b := []byte(base)
				b[i] = byte(c)
				ids = append(ids, string(b))
			}
		}
	}
	for _, id := range ids {
		gotEp, gotOK := TraceEpoch(id)
		wantEp, wantOK := plain(id)
		if gotEp != wantEp || gotOK != wantOK {
			t.Fatalf("TraceEpoch(%q) = %d %v, want %d %v", id, gotEp, gotOK, wantEp, wantOK)
		}
	}
}

// plainTraceEpoch is TraceEpoch read the plain way.
func plainTraceEpoch(id string) (int64, bool) {
	if len(id) != 35 || id[0] != '1' || id[1] != '-' || id[10] != '-' {
		return 0, false
	}
	for i := 2; i < 35; i++ {
		if i != 10 && !isHex(id[i]) {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(id[2:10], 16, 32)
	if err != nil {
		return 0, false
	}
	return int64(v), true
}

// FuzzTraceEpoch holds TraceEpoch and IsID, which read eight digits at a
// time, to the plain byte-by-byte reading.
func FuzzTraceEpoch(f *testing.F) {
	for _, id := range []string{"1-581cf771-a006649127e371903a2de979", "1-FFFFFFFF-ABCDEFabcdef0123456789ab", "1-0000000g-000000000000000000000000", "0123456789abcDEF", "0123456789abcDE\xc6"} {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		gotEp, gotOK := TraceEpoch(id)
		wantEp, wantOK := plainTraceEpoch(id)
		if gotEp != wantEp || gotOK != wantOK {
			t.Fatalf("TraceEpoch(%q) = %d %v, want %d %v", id, gotEp, gotOK, wantEp, wantOK)
		}
		want := len(id) == 16
		for i := 0; i < len(id) && want; i++ {
			want = isHex(id[i])
		}
		if IsID(id) != want {
			t.Fatalf("IsID(%q) = %v", id, !want)
		}
	})
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// IsID's table reading accepts exactly the 16-byte strings of hex digits.
func TestIsIDMatchesIsHex(t *testing.T) {
	base := "0123456789abcDEF"
	for i := range len(base) {
		for c := range 256 {
			b := []byte(base)
			b[i] = byte(c)
			if IsID(string(b)) != isHex(byte(c)) {
				t.Fatalf("IsID(%q) = %v", b, IsID(string(b)))
			}
		}
	}
	for _, s := range []string{"", "0123456789abcde", "0123456789abcdef0"} {
		if IsID(s) {
			t.Fatalf("IsID(%q)", s)
		}
	}
}
