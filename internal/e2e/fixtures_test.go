package e2e

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/fixtures"
)

// recorded is what the fixture datagrams should leave in the store: per
// trace, per document id, the complete version (or the last one if the
// document never completed).
type recorded map[string]map[string]string

func expectFixtures(t *testing.T, shift fixtures.Shifter) (recorded, [][]byte) {
	t.Helper()
	want := recorded{}
	var bodies [][]byte
	for _, d := range fixtures.Datagrams() {
		body := shift.Doc(d.Body())
		bodies = append(bodies, body)
		var doc struct {
			TraceID    string `json:"trace_id"`
			ID         string `json:"id"`
			InProgress bool   `json:"in_progress"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		if want[doc.TraceID] == nil {
			want[doc.TraceID] = map[string]string{}
		}
		if prev, ok := want[doc.TraceID][doc.ID]; ok && doc.InProgress && !isInProgress(prev) {
			continue
		}
		want[doc.TraceID][doc.ID] = string(body)
	}
	return want, bodies
}

func isInferred(doc string) bool {
	var d struct {
		Inferred bool `json:"inferred"`
	}
	_ = json.Unmarshal([]byte(doc), &d)
	return d.Inferred
}

func isInProgress(doc string) bool {
	var d struct {
		InProgress bool `json:"in_progress"`
	}
	_ = json.Unmarshal([]byte(doc), &d)
	return d.InProgress
}

func (s *server) checkRecorded(want recorded) {
	t := s.t
	t.Helper()
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		got := s.waitFlatDocs(id, want[id])
		if len(got) != len(want[id]) {
			t.Errorf("trace %s: %d documents, want %d", id, len(got), len(want[id]))
		}
		for docID, body := range want[id] {
			// Documents that gained grafted subsegments were re-encoded;
			// the others come back byte for byte.
			if got[docID] != body && got[docID] != canonical(t, body) {
				t.Errorf("trace %s document %s:\n got %s\nwant %s", id, docID, got[docID], body)
			}
		}
	}
	// Every trace is listed by GetTraceSummaries.
	listed := map[string]bool{}
	p := xray.NewGetTraceSummariesPaginator(s.client("http"), &xray.GetTraceSummariesInput{
		StartTime: aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now().Add(time.Minute))})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range out.TraceSummaries {
			listed[aws.ToString(x.Id)] = true
		}
	}
	for _, id := range ids {
		if !listed[id] {
			t.Errorf("trace %s not listed by GetTraceSummaries", id)
		}
	}
}

// Every datagram recorded from the official Go, Python and Node SDKs goes
// through real UDP, moved to the present, and reads back byte for byte.
func TestFixturesOverUDP(t *testing.T) {
	s := startServer(t)
	shift := fixtures.ShiftTo(time.Now())
	want, _ := expectFixtures(t, shift)
	for _, d := range fixtures.Datagrams() {
		s.sendUDP(shift.Doc(d.Bytes))
		time.Sleep(time.Millisecond) // keep each SDK's order, as a real process would
	}
	s.checkRecorded(want)
}

// The same documents through PutTraceSegments, as the daemon forwards them.
func TestFixturesThroughPutTraceSegments(t *testing.T) {
	s := startServer(t)
	shift := fixtures.ShiftTo(time.Now())
	want, bodies := expectFixtures(t, shift)
	c := s.client("http")
	for i := 0; i < len(bodies); i += 50 {
		var docs []string
		for _, b := range bodies[i:min(i+50, len(bodies))] {
			docs = append(docs, string(b))
		}
		res, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range res.UnprocessedTraceSegments {
			t.Errorf("unprocessed %s: %s %s", aws.ToString(u.Id), aws.ToString(u.ErrorCode), aws.ToString(u.Message))
		}
	}
	s.checkRecorded(want)
}

// waitFlatDocs waits for a trace's sent documents and returns them by id in
// canonical form (canonical) where they were grafted: the answer's independent subsegments, which
// BatchGetTraces grafts into their parents, taken out again. Inferred
// segments (downstream calls drawn as nodes) are the server's additions,
// not documents a client sent; any other document is an error.
func (s *server) waitFlatDocs(id string, want map[string]string) map[string]string {
	t := s.t
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tr := s.waitTraces(id)[id]
		got := map[string]string{}
		for _, sg := range tr.Segments {
			var d map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(sg.Document)), &d); err != nil {
				t.Fatal(err)
			}
			docs := ungraft(d, want)
			for _, doc := range docs {
				docID, _ := doc["id"].(string)
				if _, sent := want[docID]; !sent {
					if doc["inferred"] != true {
						t.Errorf("trace %s: unexpected document %v", id, doc)
					}
					continue
				}
				if len(docs) == 1 {
					got[docID] = aws.ToString(sg.Document)
					continue
				}
				b, _ := json.Marshal(doc)
				got[docID] = string(b)
			}
		}
		if len(got) >= len(want) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ungraft splits a document into itself and the independent subsegments
// grafted into it, recursively: the nested objects whose id is that of a
// document sent on its own (SDKs mark embedded subsegments
// "type":"subsegment" too, so the type does not tell).
func ungraft(d map[string]any, sent map[string]string) []map[string]any {
	out := []map[string]any{d}
	var walk func(o map[string]any)
	walk = func(o map[string]any) {
		subs, _ := o["subsegments"].([]any)
		kept := subs[:0:0]
		for _, x := range subs {
			m, _ := x.(map[string]any)
			if id, _ := m["id"].(string); m != nil && sent[id] != "" {
				out = append(out, ungraft(m, sent)...)
				continue
			}
			if m != nil {
				walk(m)
			}
			kept = append(kept, x)
		}
		if len(kept) < len(subs) {
			if len(kept) == 0 {
				delete(o, "subsegments")
			} else {
				o["subsegments"] = kept
			}
		}
	}
	walk(d)
	return out
}

// canonical is a document as json.Marshal writes it back.
func canonical(t *testing.T, doc string) string {
	var d map[string]any
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(d)
	return string(b)
}
