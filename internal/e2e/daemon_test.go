package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsxray "github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/roentgen-tracing/roentgen/internal/daemon"
)

// viaDaemon runs `roentgen daemon` in front of the server, uploading with
// SigV4 credentials from the standard chain (the environment here), and
// returns its address in AWS_XRAY_DAEMON_ADDRESS's two-part form.
func (s *server) viaDaemon() (*daemon.Daemon, string) {
	s.t.Helper()
	s.t.Setenv("AWS_ACCESS_KEY_ID", "AKIDE2EDAEMON")
	s.t.Setenv("AWS_SECRET_ACCESS_KEY", "e2e-secret")
	s.t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	d, err := daemon.Start(context.Background(), daemon.Config{
		UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Endpoint: s.URL("http"), Region: "us-east-1", LocalMode: true,
		BufferMemoryMB: 8, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "e2e",
	})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { d.Stop() })
	return d, fmt.Sprintf("tcp:%s udp:%s", d.Addr("tcp"), d.Addr("udp"))
}

// createRule adds a sampling rule that samples every request of service.
func (s *server) createRule(name, service string) {
	s.t.Helper()
	_, err := s.client("http").CreateSamplingRule(context.Background(), &awsxray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: aws.String(name), ResourceARN: aws.String("*"), Priority: aws.Int32(1), FixedRate: 1, ReservoirSize: 1,
		ServiceName: aws.String(service), ServiceType: aws.String("*"), Host: aws.String("*"), HTTPMethod: aws.String("*"),
		URLPath: aws.String("*"), Version: aws.Int32(1),
	}})
	if err != nil {
		s.t.Fatal(err)
	}
}

// countSubsegments counts every subsegment of a trace, embedded or sent on
// its own, by name prefix.
func countSubsegments(t *testing.T, tr types.Trace, prefix string) int {
	n := 0
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		if strings.HasPrefix(fmt.Sprint(m["name"]), prefix) {
			n++
		}
		subs, _ := m["subsegments"].([]any)
		for _, s := range subs {
			walk(s.(map[string]any))
		}
	}
	for _, d := range docsByID(t, tr) {
		walk(d)
	}
	return n
}

// The official Go SDK with its default centralized sampling, pointed only
// at the daemon: its rules come through the daemon's signing proxy (it
// samples by a rule made on the server), and a trace big enough that the
// SDK streams subsegments separately reads back whole.
func TestDaemonGoSDK(t *testing.T) {
	s := startServer(t)
	s.createRule("go-via-daemon", "go-daemon-e2e")
	_, addr := s.viaDaemon()
	strategy, err := sampling.NewCentralizedStrategy()
	if err != nil {
		t.Fatal(err)
	}
	if err := xray.Configure(xray.Config{DaemonAddr: addr, SamplingStrategy: strategy, ServiceVersion: "e2e"}); err != nil {
		t.Fatal(err)
	}

	var traceID string
	deadline := time.Now().Add(15 * time.Second)
	for traceID == "" {
		if time.Now().After(deadline) {
			t.Fatal("the Go SDK never sampled by the server's rule: rules did not come through the daemon's proxy")
		}
		ctx, seg := xray.BeginSegment(context.Background(), "go-daemon-e2e")
		rule := ""
		if sdk, ok := seg.GetAWS()["xray"].(xray.SDK); ok {
			rule = sdk.RuleName
		}
		if rule == "go-via-daemon" && seg.Sampled {
			// More subsegments than the SDK keeps in one document (20).
			for i := range 30 {
				_ = xray.Capture(ctx, fmt.Sprintf("step-%02d", i), func(context.Context) error { return nil })
			}
			traceID = seg.TraceID
		}
		seg.Close(nil)
		if traceID == "" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The server grafts streamed subsegments into their segment's document,
	// so the trace is read until it holds all 30, not a count of documents.
	tr := s.waitTraces(traceID)[traceID]
	deadline = time.Now().Add(10 * time.Second)
	for countSubsegments(t, tr, "step-") < 30 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		tr = s.waitTraces(traceID)[traceID]
	}
	if n := countSubsegments(t, tr, "step-"); n != 30 {
		t.Errorf("trace holds %d of 30 subsegments (%d documents)", n, len(tr.Segments))
	}
}

const pythonViaDaemon = `
import sys, time
from aws_xray_sdk.core import xray_recorder
xray_recorder.configure(daemon_address=sys.argv[1], context_missing="LOG_ERROR", service="py-daemon-e2e")
deadline = time.time() + 15
while time.time() < deadline:
    seg = xray_recorder.begin_segment("py-daemon-e2e")
    rule = seg.aws.get("xray", {}).get("sampling_rule_name")
    if seg.sampled and rule == "py-via-daemon":
        with xray_recorder.in_subsegment("lookup") as sub:
            sub.put_annotation("via", "daemon")
        xray_recorder.end_segment()
        print(seg.trace_id, rule)
        time.sleep(0.3)
        sys.exit(0)
    xray_recorder.end_segment()
    time.sleep(0.1)
print("never sampled by py-via-daemon", file=sys.stderr)
sys.exit(1)
`

// The Python SDK, with centralized sampling, through the daemon.
func TestDaemonPythonSDK(t *testing.T) {
	if err := exec.Command("python3", "-c", "import aws_xray_sdk").Run(); err != nil {
		t.Skip("python3 with aws-xray-sdk is not installed (pip install aws-xray-sdk)")
	}
	s := startServer(t)
	s.createRule("py-via-daemon", "py-daemon-e2e")
	_, addr := s.viaDaemon()
	out, err := exec.Command("python3", "-c", pythonViaDaemon, addr).Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		t.Fatalf("python printed %q", out)
	}
	tr := s.waitDocs(f[0], 1)
	if n := countSubsegments(t, tr, "lookup"); n != 1 {
		t.Errorf("trace %s: %d lookup subsegments in %v", f[0], n, tr.Segments)
	}
}

// The Node.js SDK, with centralized sampling, through the daemon.
func TestDaemonNodeSDK(t *testing.T) {
	dir := filepath.Join("testdata", "nodesdk")
	if _, err := exec.LookPath("node"); err != nil {
		skipOutsideCI(t, "node is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "aws-xray-sdk-core")); err != nil {
		skipOutsideCI(t, "aws-xray-sdk-core is not installed (cd internal/e2e/testdata/nodesdk && npm ci)")
	}
	s := startServer(t)
	s.createRule("node-via-daemon", "node-daemon-e2e")
	_, addr := s.viaDaemon()
	cmd := exec.Command("node", "daemon.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AWS_XRAY_DAEMON_ADDRESS="+addr)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 || f[1] != "node-via-daemon" {
		t.Fatalf("node printed %q", out)
	}
	tr := s.waitDocs(f[0], 1)
	if n := countSubsegments(t, tr, "inventory"); n != 1 {
		t.Errorf("trace %s: %d inventory subsegments in %v", f[0], n, tr.Segments)
	}
}

// freePort is a loopback port free for both UDP and TCP just now.
func freePort(t *testing.T) string {
	t.Helper()
	for range 20 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := u.LocalAddr().String()
		l, err := net.Listen("tcp", addr)
		u.Close()
		if err == nil {
			l.Close()
			return addr
		}
	}
	t.Fatal("no free port")
	return ""
}

// The real binary: an app emits 200 segments and the daemon gets SIGTERM
// at the same moment; all 200 are in the server when the daemon has exited.
func TestDaemonBinarySIGTERM(t *testing.T) {
	bin := buildBinary(t)
	s := startServer(t)
	addr := freePort(t)
	cmd := exec.Command(bin, "daemon", "-b", addr, "-t", addr, "-e", s.URL("http"), "-n", "us-east-1", "-o", "-l", "debug")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDBIN", "AWS_SECRET_ACCESS_KEY=bin", "AWS_EC2_METADATA_DISABLED=true")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	started := make(chan struct{})
	var logs strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "daemon started") {
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatalf("daemon did not start:\n%s", logs.String())
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = newTraceID(9000 + i)
	}
	for i := range 200 {
		d := segDoc(ids[i%10], fmt.Sprintf("%016x", 0xd000+i), "sigterm-app")
		c.Write([]byte(`{"format":"json","version":1}` + "\n" + d))
	}
	c.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("daemon exit: %v\n%s", err, logs.String())
	}
	got := 0
	for _, tr := range s.waitTraces(ids...) {
		got += len(tr.Segments)
	}
	if got != 200 {
		t.Fatalf("%d of 200 segments stored after the daemon exited", got)
	}
}

// Every recorded SDK request (unsigned, chunked, some without
// Content-Type), replayed byte for byte to the daemon's TCP side, is
// signed, forwarded and answered by the server.
func TestRecordedSDKRequestsThroughDaemonProxy(t *testing.T) {
	s := startServer(t)
	d, _ := s.viaDaemon()
	root := filepath.Join("..", "fixtures", "testdata")
	n := 0
	err := filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(path, ".http") || strings.Contains(path, "awscli") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		resp, body := replay(t, d.Addr("tcp").String(), raw)
		n++
		switch resp.StatusCode {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusInternalServerError, http.StatusBadGateway:
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if resp.Header.Get("X-Amzn-RequestId") == "" || !json.Valid(body) {
			t.Errorf("%s: request id %q, body %s", path, resp.Header.Get("X-Amzn-RequestId"), body)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("only %d recorded SDK requests found", n)
	}
}
