package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// buildBinary builds cmd/roentgen once per test run (removed by TestMain).
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "roentgen-e2e-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "roentgen")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/roentgen-tracing/roentgen/cmd/roentgen").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// process is the real binary running.
type process struct {
	cmd   *exec.Cmd
	addrs map[string]string
	logs  chan map[string]any
}

func startBinary(t *testing.T, bin, dir string, extra ...string) *process {
	t.Helper()
	args := append([]string{"--data-dir", dir, "--http", "127.0.0.1:0", "--bind", "127.0.0.1:0", "--bind-tcp", "127.0.0.1:0", "--log-format", "json"}, extra...)
	// Listeners other parts add get port 0 too, when the binary has them.
	help, _ := exec.Command(bin, "--help").CombinedOutput()
	for _, f := range []string{"otlp-grpc", "otlp-http"} {
		if strings.Contains(string(help), "-"+f+" ") {
			args = append(args, "--"+f, "127.0.0.1:0")
		}
	}
	cmd := exec.Command(bin, args...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, addrs: map[string]string{}, logs: make(chan map[string]any, 1000)}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				p.logs <- line
			}
		}
		close(p.logs)
	}()
	deadline := time.After(20 * time.Second)
	for p.addrs["http"] == "" || p.addrs["segments (udp)"] == "" || p.addrs["tcp"] == "" {
		select {
		case l, ok := <-p.logs:
			if !ok {
				t.Fatal("roentgen exited during start-up")
			}
			if l["msg"] == "listening" {
				p.addrs[fmt.Sprint(l["what"])] = fmt.Sprint(l["addr"])
			}
		case <-deadline:
			t.Fatalf("roentgen did not report its listeners: %v", p.addrs)
		}
	}
	return p
}

func (p *process) client(t *testing.T) *xray.Client {
	return xraytest.Client(t, "http://"+p.addrs["http"])
}

// SIGTERM stops the real binary cleanly: everything acknowledged before the
// signal (API writes, and datagrams already received) is there after a
// restart.
func TestBinarySIGTERMKeepsAcknowledgedData(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	p := startBinary(t, bin, dir)
	ctx := context.Background()

	apiIDs := putTraces(t, p, 5000, "sigterm")
	udpID := newTraceID(6000)
	c, err := dialUDP(p.addrs["segments (udp)"])
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		c.Write([]byte(`{"format":"json","version":1}` + "\n" + segDoc(udpID, fmt.Sprintf("%016x", i+100), "udp")))
	}
	c.Close()
	time.Sleep(100 * time.Millisecond) // received; maybe not yet stored

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The log is read to its end before Wait, which closes the pipe and
	// would otherwise race the reader for the last lines.
	stopped := false
	done := make(chan error, 1)
	go func() {
		for l := range p.logs {
			if strings.Contains(fmt.Sprint(l["msg"]), "stopped") {
				stopped = true
			}
		}
		done <- p.cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("roentgen exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("roentgen did not stop within 20s of SIGTERM")
	}
	if !stopped {
		t.Error("no 'stopped' log line")
	}

	p = startBinary(t, bin, dir)
	c2 := p.client(t)
	expectTraces(t, c2, apiIDs)
	out, err := c2.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{udpID}})
	if err != nil || len(out.Traces) != 1 || len(out.Traces[0].Segments) != 20 {
		t.Fatalf("UDP trace after restart: %v %+v", err, out)
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	p.cmd.Wait()
}

// SIGKILL, a crash, loses nothing acknowledged either: documents (in their
// own LSM's write-ahead log) and pending marks (in the main one's) survive
// the process, and the restarted server summarises the traces the dead one
// had not, so searches find them.
func TestBinarySIGKILLKeepsAcknowledgedData(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	p := startBinary(t, bin, dir)
	ctx := context.Background()
	ids := putTraces(t, p, 7000, "sigkill")
	// Killed at once: the traces wait a quiet second before their summaries.
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()

	p = startBinary(t, bin, dir)
	c := p.client(t)
	expectTraces(t, c, ids)
	found := map[string]bool{}
	in := &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute)), FilterExpression: aws.String(`service("sigkill")`)}
	for pages := xray.NewGetTraceSummariesPaginator(c, in); pages.HasMorePages(); {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.TraceSummaries {
			found[*s.Id] = true
		}
	}
	for _, id := range ids {
		if !found[id] {
			t.Fatalf("trace %s is not found by search after the crash (%d of %d found)", id, len(found), len(ids))
		}
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	p.cmd.Wait()
}

// putTraces stores 40 one-segment traces of service name through the API
// and returns their ids once it has acknowledged them.
func putTraces(t *testing.T, p *process, first int, name string) []string {
	t.Helper()
	var ids, docs []string
	for i := range 40 {
		id := newTraceID(first + i)
		ids = append(ids, id)
		docs = append(docs, segDoc(id, fmt.Sprintf("%016x", i+1), name))
	}
	res, err := p.client(t).PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	if err != nil || len(res.UnprocessedTraceSegments) != 0 {
		t.Fatalf("put: %v %+v", err, res)
	}
	return ids
}

// expectTraces fails unless BatchGetTraces returns every one of ids.
func expectTraces(t *testing.T, c *xray.Client, ids []string) {
	t.Helper()
	for i := 0; i < len(ids); i += 5 {
		out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: ids[i:min(i+5, len(ids))]})
		if err != nil || len(out.Traces) != min(5, len(ids)-i) {
			t.Fatalf("after restart: %v, %d of %d traces", err, len(out.Traces), min(5, len(ids)-i))
		}
	}
}

func TestBinaryHelp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	cmd := exec.Command(bin, "--help")
	stderr, _ := cmd.StderrPipe()
	cmd.Start()
	b, _ := io.ReadAll(stderr)
	if err := cmd.Wait(); err != nil {
		t.Errorf("--help exited with %v", err)
	}
	for _, f := range []string{"-data-dir", "-http", "-bind", "-b ", "-bind-tcp", "-t ", "-retention", "720h", "127.0.0.1:2000", "127.0.0.1:2020"} {
		if !strings.Contains(string(b), f) {
			t.Errorf("--help does not mention %q:\n%s", f, b)
		}
	}
}
