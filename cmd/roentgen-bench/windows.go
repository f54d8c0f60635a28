package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// windows prints a line per tenth of the run's segments: the rate and the
// CPU per segment of that stretch alone, so a fall-off as the store grows
// shows, which the run's averages hide.
type windows struct {
	mu    sync.Mutex
	out   io.Writer
	srv   *server
	exec  bool
	http  bool
	size  int64 // segments per window
	of    int   // windows in the whole run
	start time.Time

	// The current window: it closes when next segments have been sent; i
	// numbers the last line printed.
	next, i int64
	// Where it began.
	n                  int64
	at                 time.Time
	srvCPU, harnessCPU time.Duration
}

func newWindows(out io.Writer, srv *server, c config, srvCPU, harnessCPU time.Duration, start time.Time) *windows {
	// A tenth of the run, in whole batches: the count moves a batch at a time.
	b := int64(max(c.batch, 1))
	size := max((int64(c.segments+9)/10+b-1)/b*b, 1)
	return &windows{out: out, srv: srv, exec: c.execPath != "", http: c.mode == "http", size: size,
		of: int((int64(c.segments) + size - 1) / size), start: start,
		next: size, at: start, srvCPU: srvCPU, harnessCPU: harnessCPU}
}

// add notes that sent segments have been sent (and, over HTTP, stored) so
// far, and prints the window that closes.
func (w *windows) add(sent int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if sent >= w.next {
		w.close(sent)
	}
}

// flush prints the window under way, if it has segments: a run stopped by
// its -max-duration ends in one.
func (w *windows) flush(sent int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if sent > w.n {
		w.close(sent)
	}
}

func (w *windows) close(sent int64) {
	now, cpu, self := time.Now(), w.srv.cpu(), bench.CPUTime()
	n := float64(sent - w.n)
	// Named by where the count falls, not by how many lines came before: the
	// count can jump over a window's end when senders race, and then one line
	// covers both windows.
	w.i = (sent + w.size - 1) / w.size
	verb := "stored"
	if !w.http {
		verb = "sent" // UDP: nobody acknowledges
	}
	who := "server cpu"
	if !w.exec {
		who = "cpu" // in-process: the server's and the load generator's
	}
	line := fmt.Sprintf("window %2d/%d %10d segments %s at %6.1fs: %6.0f segments/s, %s %5.1f µs/segment",
		w.i, w.of, sent, verb, now.Sub(w.start).Seconds(), n/now.Sub(w.at).Seconds(), who, float64((cpu-w.srvCPU).Microseconds())/n)
	if w.exec {
		line += fmt.Sprintf(", harness cpu %4.1f µs/segment", float64((self-w.harnessCPU).Microseconds())/n)
	}
	fmt.Fprintln(w.out, line)
	w.n, w.at, w.srvCPU, w.harnessCPU = sent, now, cpu, self
	for w.next <= sent {
		w.next += w.size
	}
}

var vmHWM = regexp.MustCompile(`VmHWM:\s+(\d+) kB`)

// peakRSSOf is the peak resident memory of a process (pid "self" for the
// harness), from /proc; 0 if it cannot be read.
func peakRSSOf(pid string) int64 {
	b, _ := os.ReadFile("/proc/" + pid + "/status")
	if m := vmHWM.FindSubmatch(b); m != nil {
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return n << 10
	}
	return 0
}
