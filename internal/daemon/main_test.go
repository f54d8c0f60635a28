package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The standard credential chain finds these, as it would on a host.
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDDAEMONTEST", "AWS_SECRET_ACCESS_KEY": "daemon-secret",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		os.Setenv(k, v)
	}
	for _, k := range []string{"AWS_XRAY_DAEMON_ADDRESS", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_XRAY", "AWS_PROFILE", "AWS_SESSION_TOKEN"} {
		os.Unsetenv(k)
	}
	goleak.VerifyTestMain(m,
		// the SDK's and net/http's idle connection goroutines outlive a test briefly
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"))
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testConfig points a daemon on free loopback ports at endpoint, with
// short waits so that tests run in seconds.
func testConfig(endpoint string) Config {
	return Config{
		UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Endpoint: endpoint, Region: "us-east-1", LocalMode: true,
		BufferMemoryMB: 16, Concurrency: 4, Logger: quiet, Version: "test",
		BatchWait: 20 * time.Millisecond, RetryBase: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		RequestTimeout: 2 * time.Second, ShutdownTimeout: 5 * time.Second, TelemetryInterval: time.Hour,
	}
}

func startDaemon(t *testing.T, cfg Config) *Daemon {
	t.Helper()
	d, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop() })
	return d
}

// restartable serves h on one fixed loopback port that can be taken down
// (connections refused) and brought back.
type restartable struct {
	t    *testing.T
	addr string
	h    http.Handler
	mu   sync.Mutex
	srv  *http.Server
}

func newRestartable(t *testing.T, h http.Handler) *restartable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &restartable{t: t, addr: ln.Addr().String(), h: h}
	r.serve(ln)
	t.Cleanup(r.down)
	return r
}

func (r *restartable) URL() string { return "http://" + r.addr }

func (r *restartable) serve(ln net.Listener) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.srv = &http.Server{Handler: r.h}
	go r.srv.Serve(ln)
}

func (r *restartable) up() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.serve(ln)
}

func (r *restartable) down() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

// doc is a valid segment document: trace n of this test run, segment i.
func doc(run int64, trace, i int) string {
	now := float64(time.Now().UnixMicro()) / 1e6
	return fmt.Sprintf(`{"trace_id":"%s","id":"%016x","name":"svc-%d","start_time":%.6f,"end_time":%.6f,"annotations":{"i":%d}}`,
		traceID(run, trace), uint64(trace)<<24|uint64(i)+1, trace%3, now-1, now-0.5, i)
}

func traceID(run int64, trace int) string {
	// The epoch part is the run's start, so that ids computed later match.
	return fmt.Sprintf("1-%08x-%012x%012x", run/1e9, run&0xffffffffffff, trace)
}

const header = `{"format": "json", "version": 1}` + "\n"

// send writes datagrams of traces × per documents to addr over real UDP.
func send(t *testing.T, addr string, run int64, traces, per int) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for tr := range traces {
		for i := range per {
			if _, err := c.Write([]byte(header + doc(run, tr, i))); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// countStored reads every trace back with BatchGetTraces and counts the
// distinct documents stored.
func countStored(t *testing.T, c *xray.Client, run int64, traces int) int {
	t.Helper()
	ids := make([]string, traces)
	for i := range ids {
		ids[i] = traceID(run, i)
	}
	n := 0
	for len(ids) > 0 {
		k := min(5, len(ids))
		var next *string
		for {
			out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: ids[:k], NextToken: next})
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range out.Traces {
				n += len(tr.Segments)
			}
			if next = out.NextToken; next == nil {
				break
			}
		}
		ids = ids[k:]
	}
	return n
}

// waitStored polls until want documents are stored or the deadline passes.
func waitStored(t *testing.T, api *xraytest.API, run int64, traces, want int, within time.Duration) int {
	t.Helper()
	c := api.Client(t)
	deadline := time.Now().Add(within)
	for {
		n := countStored(t, c, run, traces)
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func dialUDP(addr string) (net.Conn, error) { return net.Dial("udp", addr) }
