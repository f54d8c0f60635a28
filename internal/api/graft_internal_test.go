package api

import (
	"encoding/json"
	"fmt"
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

// BenchmarkGraftedSegments: a streamed trace (a segment and 49 subsegments
// sent on their own, ~300 bytes each), and a trace with none, which skips
// decoding.
func BenchmarkGraftedSegments(b *testing.B) {
	streamed := []store.Doc{{ID: "0000000000000000", Raw: []byte(`{"trace_id":"1-5f000000-000000000000000000000001","id":"0000000000000000","name":"api","start_time":1600000000.1,"end_time":1600000001.1,"http":{"request":{"method":"GET","url":"https://api.example.com/items"},"response":{"status":200}}}`)}}
	plain := []store.Doc{streamed[0]}
	for i := 1; i < 50; i++ {
		id := fmt.Sprintf("%016x", i)
		streamed = append(streamed, store.Doc{ID: id, Raw: []byte(`{"type":"subsegment","trace_id":"1-5f000000-000000000000000000000001","parent_id":"0000000000000000","id":"` + id +
			`","name":"db.example.com","namespace":"remote","start_time":1600000000.2,"end_time":1600000000.3,"sql":{"url":"postgres://db/items","sanitized_query":"SELECT * FROM items WHERE id = $1"}}`)})
		plain = append(plain, store.Doc{ID: id, Raw: []byte(`{"trace_id":"1-5f000000-000000000000000000000001","id":"` + id + `","name":"api","start_time":1600000000.1,"end_time":1600000001.1}`)})
	}
	for name, docs := range map[string][]store.Doc{"streamed": streamed, "plain": plain} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				graftedSegments(docs)
			}
		})
	}
}
