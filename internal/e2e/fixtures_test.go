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
		tr := s.waitDocs(id, len(want[id]))
		got := map[string]string{}
		for _, sg := range tr.Segments {
			// Inferred segments (downstream calls drawn as nodes) are the
			// server's additions, not documents a client sent.
			if _, sent := want[id][aws.ToString(sg.Id)]; !sent {
				if !isInferred(aws.ToString(sg.Document)) {
					t.Errorf("trace %s: unexpected document %s", id, aws.ToString(sg.Document))
				}
				continue
			}
			got[aws.ToString(sg.Id)] = aws.ToString(sg.Document)
		}
		if len(got) != len(want[id]) {
			t.Errorf("trace %s: %d documents, want %d", id, len(got), len(want[id]))
		}
		for docID, body := range want[id] {
			if got[docID] != body {
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
