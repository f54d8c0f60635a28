// Command roentgen-daemon-bench measures `roentgen daemon`: a UDP load
// generator sends ~1.3 kB segment documents at a fixed rate to a daemon
// process, which uploads them to a sink on loopback that counts distinct
// documents. It reports loss, the daemon's CPU per 1,000 segments and its
// resident memory, and can take the sink down for a while (an upstream
// outage) and restart the daemon during it.
//
//	go build -o bin/roentgen ./cmd/roentgen
//	go run ./cmd/roentgen-daemon-bench -exec bin/roentgen -rate 10000 -duration 20s
//	go run ./cmd/roentgen-daemon-bench -exec bin/roentgen -rate 100000 -duration 10s
//	go run ./cmd/roentgen-daemon-bench -exec bin/roentgen -rate 5000 -duration 3m -outage 2m -outage-at 20s -restart
//
// Nothing but loopback is contacted. See docs/daemon.md.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"golang.org/x/net/ipv4"
)

type config struct {
	exec      string
	rate      int
	duration  time.Duration
	size      int
	senders   int
	outage    time.Duration
	outageAt  time.Duration
	restart   bool
	bufferMB  int
	spoolDir  string
	extraArgs string
}

func main() {
	var c config
	flag.StringVar(&c.exec, "exec", "bin/roentgen", "the roentgen binary to run as the daemon")
	flag.IntVar(&c.rate, "rate", 10000, "segments per second")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "how long to send")
	flag.IntVar(&c.size, "size", 1300, "bytes per segment document")
	flag.IntVar(&c.senders, "senders", 2, "sending goroutines")
	flag.DurationVar(&c.outage, "outage", 0, "take the sink down this long (an upstream outage)")
	flag.DurationVar(&c.outageAt, "outage-at", 5*time.Second, "when the outage starts")
	flag.BoolVar(&c.restart, "restart", false, "restart the daemon in the middle of the outage")
	flag.IntVar(&c.bufferMB, "m", 0, "the daemon's --buffer-memory (0: its default)")
	flag.StringVar(&c.spoolDir, "spool-dir", "", "the daemon's --spool-dir (default: a temp dir when -outage is set)")
	flag.StringVar(&c.extraArgs, "args", "", "more daemon flags, space-separated")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "roentgen-daemon-bench:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	total := int(float64(c.rate) * c.duration.Seconds())
	sk := newSink(total)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sinkAddr := ln.Addr().String()
	sk.serve(ln)
	if c.outage > 0 && c.spoolDir == "" {
		if c.spoolDir, err = os.MkdirTemp("", "daemon-bench-spool"); err != nil {
			return err
		}
		defer os.RemoveAll(c.spoolDir)
	}
	udpAddr, tcpAddr := freeAddr("udp"), freeAddr("tcp")
	metricsAddr := freeAddr("tcp")
	args := []string{"daemon", "-b", udpAddr, "-t", tcpAddr, "-e", "http://" + sinkAddr, "-n", "us-east-1", "-o", "-l", "warn", "--metrics", metricsAddr}
	if c.bufferMB > 0 {
		args = append(args, "-m", strconv.Itoa(c.bufferMB))
	}
	if c.spoolDir != "" {
		args = append(args, "--spool-dir", c.spoolDir)
	}
	args = append(args, strings.Fields(c.extraArgs)...)
	d, err := startDaemon(c.exec, args)
	if err != nil {
		return err
	}
	fmt.Printf("daemon: %s %s\n", c.exec, strings.Join(args, " "))
	fmt.Printf("load: %d segments of %d bytes at %d/s for %s, %d senders\n", total, c.size, c.rate, c.duration, c.senders)

	load0 := loadAvg()
	cpu0, cs0, self0, rcvErr0 := d.cpu(), d.switches(), selfCPU(), rcvbufErrors()
	start := time.Now()
	var sent atomic.Int64
	var paused atomic.Bool // while the daemon restarts: nothing listens then
	var wg sync.WaitGroup
	for s := range c.senders {
		wg.Add(1)
		go func() { defer wg.Done(); send(udpAddr, c, s, total, start, &sent, &paused) }()
	}
	var peakRSS, peakAnon int64
	stopSample := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopSample:
				return
			case <-t.C:
				peakRSS, peakAnon = max(peakRSS, d.rss()), max(peakAnon, d.rssAnon())
			}
		}
	}()
	if c.outage > 0 {
		go func() {
			time.Sleep(c.outageAt)
			sk.down()
			fmt.Printf("t=%s sink down\n", time.Since(start).Round(time.Second))
			if c.restart {
				time.Sleep(c.outage / 2)
				paused.Store(true)
				d.stop()
				fmt.Printf("t=%s daemon stopped (SIGTERM); restarting on the same spool\n", time.Since(start).Round(time.Second))
				nd, err := startDaemon(c.exec, args)
				if err != nil {
					fmt.Fprintln(os.Stderr, "restart:", err)
					os.Exit(1)
				}
				d = nd
				paused.Store(false)
				time.Sleep(c.outage - c.outage/2)
			} else {
				time.Sleep(c.outage)
			}
			ln, err := net.Listen("tcp", sinkAddr)
			if err != nil {
				fmt.Fprintln(os.Stderr, "sink up:", err)
				os.Exit(1)
			}
			sk.serve(ln)
			fmt.Printf("t=%s sink up\n", time.Since(start).Round(time.Second))
		}()
	}
	wg.Wait()
	sendTime := time.Since(start)
	// Wait until the sink has everything or has stopped getting more.
	last, lastChange := sk.unique(), time.Now()
	for time.Since(lastChange) < 3*time.Second && sk.unique() < total {
		time.Sleep(100 * time.Millisecond)
		if u := sk.unique(); u != last {
			last, lastChange = u, time.Now()
		}
		if c.outage > 0 && time.Since(start) < c.outageAt+c.outage {
			lastChange = time.Now()
		}
	}
	busy := time.Since(start)
	cpu, cs, self, rcvErr := d.cpu()-cpu0, d.switches()-cs0, selfCPU()-self0, rcvbufErrors()-rcvErr0
	if c.restart {
		cpu, cs = -1, -1 // two processes: not comparable
	}
	close(stopSample)
	<-sampled
	rssEnd := d.rss()
	drops, gcs := scrapeDrops(metricsAddr)
	kernel := kernelDrops(udpAddr)
	d.stop()
	got := sk.unique()
	lost := int(sent.Load()) - got
	fmt.Printf("sent %d in %s (%.0f/s)\n", sent.Load(), sendTime.Round(time.Millisecond), float64(sent.Load())/sendTime.Seconds())
	fmt.Printf("sink received %d distinct (%d with duplicates): lost %d (%.3f%%)\n", got, sk.total.Load(), lost, 100*float64(lost)/float64(total))
	if cpu >= 0 {
		fmt.Printf("daemon CPU %.0f ms over %s: %.2f ms per 1,000 segments\n", cpu.Seconds()*1000, busy.Round(time.Millisecond), cpu.Seconds()*1000/(float64(total)/1000))
		fmt.Printf("daemon context switches %d (%.0f per 1,000 segments), GC cycles %s\n", cs, float64(cs)/(float64(total)/1000), gcs)
	}
	fmt.Printf("harness (generator and sink) CPU %.0f ms: %.2f ms per 1,000 segments\n", self.Seconds()*1000, self.Seconds()*1000/(float64(total)/1000))
	fmt.Printf("load average at start %s, at end %s\n", load0, loadAvg())
	fmt.Printf("daemon RSS peak %.1f MB, at end %.1f MB (of it anonymous, not the executable's pages: peak %.1f MB)\n", float64(peakRSS)/(1<<20), float64(rssEnd)/(1<<20), float64(peakAnon)/(1<<20))
	fmt.Printf("where lost: kernel socket drops %d (host UDP RcvbufErrors +%d, all sockets); daemon %s\n", kernel, rcvErr, drops)
	return nil
}

// scrapeDrops reads the daemon's dropped-segment counters and its GC
// cycles from /metrics.
func scrapeDrops(addr string) (drops, gcs string) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return "(metrics unavailable)", "?"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	gcs = "?"
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "roentgen_daemon_segments_dropped_total{") || strings.HasPrefix(l, "roentgen_daemon_segments_received_total ") {
			out = append(out, strings.TrimPrefix(l, "roentgen_daemon_segments_"))
		}
		if v, ok := strings.CutPrefix(l, "go_gc_duration_seconds_count "); ok {
			gcs = v + " since start"
		}
	}
	if len(out) == 0 {
		return "dropped nothing", gcs
	}
	return strings.Join(out, ", "), gcs
}

// rcvbufErrors is the host's UDP RcvbufErrors (/proc/net/snmp): datagrams
// dropped at any full socket buffer, the daemon's or others'.
func rcvbufErrors() int64 {
	raw, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var names []string
	for _, l := range strings.Split(string(raw), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseInt(f[i], 10, 64)
				return v
			}
		}
	}
	return 0
}

func loadAvg() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// selfCPU is this process's user+system CPU time: the generator and the sink.
func selfCPU() time.Duration { return bench.CPUTime() }

// kernelDrops is the drops column of /proc/net/udp for the daemon's
// socket: datagrams the kernel discarded because the buffer was full.
func kernelDrops(addr string) int64 {
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	raw, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return -1
	}
	want := fmt.Sprintf(":%04X", p)
	for _, l := range strings.Split(string(raw), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) >= 13 && strings.HasSuffix(f[1], want) {
			n, _ := strconv.ParseInt(f[12], 10, 64)
			return n
		}
	}
	return -1
}

// freeAddr is a loopback port free for network ("udp" or "tcp") a
// moment ago: the daemon binds it next.
func freeAddr(network string) string {
	if network == "udp" {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		defer u.Close()
		return u.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// send paces one sender's share of the segments: documents with sequence
// numbers s, s+senders, ... as ids, so the sink can count distinct ones.
// Datagrams are built in place (only the ids change) and sent up to
// sendBatch per sendmmsg, so that the generator, which shares the cores
// with the daemon, costs little more than the kernel's own work.
func send(addr string, c config, s, total int, start time.Time, sent *atomic.Int64, paused *atomic.Bool) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	pc := ipv4.NewPacketConn(conn.(*net.UDPConn))
	tmpl := template(c.size)
	msgs := make([]ipv4.Message, sendBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{append([]byte(nil), tmpl...)}
	}
	perSender := float64(c.rate) / float64(c.senders)
	n := 0
	for seq := s; seq < total; {
		due := int(time.Since(start).Seconds()*perSender) - n
		if due <= 0 || paused.Load() {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		k := 0
		for ; k < min(due, sendBatch) && seq+k*c.senders < total; k++ {
			fill(msgs[k].Buffers[0], seq+k*c.senders)
		}
		w, err := pc.WriteBatch(msgs[:k], 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "send:", err) // not counted as sent
			time.Sleep(time.Millisecond)
			continue
		}
		// Datagrams not written (w < k) are written again next time.
		sent.Add(int64(w))
		n += w
		seq += w * c.senders
	}
}

// sendBatch is the most datagrams per sendmmsg.
const sendBatch = 32

const idMark = `"id":"`
const traceMark = `"trace_id":"1-`

// template is a datagram of about size bytes with a 16-digit id to fill.
func template(size int) []byte {
	now := float64(time.Now().UnixMicro()) / 1e6
	head := `{"format":"json","version":1}` + "\n"
	doc := fmt.Sprintf(`{"trace_id":"1-%08x-000000000000000000000000","id":"0000000000000000","name":"bench-svc","start_time":%.6f,"end_time":%.6f,`+
		`"http":{"request":{"method":"GET","url":"https://bench.example/items/42"},"response":{"status":200}},"annotations":{"tier":"bench"},"metadata":{"default":{"pad":"`,
		time.Now().Unix(), now-0.2, now)
	tail := `"}}}`
	pad := max(0, size-len(head)-len(doc)-len(tail))
	return []byte(head + doc + strings.Repeat("x", pad) + tail)
}

// fill writes seq into the template's id, and seq/10 into its trace id
// (ten segments a trace). The marks are near the start of the datagram.
func fill(b []byte, seq int) {
	i := bytes.Index(b, []byte(idMark)) + len(idMark)
	putHex(b[i:i+16], uint64(seq))
	j := bytes.Index(b, []byte(traceMark)) + len(traceMark) + 9
	putHex(b[j:j+24], uint64(seq/10))
}

// putHex writes v as len(dst) lower-case hex digits, zero-padded.
func putHex(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = "0123456789abcdef"[v&0xf]
		v >>= 4
	}
}

// sink is an X-Ray API that takes PutTraceSegments and counts distinct
// documents by the sequence number in their id.
type sink struct {
	mu    sync.Mutex
	seen  []bool
	count int
	total atomic.Int64
	srv   *http.Server
}

func newSink(n int) *sink { return &sink{seen: make([]bool, n)} }

func (s *sink) serve(ln net.Listener) {
	s.mu.Lock()
	s.srv = &http.Server{Handler: s}
	srv := s.srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

func (s *sink) down() {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	srv.Close()
}

func (s *sink) unique() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// ServeHTTP counts documents without decoding the request: each document
// is a JSON string in the body, so its id appears as \"id\":\"<16 hex>.
// The sink shares the machine with the daemon; decoding would make it the
// bottleneck.
func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path != "/TraceSegments" {
		io.WriteString(w, "{}")
		return
	}
	mark := []byte(`\"id\":\"`)
	var seqs []int64
	for i := bytes.Index(body, mark); i >= 0 && i+len(mark)+16 <= len(body); {
		p := i + len(mark)
		if seq, err := strconv.ParseInt(string(body[p:p+16]), 16, 64); err == nil {
			seqs = append(seqs, seq)
		}
		j := bytes.Index(body[p:], mark)
		if j < 0 {
			break
		}
		i = p + j
	}
	s.total.Add(int64(len(seqs)))
	s.mu.Lock()
	for _, seq := range seqs {
		if seq >= 0 && int(seq) < len(s.seen) && !s.seen[seq] {
			s.seen[seq] = true
			s.count++
		}
	}
	s.mu.Unlock()
	io.WriteString(w, `{"UnprocessedTraceSegments":[]}`)
}

// daemon is the daemon process.
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startDaemon(bin string, args []string) (*daemon, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_EC2_METADATA_DISABLED=true")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(os.Stderr, "daemon:", sc.Text())
		}
	}()
	// The daemon logs at warn: wait for its UDP socket instead.
	go func() {
		for {
			c, err := net.Dial("tcp", argAfter(args, "-t"))
			if err == nil {
				c.Close()
				close(started)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("daemon did not start")
	}
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(d.done) }()
	return d, nil
}

func argAfter(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
}

// cpu is the process's user+system CPU time so far.
func (d *daemon) cpu() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// switches is the context switches of all the process's threads so far:
// each is a wake-up (or a preemption) the daemon paid for.
func (d *daemon) switches() int64 {
	dir := fmt.Sprintf("/proc/%d/task", d.cmd.Process.Pid)
	tasks, _ := os.ReadDir(dir)
	var n int64
	for _, t := range tasks {
		raw, err := os.ReadFile(dir + "/" + t.Name() + "/status")
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(raw), "\n") {
			if strings.HasSuffix(strings.SplitN(l, ":", 2)[0], "ctxt_switches") {
				v, _ := strconv.ParseInt(strings.TrimSpace(strings.SplitN(l, ":", 2)[1]), 10, 64)
				n += v
			}
		}
	}
	return n
}

// rss is the process's resident memory.
func (d *daemon) rss() int64 { return d.status("VmRSS:") }

// rssAnon is the part of rss that is the process's own memory (heap,
// stacks), not pages of its executable.
func (d *daemon) rssAnon() int64 { return d.status("RssAnon:") }

// status is a size in /proc/<pid>/status, in bytes.
func (d *daemon) status(field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, field) {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
