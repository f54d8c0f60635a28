package xray_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsxray "github.com/aws/aws-sdk-go-v2/service/xray"

	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"github.com/roentgen-tracing/roentgen/xray"
	"github.com/roentgen-tracing/roentgen/xray/strategy/sampling"
)

const childEnv = "ROENTGEN_XRAY_CHILD_DAEMON"

// TestChildEmits500ThenExits is the child process of
// TestShortLivedProcessLosesNothing: it emits 500 segments, prints their
// trace ids, calls Shutdown and exits at once.
func TestChildEmits500ThenExits(t *testing.T) {
	addr := os.Getenv(childEnv)
	if addr == "" {
		t.Skip("runs as a child process only")
	}
	all, _ := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":0,"rate":1},"rules":[]}`))
	if err := xray.Configure(xray.Config{DaemonAddr: addr, SamplingStrategy: all}); err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; i < 500; i++ {
		ctx, seg := xray.BeginSegment(context.Background(), "short-lived")
		_ = xray.AddAnnotation(ctx, "n", i)
		seg.Close(nil)
		w.WriteString("TRACE " + seg.TraceID + "\n")
	}
	w.Flush()
	if err := xray.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Exit(0)
}

// A real child process emits 500 segments and exits right after Shutdown;
// Roentgen stores all 500.
func TestShortLivedProcessLosesNothing(t *testing.T) {
	s := xraytest.Start(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildEmits500ThenExits$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+s.Addr("udp").String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var ids []string
	for _, l := range strings.Split(string(out), "\n") {
		if id, ok := strings.CutPrefix(l, "TRACE "); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) != 500 {
		t.Fatalf("child printed %d trace ids", len(ids))
	}
	c := s.Client(t)
	found := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for len(found) < len(ids) && time.Now().Before(deadline) {
		for i := 0; i < len(ids); i += 5 {
			var batch []string
			for _, id := range ids[i:min(i+5, len(ids))] {
				if !found[id] {
					batch = append(batch, id)
				}
			}
			if len(batch) == 0 {
				continue
			}
			resp, err := c.BatchGetTraces(context.Background(), &awsxray.BatchGetTracesInput{TraceIds: batch})
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range resp.Traces {
				if len(tr.Segments) > 0 {
					found[aws.ToString(tr.Id)] = true
				}
			}
		}
		if len(found) < len(ids) {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if len(found) != 500 {
		t.Errorf("%d of 500 segments stored", len(found))
	}
}

// A 300 kB segment reaches Roentgen whole: streamed as subsegments, the
// trace reads back with every subsegment and all of its metadata.
func TestLargeSegmentStoredWhole(t *testing.T) {
	s := xraytest.Start(t)
	all, _ := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":0,"rate":1},"rules":[]}`))
	if err := xray.Configure(xray.Config{DaemonAddr: s.Addr("udp").String(), SamplingStrategy: all}); err != nil {
		t.Fatal(err)
	}
	defer xray.Shutdown(context.Background())
	ctx, seg := xray.BeginSegment(context.Background(), "big-report")
	blob := strings.Repeat("r", 25_000)
	for i := 0; i < 12; i++ {
		_ = xray.Capture(ctx, "chunk", func(ctx context.Context) error { return xray.AddMetadata(ctx, "rows", blob) })
	}
	seg.Close(nil)
	if err := xray.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := s.Client(t)
	// Streamed subsegments come back grafted into their parent (as X-Ray
	// answers BatchGetTraces), at whatever depth: count them wherever.
	var chunks, bytes, docs int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := c.BatchGetTraces(context.Background(), &awsxray.BatchGetTracesInput{TraceIds: []string{seg.TraceID}})
		if err != nil {
			t.Fatal(err)
		}
		chunks, bytes, docs = 0, 0, 0
		if len(resp.Traces) == 1 {
			docs = len(resp.Traces[0].Segments)
			for _, d := range resp.Traces[0].Segments {
				var doc map[string]any
				if err := json.Unmarshal([]byte(aws.ToString(d.Document)), &doc); err != nil {
					t.Fatal(err)
				}
				var walk func(m map[string]any, parent string)
				walk = func(m map[string]any, parent string) {
					if m["name"] == "chunk" {
						chunks++
						bytes += len(m["metadata"].(map[string]any)["default"].(map[string]any)["rows"].(string))
						if parent != seg.ID {
							t.Errorf("chunk under %v, want %s", parent, seg.ID)
						}
					}
					subs, _ := m["subsegments"].([]any)
					for _, sub := range subs {
						walk(sub.(map[string]any), fmt.Sprint(m["id"]))
					}
				}
				walk(doc, fmt.Sprint(doc["parent_id"]))
			}
		}
		if chunks >= 12 {
			break
		}
	}
	if chunks != 12 || bytes != 300_000 {
		t.Errorf("stored %d chunks with %d metadata bytes (%d documents)", chunks, bytes, docs)
	}
}
