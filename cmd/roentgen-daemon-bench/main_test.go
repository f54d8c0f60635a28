package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The sink counts the documents the generator made, by the sequence number
// in their id, from a PutTraceSegments body as the SDK writes it (each
// document a JSON string), and counts a document sent twice once.
func TestSinkCountsGeneratedDocuments(t *testing.T) {
	tmpl := template(1300)
	if len(tmpl) != 1300 {
		t.Fatalf("datagram is %d bytes, want 1300", len(tmpl))
	}
	var docs []string
	for _, seq := range []int{0, 7, 41, 7} {
		b := append([]byte(nil), tmpl...)
		fill(b, seq)
		doc := b[bytes.IndexByte(b, '\n')+1:]
		if !json.Valid(doc) {
			t.Fatalf("document is not JSON: %s", doc)
		}
		docs = append(docs, string(doc))
	}
	body, _ := json.Marshal(map[string]any{"TraceSegmentDocuments": docs})
	s := newSink(100)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/TraceSegments", bytes.NewReader(body)))
	if rec.Code != 200 || s.unique() != 3 || s.total.Load() != 4 || !s.seen[0] || !s.seen[7] || !s.seen[41] {
		t.Fatalf("code %d, unique %d, total %d", rec.Code, s.unique(), s.total.Load())
	}
}
