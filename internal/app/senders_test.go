package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// The two-server benchmark's load generator runs in a child process (this
// test binary again, with sendersEnv set), so this process's CPU is the
// servers' alone: the issue counts Roentgen's processes, not the daemons
// that send to them. Its senders keep their connections alive, as an
// X-Ray daemon does (xraytest.Post dials one per request).
const (
	sendersEnv = "ROENTGEN_BENCH_SENDERS" // the servers' URLs, space-separated
	sendersN   = "ROENTGEN_BENCH_SEGMENTS"
	sendersAt  = "ROENTGEN_BENCH_AT" // the first trace's time, Unix nanoseconds
	// traceRateEnv spaces the generated traces' ids in time, traces a second
	// (bench.NominalTraceRate unless set; also passed to the child).
	traceRateEnv = "ROENTGEN_BENCH_TRACE_RATE"
	sendersConns = 32 // daemons on many hosts
)

type senders struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startSenders starts the child and waits until it has generated its
// bodies (not timed).
func startSenders(b *testing.B, at time.Time, rate float64, n int, urls ...string) *senders {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), sendersEnv+"="+strings.Join(urls, " "),
		sendersN+"="+strconv.Itoa(n), sendersAt+"="+strconv.FormatInt(at.UnixNano(), 10),
		traceRateEnv+"="+strconv.FormatFloat(rate, 'g', -1, 64))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &senders{cmd, in, bufio.NewReader(out)}
	b.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	if line, err := s.out.ReadString('\n'); line != "ready\n" {
		b.Fatalf("senders: %q %v", line, err)
	}
	return s
}

// run lets the child send everything and returns the CPU it spent sending.
func (s *senders) run(b *testing.B) time.Duration {
	b.Helper()
	if _, err := io.WriteString(s.in, "go\n"); err != nil {
		b.Fatal(err)
	}
	line, err := s.out.ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 6 || f[0] != "cpu" || f[2] != "throttled" || f[4] != "slowest" {
		b.Fatalf("senders: %q %v", line, err)
	}
	ns, perr := strconv.ParseInt(f[1], 10, 64)
	throttled, terr := strconv.Atoi(f[3])
	slowest, serr := strconv.ParseInt(f[5], 10, 64)
	if perr != nil || terr != nil || serr != nil {
		b.Fatalf("senders: %q", line)
	}
	// The longest a call took (a throttled one's resends apart): writes
	// must not stall (docs/clickhouse.md, "Writes that stalled").
	b.ReportMetric(float64(slowest)/1e6, "slowest-call-ms")
	// Calls refused at the servers' memory bound and sent again, as the
	// X-Ray daemon does: a faster write path can outrun the summaries.
	b.ReportMetric(float64(throttled), "throttled")
	return time.Duration(ns)
}

// sendersMain is the child: it generates the bodies, says "ready", waits
// for "go", sends them from sendersConns goroutines alternating between
// the servers, and answers "cpu <ns> throttled <calls> slowest <ns>" (its
// CPU while sending, the calls refused and sent again, the longest call)
// or an error.
func sendersMain() int {
	urls := strings.Fields(os.Getenv(sendersEnv))
	n, err1 := strconv.Atoi(os.Getenv(sendersN))
	at, err2 := strconv.ParseInt(os.Getenv(sendersAt), 10, 64)
	rate, err3 := strconv.ParseFloat(os.Getenv(traceRateEnv), 64)
	if len(urls) == 0 || err1 != nil || err2 != nil || err3 != nil || rate <= 0 {
		fmt.Println("error: bad environment")
		return 1
	}
	batches := bench.NewGenerator(1).BatchesAt(time.Unix(0, at), rate, n, 50)
	bodies := make([][]byte, len(batches))
	for i, batch := range batches {
		docs := make([]string, len(batch))
		for j, d := range batch {
			docs[j] = string(d)
		}
		bodies[i], _ = json.Marshal(map[string]any{"TraceSegmentDocuments": docs})
	}
	fmt.Println("ready")
	if line, _ := bufio.NewReader(os.Stdin).ReadString('\n'); line != "go\n" {
		return 1
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: sendersConns}}
	cpu := bench.CPUTime()
	var next, throttled, slowest atomic.Int64
	var failed atomic.Pointer[string]
	watch := newStallWatch()
	var wg sync.WaitGroup
	for range sendersConns {
		wg.Go(func() {
			for failed.Load() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(bodies)) {
					return
				}
				for {
					url := urls[i%int64(len(urls))]
					end := watch.start(fmt.Sprintf("call %d to %s", i, url))
					began := time.Now()
					err := send(client, url+"/TraceSegments", bodies[i])
					for d := int64(time.Since(began)); ; {
						if m := slowest.Load(); d <= m || slowest.CompareAndSwap(m, d) {
							break
						}
					}
					end()
					if errors.Is(err, errThrottled) {
						throttled.Add(1)
						time.Sleep(100 * time.Millisecond)
						continue
					}
					if err != nil {
						msg := err.Error()
						failed.Store(&msg)
					}
					break
				}
			}
		})
	}
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		fmt.Println("error:", *msg)
		return 1
	}
	fmt.Println("cpu", int64(bench.CPUTime()-cpu), "throttled", throttled.Load(), "slowest", slowest.Load())
	return 0
}

// errThrottled is a call refused whole at the server's memory bound
// (ThrottledException): nothing of it was stored, so it is sent again.
var errThrottled = errors.New("PutTraceSegments: throttled")

// send is one PutTraceSegments call; any segment unprocessed is an error.
func send(c *http.Client, url string, body []byte) error {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusTooManyRequests && strings.Contains(string(out), "ThrottledException") {
		return errThrottled
	}
	if resp.StatusCode != 200 || strings.Contains(string(out), `"Id"`) {
		return fmt.Errorf("PutTraceSegments: %d %.300s", resp.StatusCode, out)
	}
	return nil
}

// traceRate is how far apart in time the benchmark's traces are, traces a
// second: bench.NominalTraceRate (the 50,000 segments/s), or
// traceRateEnv. Trace ids begin with their trace's second, which orders
// the store's keys, so ids spaced faster than the run sends them put all of
// a run in a narrow stretch of keys: every flush's reads by trace id then
// touch every granule written so far (docs/clickhouse.md, "Where it goes at
// ch24's start"). Set it near the rate a run reaches (its segments/s over
// ~4) to read as a store at that rate would.
func traceRate(b *testing.B) float64 {
	v := os.Getenv(traceRateEnv)
	if v == "" {
		return bench.NominalTraceRate
	}
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || r <= 0 {
		b.Fatalf("%s=%q: want traces a second", traceRateEnv, v)
	}
	return r
}
