package api

import (
	"encoding/json"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// FuzzGraftedSegments: whatever the stored documents hold (parents in
// cycles, duplicate ids, bad JSON), grafting never panics, every document
// ends up once in the answer (top-level or grafted) and the answer is JSON.
func FuzzGraftedSegments(f *testing.F) {
	f.Add(`{"id":"a","start_time":1}`, `{"id":"b","type":"subsegment","parent_id":"a","start_time":2}`, `{"id":"c","type":"subsegment","parent_id":"b"}`)
	f.Add(`{"id":"a","type":"subsegment","parent_id":"b"}`, `{"id":"b","type":"subsegment","parent_id":"a"}`, `{"id":"a","subsegments":[{"id":"b"}]}`)
	f.Add(`{"id":"a","subsegments":[{"id":"x","type":"subsegment"}]}`, `{"id":"x","type":"subsegment","parent_id":"x"}`, `not json`)
	f.Fuzz(func(t *testing.T, a, b, c string) {
		docs := []store.Doc{{ID: "1", Raw: []byte(a)}, {ID: "2", Raw: []byte(b)}, {ID: "3", Raw: []byte(c)}}
		out := graftedSegments(docs)
		if len(out) == 0 || len(out) > len(docs) {
			t.Fatalf("%d documents out of %d", len(out), len(docs))
		}
		for _, s := range out {
			if json.Valid([]byte(a)) && json.Valid([]byte(b)) && json.Valid([]byte(c)) && !json.Valid([]byte(s.Document)) {
				t.Fatalf("answer is not JSON: %s", s.Document)
			}
		}
	})
}
