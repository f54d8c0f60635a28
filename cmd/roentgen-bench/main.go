// Command roentgen-bench measures ingest: it sends generated ~1 kB segment
// documents of multi-service traces to a Roentgen server on 127.0.0.1 and
// reports segments/s, CPU, peak memory and bytes on disk per segment.
//
//	go run ./cmd/roentgen-bench                      # HTTP PutTraceSegments, in-process server
//	go run ./cmd/roentgen-bench -mode udp -rate 20000
//	go build -o bin/roentgen ./cmd/roentgen && go run ./cmd/roentgen-bench -exec bin/roentgen
//	go run ./cmd/roentgen-bench -exec bin/roentgen -jaeger /tmp/jaegerbin/jaeger   # OTLP against Jaeger v2
//
// The server is started by the harness, on a fresh data directory and free
// loopback ports, and stopped at the end; nothing else is contacted. With
// -exec the server is a separate process, so its CPU and memory are its own;
// in-process they include the load generator. See docs/performance.md.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

type config struct {
	mode        string
	segments    int
	traceSize   int
	batch       int
	concurrency int
	rate        int
	maxDuration time.Duration
	execPath    string
	dataDir     string
	keep        bool
	seed        uint64
	cpuProfile  string
	selfProfile string
	engine      bool
	traceRate   float64
	// The soak (soak.go).
	soak        time.Duration
	calibrate   time.Duration
	rateFactor  float64
	soakSenders int
	soakDir     string
	sample      time.Duration
	idle        time.Duration
	soakVerify  string
	// The side-by-side OTLP comparison with Jaeger v2 (jaeger.go).
	jaegerPath string
	otlpSpans  int
	rounds     int
}

func main() {
	var c config
	flag.StringVar(&c.mode, "mode", "http", "http (PutTraceSegments batches, as the daemon sends) or udp (one datagram per segment)")
	flag.IntVar(&c.segments, "segments", 300_000, "segments to send (generated as they are sent, a few batches per sender ahead)")
	flag.IntVar(&c.traceSize, "trace-size", 0, "segments per trace: 0 for the mixed shape (1 to 8, mean ~4), 1 for single-segment traces")
	flag.IntVar(&c.batch, "batch", 50, "documents per PutTraceSegments call")
	flag.IntVar(&c.concurrency, "concurrency", 4, "concurrent senders")
	flag.IntVar(&c.rate, "rate", 0, "segments/s to offer (0: as fast as the server takes them; set it for udp, which drops what it cannot take)")
	flag.DurationVar(&c.maxDuration, "max-duration", 2*time.Minute, "stop sending after this long")
	flag.StringVar(&c.execPath, "exec", "", "run this roentgen binary as the server instead of an in-process one")
	flag.StringVar(&c.dataDir, "data-dir", "", "store directory (default: a new temporary one, removed afterwards)")
	flag.BoolVar(&c.keep, "keep", false, "keep the data directory")
	flag.Uint64Var(&c.seed, "seed", 1, "generator seed")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile here: in-process, of the sending phase (load generator included); with -exec, the server's own over the second half, from its /debug/pprof (and its allocations since start in <file>.allocs)")
	flag.StringVar(&c.selfProfile, "harness-cpuprofile", "", "with -exec: write a CPU profile of the harness itself (load generator and senders) over the sending phase here")
	flag.BoolVar(&c.engine, "engine", false, "print the storage engine's own metrics (levels, compactions) at the end (in-process server only)")
	flag.Float64Var(&c.traceRate, "trace-rate", bench.NominalTraceRate, "traces per second of traffic the trace start times are spread as (ending now); lower spreads the same traces over more minutes")
	flag.DurationVar(&c.soak, "soak", 0, "run the soak for this long instead (soak.go): -rate-factor times the sustainable rate (-rate, or found by -calibrate), RSS sampled, every acknowledged document checked in the store at the end; needs -exec")
	flag.DurationVar(&c.calibrate, "calibrate", time.Minute, "soak: how long to send unpaced from -concurrency senders to find the sustainable rate (when -rate is 0)")
	flag.Float64Var(&c.rateFactor, "rate-factor", 1.5, "soak: offered rate as a multiple of the sustainable rate")
	flag.IntVar(&c.soakSenders, "soak-senders", 1024, "soak: concurrent calls at most (enough to offer the rate while the server answers slowly; a batch finding none idle is shed by the client)")
	flag.StringVar(&c.soakDir, "soak-dir", "", "soak: directory of rss.csv, acked.bin and (unless -data-dir) the store (default /tmp/soak-<time>)")
	flag.DurationVar(&c.sample, "sample", 5*time.Second, "soak: RSS sampling interval")
	flag.DurationVar(&c.idle, "idle", 0, "soak: keep the server running this long without traffic after sending, to see what memory it keeps")
	flag.StringVar(&c.soakVerify, "soak-verify", "", "check a soak's directory again, e.g. one whose run was killed: the server (-exec) recovers its store and stops cleanly, then every acknowledged document is looked up")
	flag.StringVar(&c.jaegerPath, "jaeger", "", "compare OTLP ingest with this Jaeger v2 binary (jaeger.go): Jaeger on Badger and the -exec roentgen alternate -rounds times, each fed -otlp-spans over OTLP/gRPC from -concurrency workers")
	flag.IntVar(&c.otlpSpans, "otlp-spans", 1_000_000, "-jaeger: spans per run")
	flag.IntVar(&c.rounds, "rounds", 2, "-jaeger: Jaeger-then-Roentgen rounds")
	flag.Parse()
	run := run
	if c.jaegerPath != "" {
		run = runJaeger
	}
	if c.soak > 0 {
		run = runSoak
	}
	if c.soakVerify != "" {
		run = verifySoak
	}
	if err := run(c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "roentgen-bench:", err)
		os.Exit(1)
	}
}

func run(c config, out io.Writer) error {
	if !(c.traceRate > 0) || math.IsInf(c.traceRate, 1) { // NaN, zero, negative or infinite
		c.traceRate = bench.NominalTraceRate
	}
	if c.mode != "http" && c.mode != "udp" {
		return fmt.Errorf("-mode must be http or udp, not %q", c.mode)
	}
	if c.dataDir == "" {
		d, err := os.MkdirTemp("", "roentgen-bench-")
		if err != nil {
			return err
		}
		c.dataDir = d
	}
	if !c.keep {
		defer os.RemoveAll(c.dataDir)
	}
	gen := bench.NewGenerator(c.seed)
	gen.TraceSize = c.traceSize
	gen.Escaped = c.mode == "http" // as the producer puts them in request bodies
	// The last trace starts now; the first, as long before as traces at
	// -trace-rate take (segments average ~4 per trace in the mixed shape).
	perTrace := 4.0
	if c.traceSize > 0 {
		perTrace = float64(c.traceSize)
	}
	span := time.Duration(float64(c.segments) / perTrace / c.traceRate * float64(time.Second))
	stream := gen.Stream(time.Now().Add(-span), c.traceRate, c.segments, c.batch)
	srv, err := startServer(c)
	if err != nil {
		return err
	}
	defer srv.stop()

	fmt.Fprintf(out, "sending %d segments over %s with %d senders to %s...\n", c.segments, c.mode, c.concurrency, srv.target(c.mode))
	profile := c.cpuProfile
	if srv.app == nil {
		profile = c.selfProfile
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
	// The documents are made during the clock, on the cores the server
	// uses: the harness's own CPU is reported beside the server's.
	cpu0, self0, wall0 := srv.cpu(), bench.CPUTime(), time.Now()
	prod := startProducer(stream, c.mode == "http", 4*max(c.concurrency, 1))
	defer prod.close()
	win := newWindows(out, srv, c, cpu0, self0, wall0)
	var sent, rejected, raw atomic.Int64
	// The second half's CPU per segment is the steady state: by then the
	// store's flushes and compactions keep pace with what arrives, while
	// the whole run's figure leaves out work still owed at its end
	// (summaries awaiting their quiet second, memtables, L0 tables).
	var half sync.Once
	var halfCPU time.Duration
	var halfSent int64
	var profiled <-chan error
	var firstErr error
	var errOnce sync.Once
	deadline := wall0.Add(c.maxDuration)
	var pace *pacer
	if c.rate > 0 {
		pace = newPacer(c.rate)
	}
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := newSender(c.mode, srv)
			if err != nil {
				errOnce.Do(func() { firstErr = err })
				return
			}
			defer s.close()
			for b := range prod.ready {
				if time.Now().After(deadline) {
					return
				}
				if pace != nil {
					pace.wait(b.n)
				}
				n, err := s.send(b)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				raw.Add(int64(b.raw))
				now := sent.Add(int64(b.n))
				prod.refill(b)
				win.add(now)
				if now >= int64(c.segments/2) {
					half.Do(func() {
						halfCPU, halfSent = srv.cpu(), now
						if c.cpuProfile != "" && srv.app == nil {
							// The second half takes about as long as the first.
							secs := max(1, int(time.Since(wall0).Round(time.Second)/time.Second))
							profiled = srv.fetchPprof(fmt.Sprintf("profile?seconds=%d", secs), c.cpuProfile)
						}
					})
				}
				rejected.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	prod.close()
	win.flush(sent.Load())
	if firstErr != nil {
		return firstErr
	}
	accepted := sent.Load() - rejected.Load()
	if c.mode == "udp" {
		// Datagrams are acknowledged by nobody: wait until ingest has stored
		// what it will store, then count from the server's metrics.
		accepted = srv.waitUDP(sent.Load())
	}
	elapsed := time.Since(wall0)
	if profile != "" {
		pprof.StopCPUProfile()
	}
	if profiled != nil {
		if err := <-profiled; err != nil {
			return fmt.Errorf("server profile: %w", err)
		}
		// Allocations since the server started: what GC spends its time on.
		if err := <-srv.fetchPprof("allocs", c.cpuProfile+".allocs"); err != nil {
			return fmt.Errorf("server allocation profile: %w", err)
		}
	}
	cpu, self := srv.cpu()-cpu0, bench.CPUTime()-self0
	rss := srv.peakRSS()
	if c.engine && srv.app != nil {
		if ps, ok := srv.app.Store().(*pebble.Store); ok {
			fmt.Fprintf(out, "\nengine metrics at the end of sending:\n%s\n", ps.EngineMetrics())
		}
	}
	if err := srv.stop(); err != nil {
		return err
	}
	disk, alloc, err := dirSize(c.dataDir)
	if err != nil {
		return err
	}
	var compacted, compactedAlloc int64
	var tables map[string]uint64
	if c.execPath == "" {
		// Reopen and compact fully: the size once background compactions
		// have moved everything to the bottom levels (zstd).
		if tables, err = compactStore(c.dataDir); err != nil {
			return err
		}
		if compacted, compactedAlloc, err = dirSize(c.dataDir); err != nil {
			return err
		}
	}
	rawSent := raw.Load()
	// Disk is compared with the raw JSON of what was stored (UDP may drop).
	rawStored := rawSent * accepted / max(sent.Load(), 1)

	who := "server process"
	if c.execPath == "" {
		who = "harness process (server and load generator)"
	}
	fmt.Fprintf(out, "\nmode            %s, %d senders, batches of %d\n", c.mode, c.concurrency, c.batch)
	fmt.Fprintf(out, "segments        %d sent, %d stored, %d rejected or lost\n", sent.Load(), accepted, sent.Load()-accepted)
	fmt.Fprintf(out, "elapsed         %.2fs\n", elapsed.Seconds())
	fmt.Fprintf(out, "throughput      %.0f segments/s stored\n", float64(accepted)/elapsed.Seconds())
	fmt.Fprintf(out, "cpu             %.2fs in the %s: %.1f µs/segment, %.0f segments/s per 2 cores\n",
		cpu.Seconds(), who, float64(cpu.Microseconds())/float64(max(accepted, 1)), 2*float64(accepted)/cpu.Seconds())
	if c.mode != "udp" && halfSent > 0 && sent.Load() > halfSent {
		n := float64(sent.Load() - halfSent)
		second := cpu + cpu0 - halfCPU
		fmt.Fprintf(out, "cpu 2nd half    %.2fs: %.1f µs/segment, %.0f segments/s per 2 cores (steady state)\n",
			second.Seconds(), float64(second.Microseconds())/n, 2*n/second.Seconds())
	}
	if c.execPath != "" {
		fmt.Fprintf(out, "harness cpu     %.2fs: %.1f µs/segment generating and sending (on the server's cores)\n",
			self.Seconds(), float64(self.Microseconds())/float64(max(sent.Load(), 1)))
	}
	fmt.Fprintf(out, "peak rss        %d MiB (%s)\n", rss>>20, who)
	if c.execPath != "" {
		fmt.Fprintf(out, "harness rss     %d MiB peak (load generator and senders)\n", peakRSSOf("self")>>20)
	}
	fmt.Fprintf(out, "raw json        %d bytes, %.0f per segment\n", rawSent, float64(rawSent)/float64(max(sent.Load(), 1)))
	perSeg := func(n int64) string {
		return fmt.Sprintf("%d bytes, %.0f per segment, 1/%.1f of raw", n, float64(n)/float64(max(accepted, 1)), float64(rawStored)/float64(n))
	}
	fmt.Fprintf(out, "disk            after a clean stop: files %s; allocated %s\n", perSeg(disk), perSeg(alloc))
	if tables != nil {
		fmt.Fprintf(out, "disk compacted  files %s; allocated %s\n", perSeg(compacted), perSeg(compactedAlloc))
		fmt.Fprintf(out, "by table        documents %d, summaries %d, terms %d, statistics %d, other %d bytes\n", tables["documents"], tables["summaries"], tables["terms"], tables["statistics"], tables["other"])
	}
	if c.keep {
		fmt.Fprintf(out, "data kept in    %s\n", c.dataDir)
	}
	return nil
}

// server is the Roentgen under test: in process or a child process.
type server struct {
	app      *app.App
	cmd      *exec.Cmd
	httpAddr string
	udpAddr  string
	stopped  bool
	stopErr  error
	exited   <-chan struct{} // closed when the child process has exited (stopErr set)
}

// fetchPprof writes the server's /debug/pprof/<profile> to path.
func (s *server) fetchPprof(profile, path string) <-chan error {
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/%s", s.httpAddr, profile))
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("GET /debug/pprof/%s: %s", profile, resp.Status)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		done <- errors.Join(err, f.Close())
	}()
	return done
}

func startServer(c config) (*server, error) {
	if c.execPath == "" {
		a, err := app.Start(app.Config{DataDir: c.dataDir, HTTPAddr: "127.0.0.1:0", UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return nil, err
		}
		return &server{app: a, httpAddr: a.Addr("http").String(), udpAddr: a.Addr("udp").String()}, nil
	}
	httpAddr, udpAddr, tcpAddr := freeTCP(), freeUDP(), freeTCP()
	// No OTLP listeners: their fixed default ports would clash with another
	// server's (two benchmarks at once).
	args := []string{"--data-dir", c.dataDir, "--http", httpAddr, "--bind", udpAddr, "--bind-tcp", tcpAddr, "--log-level", "warn",
		"--otlp-grpc", "", "--otlp-http", ""}
	// -cpuprofile reads /debug/pprof, which builds since the security work
	// serve only with --pprof; older builds (A/B runs) serve it always.
	if help, _ := exec.Command(c.execPath, "--help").CombinedOutput(); bytes.Contains(help, []byte("-pprof")) {
		args = append(args, "--pprof")
	}
	cmd := exec.Command(c.execPath, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, httpAddr: httpAddr, udpAddr: udpAddr}
	exited := make(chan struct{})
	go func() {
		s.stopErr = cmd.Wait()
		close(exited)
	}()
	s.exited = exited
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			s.stopped = true
			return nil, fmt.Errorf("the server exited before it answered /health: %v", s.stopErr)
		default:
		}
		if r, err := http.Get("http://" + httpAddr + "/health"); err == nil {
			r.Body.Close()
			return s, nil
		}
		if time.Since(start) > 15*time.Second {
			s.stop()
			return nil, errors.New("the server did not answer /health within 15s")
		}
	}
}

func (s *server) target(mode string) string {
	if mode == "udp" {
		return s.udpAddr
	}
	return s.httpAddr
}

// stop stops the server cleanly: everything acknowledged is on disk after.
func (s *server) stop() error {
	if s.stopped {
		return s.stopErr
	}
	s.stopped = true
	if s.app != nil {
		s.stopErr = s.app.Stop()
		return s.stopErr
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.exited
	return s.stopErr
}

// cpu is the server's user+system CPU time so far.
func (s *server) cpu() time.Duration {
	if s.app != nil {
		return bench.CPUTime()
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func (s *server) peakRSS() int64 {
	if s.app != nil {
		return selfPeakRSS()
	}
	return peakRSSOf(strconv.Itoa(s.cmd.Process.Pid))
}

var acceptedRe = regexp.MustCompile(`roentgen_documents_accepted_total\{source="udp"\} (\S+)`)

// waitUDP polls the server's metrics until the stored count stops growing.
func (s *server) waitUDP(sent int64) int64 {
	last, still := int64(-1), 0
	for still < 10 {
		time.Sleep(100 * time.Millisecond)
		n := s.udpAccepted()
		if n == last {
			still++
		} else {
			still = 0
		}
		last = n
		if n >= sent {
			break
		}
	}
	return last
}

func (s *server) udpAccepted() int64 {
	r, err := http.Get("http://" + s.httpAddr + "/metrics")
	if err != nil {
		return 0
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if m := acceptedRe.FindSubmatch(b); m != nil {
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		return int64(f)
	}
	return 0
}

// sender sends batches and returns how many documents were rejected.
type sender interface {
	send(b *batch) (int, error)
	close()
}

func newSender(mode string, s *server) (sender, error) {
	if mode == "udp" {
		conn, err := net.Dial("udp", s.udpAddr)
		if err != nil {
			return nil, err
		}
		return &udpSender{conn: conn}, nil
	}
	return &httpSender{addr: s.httpAddr}, nil
}

type udpSender struct {
	conn net.Conn
	buf  []byte
}

func (u *udpSender) send(b *batch) (int, error) {
	for _, d := range b.docs {
		u.buf = append(append(u.buf[:0], `{"format":"json","version":1}`+"\n"...), d...)
		if _, err := u.conn.Write(u.buf); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func (u *udpSender) close() { u.conn.Close() }

// pacer spreads sends evenly to offer a fixed rate.
type pacer struct {
	mu    sync.Mutex
	start time.Time
	per   time.Duration
	n     int64
}

func newPacer(rate int) *pacer {
	return &pacer{start: time.Now(), per: time.Second / time.Duration(rate)}
}

func (p *pacer) wait(n int) {
	p.mu.Lock()
	at := p.start.Add(time.Duration(p.n) * p.per)
	p.n += int64(n)
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		time.Sleep(d)
	}
}

func freeTCP() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer l.Close()
	return l.Addr().String()
}

func freeUDP() string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// dirSize is the apparent size of the files in dir and the space allocated
// to them (Pebble preallocates write-ahead logs).
func dirSize(dir string) (files, allocated int64, err error) {
	err = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			files += info.Size()
			allocated += allocatedSize(info)
		}
		return err
	})
	return files, allocated, err
}

// compactStore reopens the store in dir, compacts it fully and closes it.
func compactStore(dir string) (map[string]uint64, error) {
	st, err := pebble.Open(dir, pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := st.Compact(context.Background()); err != nil {
		return nil, err
	}
	return st.TableUsage()
}
