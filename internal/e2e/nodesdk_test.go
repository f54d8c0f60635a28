package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/xraytest/jsonpath"
)

// The official X-Ray SDK for Node.js (aws-xray-sdk-core, installed by
// scripts/test.sh into testdata/nodesdk) sends over UDP; the trace reads
// back, and a filter expression finds it by what the SDK recorded.
func TestNodeSDK(t *testing.T) {
	dir := filepath.Join("testdata", "nodesdk")
	if _, err := exec.LookPath("node"); err != nil {
		skipOutsideCI(t, "node is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "aws-xray-sdk-core")); err != nil {
		skipOutsideCI(t, "aws-xray-sdk-core is not installed (cd internal/e2e/testdata/nodesdk && npm ci)")
	}
	s := startServer(t)
	cmd := exec.Command("node", "send.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AWS_XRAY_DAEMON_ADDRESS="+s.Addr("udp").String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	traceID := strings.TrimSpace(string(out))
	tr := s.waitDocs(traceID, 1)
	var seg map[string]any
	for _, d := range docsByID(t, tr) {
		if d["name"] == "node-e2e" {
			seg = d
		}
	}
	if seg == nil {
		t.Fatalf("no node-e2e segment in %v", tr.Segments)
	}
	for path, want := range map[string]any{
		"fault": true, "user": "node-user", "annotations.lang": "node", "annotations.items": 3.0,
		"metadata.default.order.id": "o-1", "http.response.status": 502.0,
		"subsegments.0.name": "inventory", "subsegments.0.fault": true,
		"subsegments.0.cause.exceptions.0.message": "inventory unavailable",
		"aws.xray.sdk": "X-Ray for Node.js",
	} {
		if got := jsonpath.At(seg, path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}

	// The remote call is an inferred node, and filters see both.
	win := func(expr string) *xray.GetTraceSummariesInput {
		return &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute)), FilterExpression: aws.String(expr)}
	}
	for _, expr := range []string{
		`annotation.lang = "node" AND user = "node-user" AND http.status = 502`,
		`service("node-e2e") { fault } AND annotation.items = 3`,
		`edge("node-e2e", "inventory") { fault }`,
	} {
		res, err := s.client("http").GetTraceSummaries(context.Background(), win(expr))
		if err != nil || len(res.TraceSummaries) != 1 || aws.ToString(res.TraceSummaries[0].Id) != traceID {
			t.Errorf("%s: %v %+v", expr, err, res)
		}
	}
}

// skipOutsideCI skips a test whose real client is missing on a developer's
// machine; in CI (CI=true) scripts/test.sh installs it, so missing is a failure.
func skipOutsideCI(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s, and CI is set: scripts/test.sh should have installed it", why)
	}
	t.Skip(why)
}
