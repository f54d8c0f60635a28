package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/fixtures"
	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// tree is a BatchGetTraces document reduced to ids and nesting.
type tree struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Inferred bool   `json:"inferred"`
	Subs     []tree `json:"subsegments"`
}

func (t tree) String() string {
	var b strings.Builder
	b.WriteString(t.Name)
	if len(t.Subs) > 0 {
		b.WriteString("[")
		for i, s := range t.Subs {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(s.String())
		}
		b.WriteString("]")
	}
	return b.String()
}

// traceTrees fetches one trace and returns its sent (not inferred)
// top-level documents as trees, and the raw documents by id.
func traceTrees(t *testing.T, c *xray.Client, id string) ([]tree, map[string]string) {
	t.Helper()
	out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Traces) != 1 {
		t.Fatalf("BatchGetTraces(%s): %d traces, unprocessed %v", id, len(out.Traces), out.UnprocessedTraceIds)
	}
	var trees []tree
	raw := map[string]string{}
	for _, s := range out.Traces[0].Segments {
		var tr tree
		if err := json.Unmarshal([]byte(aws.ToString(s.Document)), &tr); err != nil {
			t.Fatal(err)
		}
		if tr.ID != aws.ToString(s.Id) {
			t.Errorf("segment Id %s holds document %s", aws.ToString(s.Id), tr.ID)
		}
		if tr.Inferred {
			continue
		}
		trees = append(trees, tr)
		raw[tr.ID] = aws.ToString(s.Document)
	}
	return trees, raw
}

func putFixtureFolder(t *testing.T, c *xray.Client, folder string) string {
	t.Helper()
	sh := fixtures.ShiftTo(time.Now())
	var docs []string
	var traceID string
	for _, d := range fixtures.DatagramsIn(folder) {
		body, err := segment.SplitDatagram(sh.Doc(d.Bytes))
		if err != nil {
			t.Fatal(err)
		}
		var h struct {
			TraceID string `json:"trace_id"`
		}
		_ = json.Unmarshal(body, &h)
		traceID = h.TraceID
		docs = append(docs, string(body))
	}
	out, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.UnprocessedTraceSegments) > 0 {
		t.Fatalf("unprocessed: %+v", out.UnprocessedTraceSegments[0])
	}
	return traceID
}

// The SDKs' recorded streaming: every independent subsegment comes back
// inside its parent, the nested ones (records under an independent batch)
// included, in time order.
func TestBatchGetTracesGraftsStreamedSubsegments(t *testing.T) {
	for folder, want := range map[string]string{
		"node-sdk-3.12.0/stream":   "ingest-node[sns.example.com batch[record-0 record-1 record-2]]",
		"python-sdk-2.15.0/stream": "ingest-py[batch[record-0 record-1 record-2] sns.example.com]",
	} {
		t.Run(folder, func(t *testing.T) {
			c, _ := graphServer(t)
			id := putFixtureFolder(t, c, folder)
			trees, _ := traceTrees(t, c, id)
			if len(trees) != 1 || trees[0].String() != want {
				t.Fatalf("documents %v, want one: %s", trees, want)
			}
		})
	}
}

func TestBatchGetTracesGraftRules(t *testing.T) {
	c, _ := graphServer(t)
	base := float64(time.Now().Unix() - 30)
	tid := fmt.Sprintf("1-%08x-%024x", int64(base), 77)
	seg := func(id, name string, start float64, extra string) string {
		return fmt.Sprintf(`{"trace_id":%q,"id":%q,"name":%q,"start_time":%.3f,"end_time":%.3f%s}`, tid, id, name, start, start+1, extra)
	}
	sub := func(id, parent, name string, start float64) string {
		return fmt.Sprintf(`{"type":"subsegment","trace_id":%q,"parent_id":%q,"id":%q,"name":%q,"start_time":%.3f,"end_time":%.3f}`, tid, parent, id, name, start, start+0.5)
	}
	plain := seg("000000000000000e", "plain", base, `,"http":{"request":{"url":"https://x/?a=1&b=<2>"}}`)
	docs := []string{
		// root with an embedded subsegment (in progress: later sent whole)
		// and another embedded one that gets an independent child.
		seg("0000000000000001", "root", base, `,"subsegments":[{"id":"0000000000000002","name":"early","start_time":`+fmt.Sprintf("%.3f", base)+`,"in_progress":true},{"id":"0000000000000003","name":"embedded","start_time":`+fmt.Sprintf("%.3f", base)+`,"end_time":`+fmt.Sprintf("%.3f", base+1)+`}]`),
		sub("0000000000000002", "0000000000000001", "early-done", base+0.1),
		sub("0000000000000004", "0000000000000003", "under-embedded", base+0.2),
		// parent sent after its child; child of a child.
		sub("0000000000000006", "0000000000000005", "grandchild", base+0.4),
		sub("0000000000000005", "0000000000000001", "child", base+0.3),
		// orphan: the parent never arrives.
		sub("0000000000000007", "00000000000000ff", "orphan", base+0.5),
		// a cycle of parents: both stay top-level.
		sub("0000000000000008", "0000000000000009", "cycle-a", base+0.6),
		sub("0000000000000009", "0000000000000008", "cycle-b", base+0.7),
		plain,
	}
	out, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.UnprocessedTraceSegments) > 0 {
		t.Fatalf("unprocessed: %s", aws.ToString(out.UnprocessedTraceSegments[0].Message))
	}
	trees, raw := traceTrees(t, c, tid)
	got := map[string]string{}
	for _, tr := range trees {
		got[tr.Name] = tr.String()
	}
	want := map[string]string{
		"root":    "root[early-done embedded[under-embedded] child[grandchild]]",
		"orphan":  "orphan",
		"cycle-a": "cycle-a[cycle-b]",
		"plain":   "plain",
	}
	// Which of the cycle stays on top depends on nothing sent; either is fine.
	if _, ok := got["cycle-b"]; ok {
		want["cycle-b"], want["cycle-a"] = "cycle-b[cycle-a]", ""
		delete(want, "cycle-a")
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("documents\n got %v\nwant %v", got, want)
	}
	// Untouched documents come back byte for byte.
	if raw["000000000000000e"] != plain {
		t.Errorf("plain document changed:\n got %s\nwant %s", raw["000000000000000e"], plain)
	}
	// A grafted child keeps its members, so the answer can be sent again.
	var root struct {
		Subsegments []map[string]any `json:"subsegments"`
	}
	if err := json.Unmarshal([]byte(raw["0000000000000001"]), &root); err != nil {
		t.Fatal(err)
	}
	last := root.Subsegments[len(root.Subsegments)-1]
	if last["type"] != "subsegment" || last["parent_id"] != "0000000000000001" || last["trace_id"] != tid {
		t.Errorf("grafted child lost its own members: %v", last)
	}
	// Timestamps keep their digits.
	if !strings.Contains(raw["0000000000000001"], fmt.Sprintf(`"start_time":%.3f`, base+0.3)) {
		t.Errorf("start_time re-encoded: %s", raw["0000000000000001"])
	}
}
