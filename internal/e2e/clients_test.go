package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
)

const pythonProgram = `
import sys
from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.models import http
xray_recorder.configure(sampling=False, context_missing="LOG_ERROR")
seg = xray_recorder.begin_segment("py-e2e")
seg.put_http_meta(http.METHOD, "GET")
seg.put_http_meta(http.URL, "http://py.example/items")
seg.put_http_meta(http.STATUS, 404)
seg.put_annotation("lang", "python")
seg.set_user("py-user")
sub = xray_recorder.begin_subsegment("lookup", "remote")
try:
    raise KeyError("no such item")
except KeyError as e:
    sub.add_exception(e, [])
xray_recorder.end_subsegment()
xray_recorder.end_segment()
print(seg.trace_id)
`

// The preinstalled Python SDK sends over UDP to AWS_XRAY_DAEMON_ADDRESS.
func TestPythonSDK(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed; this test needs python3 with aws-xray-sdk (pip install aws-xray-sdk)")
	}
	if err := exec.Command("python3", "-c", "import aws_xray_sdk").Run(); err != nil {
		t.Skip("the Python package aws-xray-sdk is not installed (pip install aws-xray-sdk)")
	}
	s := startServer(t)
	cmd := exec.Command("python3", "-c", pythonProgram)
	cmd.Env = append(os.Environ(), "AWS_XRAY_DAEMON_ADDRESS="+s.Addr("udp").String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	traceID := strings.TrimSpace(string(out))
	tr := s.waitDocs(traceID, 1)
	var seg map[string]any
	for _, d := range docsByID(t, tr) {
		if d["name"] == "py-e2e" {
			seg = d
		}
	}
	if seg == nil {
		t.Fatalf("no py-e2e segment in %v", tr.Segments)
	}
	if seg["error"] != true || seg["user"] != "py-user" || seg["annotations"].(map[string]any)["lang"] != "python" {
		t.Errorf("segment = %v", seg)
	}
	sub := seg["subsegments"].([]any)[0].(map[string]any)
	if sub["fault"] != true && sub["error"] != true || sub["cause"] == nil {
		t.Errorf("subsegment lost its exception: %v", sub)
	}
	res, err := s.client("http").GetTraceSummaries(context.Background(), &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute))})
	if err != nil || len(res.TraceSummaries) != 1 {
		t.Fatalf("summaries: %v %+v", err, res)
	}
	ts := res.TraceSummaries[0]
	if aws.ToString(ts.Id) != traceID || !aws.ToBool(ts.HasError) || aws.ToInt32(ts.Http.HttpStatus) != 404 || len(ts.Users) != 1 {
		t.Errorf("summary = %+v", ts)
	}
}

// The preinstalled AWS CLI, pointed at the server with --endpoint-url.
func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not installed")
	}
	s := startServer(t)
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"xray", "--endpoint-url", s.URL("http"), "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		var v map[string]any
		if len(strings.TrimSpace(string(out))) > 0 {
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("aws %v: output is not JSON: %s", args, out)
			}
		}
		return v
	}
	id := newTraceID(42)
	doc := segDoc(id, "70de5b6f19ff9a0a", "cli-svc", `"annotations":{"via":"cli"}`)
	out := run("put-trace-segments", "--trace-segment-documents", doc, `{"id":"bad"}`)
	if u := out["UnprocessedTraceSegments"].([]any); len(u) != 1 || u[0].(map[string]any)["ErrorCode"] != "InvalidSegmentId" {
		t.Errorf("put-trace-segments: %v", out)
	}
	out = run("batch-get-traces", "--trace-ids", id)
	traces := out["Traces"].([]any)
	if len(traces) != 1 {
		t.Fatalf("batch-get-traces: %v", out)
	}
	segs := traces[0].(map[string]any)["Segments"].([]any)
	if len(segs) != 1 || segs[0].(map[string]any)["Document"] != doc {
		t.Errorf("batch-get-traces segments: %v", segs)
	}
	now := time.Now().Unix()
	out = run("get-trace-summaries", "--start-time", strconv.FormatInt(now-60, 10), "--end-time", strconv.FormatInt(now+60, 10))
	sums := out["TraceSummaries"].([]any)
	if len(sums) != 1 || sums[0].(map[string]any)["Id"] != id {
		t.Fatalf("get-trace-summaries: %v", out)
	}
	ann := sums[0].(map[string]any)["Annotations"].(map[string]any)["via"].([]any)[0].(map[string]any)
	if fmt.Sprint(ann["AnnotationValue"]) != "map[StringValue:cli]" {
		t.Errorf("annotation via = %v", ann)
	}
	out = run("get-encryption-config")
	if out["EncryptionConfig"].(map[string]any)["Type"] != "NONE" {
		t.Errorf("get-encryption-config: %v", out)
	}
}
