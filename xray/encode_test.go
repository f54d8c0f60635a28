package xray

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// The hand-written encoder must always produce valid JSON that reads back as
// what was recorded (invalid UTF-8 as U+FFFD, like encoding/json).
func FuzzAppendDoc(f *testing.F) {
	f.Add("checkout", "key", "value\n\"\\\u2028\x00", 1.5)
	f.Add("\xff\xfe", "", "", math.Inf(1))
	f.Fuzz(func(t *testing.T, name, key, val string, num float64) {
		s := &Segment{Name: name, ID: "0123456789abcdef", TraceID: "1-5759e988-bd862e3fe1be46a994272793", StartTime: 1, EndTime: 2}
		s.ParentSegment = s
		s.Annotations = map[string]interface{}{key: val, "n": num}
		s.Metadata = map[string]map[string]interface{}{key: {val: []interface{}{num, val, nil, true}}}
		s.User = val
		b := appendDoc(nil, s, docRoot, "", true)
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %q", b)
		}
		var back struct {
			Name        string                 `json:"name"`
			User        string                 `json:"user"`
			Annotations map[string]interface{} `json:"annotations"`
		}
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Name != strings.ToValidUTF8(name, "\uFFFD") && utf8.ValidString(name) {
			t.Errorf("name %q read back as %q", name, back.Name)
		}
		if utf8.ValidString(val) && back.User != val {
			t.Errorf("user %q read back as %q", val, back.User)
		}
	})
}

func TestAppendValueMatchesEncodingJSON(t *testing.T) {
	type custom struct {
		A int    `json:"a"`
		B string `json:"b,omitempty"`
	}
	for _, v := range []interface{}{
		nil, "s", true, 3, int64(-7), uint8(200), 12.5, float32(0.1), 1e21, 1e-7, 0.0,
		map[string]interface{}{"z": 1, "a": []interface{}{"x", 2.5}}, map[string]string{"k": "v"}, []string{"a", "b"},
		custom{A: 1}, json.Number("42"),
	} {
		want, _ := json.Marshal(v)
		if got := appendValue(nil, v); string(got) != string(want) {
			t.Errorf("%T %v: %s, encoding/json %s", v, v, got, want)
		}
	}
	if got := string(appendValue(nil, math.NaN())); got != "null" {
		t.Errorf("NaN encoded as %s", got)
	}
}

// A cyclic value in metadata costs that value, not the process.
func TestCyclicMetadataDoesNotCrash(t *testing.T) {
	m := map[string]interface{}{}
	m["self"] = m
	l := []interface{}{nil}
	l[0] = l
	s := &Segment{Name: "n", ID: "0123456789abcdef", TraceID: "1-5759e988-bd862e3fe1be46a994272793", StartTime: 1, EndTime: 2}
	s.ParentSegment = s
	s.Metadata = map[string]map[string]interface{}{"default": {"m": m, "l": l, "ok": 1}}
	b := appendDoc(nil, s, docRoot, "", true)
	if !json.Valid(b) || !strings.Contains(string(b), `"ok":1`) {
		t.Fatalf("document = %.300s", b)
	}
}
