package jsonpath

import (
	"encoding/json"
	"testing"
)

func TestAt(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"http":{"request":{"url":"/x"}},"cause":{"exceptions":[{"type":"E"}]}}`), &doc); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"http.request.url": "/x", "cause.exceptions.0.type": "E",
		"cause.exceptions.1.type": nil, "cause.exceptions.x": nil, "cause.exceptions.-1": nil, "http.request.url.more": nil, "nope": nil,
	} {
		if got := At(doc, path); got != want {
			t.Errorf("At(%q) = %v, want %v", path, got, want)
		}
	}
}
