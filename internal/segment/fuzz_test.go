package segment

import (
	"bytes"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/fixtures"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(doc()))
	f.Add([]byte("[" + doc(`"type":"subsegment"`, `"parent_id":"defdfd9912dc5a56"`) + "]"))
	f.Add([]byte(doc(`"cause":"1234567890abcdef"`, `"annotations":{"a":[1]}`, `"subsegments":[{"name":"x","id":"53995c3f42cd8ad8","start_time":1,"in_progress":true}]`)))
	f.Add([]byte(`{"id":"70de5b6f19ff9a0a","name":`))
	f.Add([]byte(`[[],{},null]`))
	for _, d := range fixtures.Datagrams() {
		f.Add(d.Body())
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		o := opts()
		o.SkipTraceEpoch = true
		mine := bytes.Clone(in)
		segs, err := Parse(mine, o)
		clear(mine) // callers reuse their buffers: nothing parsed may refer to it
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		for _, s := range segs {
			if !IsID(s.ID) || !IsTraceID(s.TraceID) || s.StartTime <= 0 || len(s.Raw) == 0 {
				t.Fatalf("accepted an invalid segment: %+v", s)
			}
			if !bytes.Contains(in, s.Raw) {
				t.Fatalf("Raw is not part of the input")
			}
			again, err := Parse(s.Raw, o)
			if err != nil || len(again) != 1 || again[0].ID != s.ID || again[0].TraceID != s.TraceID || again[0].Name != s.Name {
				t.Fatalf("Raw does not parse back: %v", err)
			}
		}
	})
}

func FuzzSplitDatagram(f *testing.F) {
	f.Add([]byte("{\"format\": \"json\", \"version\": 1}\n{}"))
	f.Add([]byte("{\"format\":\"json\",\"version\":1}\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte("{\"format\":\"json\",\"version\":1.0}\nx"))
	for _, d := range fixtures.Datagrams() {
		f.Add(d.Bytes)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		body, err := SplitDatagram(in)
		if err != nil {
			return
		}
		i := bytes.IndexByte(in, '\n')
		if i < 0 || !bytes.Equal(body, in[i+1:]) || len(bytes.TrimSpace(body)) == 0 || len(in) > MaxDatagramSize {
			t.Fatalf("accepted %q with body %q", in, body)
		}
	})
}
