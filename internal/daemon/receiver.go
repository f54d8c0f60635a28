package daemon

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/udp"
)

// Receiver tuning.
const (
	readers = 2 // the official daemon's ReceiverRoutines
	// readBuffer is the socket's receive buffer: at 100k segments/s of
	// 1.3 kB, 32 MB holds a quarter second of traffic while readers are
	// descheduled (the kernel's default holds ~2 ms of it).
	readBuffer = 32 << 20
	// drainQuiet: on stop, the socket is read until it has been empty this long.
	drainQuiet = 50 * time.Millisecond
	// readBatch is the most datagrams per recvmmsg: well over what the
	// leader aims to find after a wait (coalesceTarget), so a read that
	// fills every buffer is a backlog, not a wake-up a few milliseconds
	// late. Its buffers take virtual memory (64 KiB each) but only the
	// pages that datagrams are written into become resident.
	readBatch = 512
	// coalesceTarget is how many datagrams the leader aims to find in the
	// socket when it reads after a wait: four batches, so that their
	// uploads start together and their answers come in one wake-up.
	coalesceTarget = 4 * maxBatch
	// maxCoalesce bounds how long the leader waits for datagrams to
	// gather in the socket before it reads again (see coalesceWait).
	maxCoalesce = 20 * time.Millisecond
	// datagramCost is what the kernel charges a socket buffer for a
	// datagram of ~1.3 kB (its skb's truesize, rounded up): a buffer of
	// granted bytes holds about granted/datagramCost of them.
	datagramCost = 4 << 10
)

// receiver reads segment datagrams, checks their header as the official
// daemon does (internal/segment.SplitDatagram) and hands their bodies,
// unparsed, to the batcher. Readers take up to readBatch datagrams per
// system call (recvmmsg). One reader leads: it reads until the socket is
// empty, then waits (coalesceWait) so that the next run of reads takes
// many datagrams, while the socket buffer holds what arrives meanwhile.
// Waking for every few datagrams, and the scheduler's and sysmon's
// wake-ups that come with it, was most of the daemon's CPU at moderate
// rates. The other readers sleep until the leader finds a backlog, then
// read alongside it. How the socket is read is the platform's
// (receiver_linux.go, receiver_other.go).
type receiver struct {
	sock     socket
	granted  int // the receive buffer the kernel reports; <0: unknown
	add      func(doc []byte, since int64)
	m        *metrics
	tel      *telemetry
	wg       sync.WaitGroup
	stopping atomic.Bool
	stopBy   time.Time
	help     chan struct{} // the leader wakes a follower: a full read
	quit     chan struct{} // closed on stop: followers return
	total    atomic.Int64  // datagrams read by all readers
	reads    atomic.Int64  // recvmmsg calls that returned datagrams
	full     atomic.Int64  // of them, those that filled every buffer: a backlog
	// since (mono) is when the leader last started a read that found the
	// socket empty or emptied it: every datagram read later arrived
	// after it. The batcher seals a batch BatchWait after its first
	// document's since, so the waits between reads do not add to the
	// time a document is held.
	since atomic.Int64
	// parallel: the daemon runs on more than one P (the GOMAXPROCS
	// governor raised them): followers read on their own too.
	parallel atomic.Bool
	sleep    func(time.Duration) // the leader's wait; tests replace it
	idle     func()              // tests: the leader blocks until a datagram comes
}

func listenUDP(addr string) (*net.UDPConn, int, error) { return udp.Listen(addr, readBuffer) }

func (r *receiver) start() {
	r.help, r.quit = make(chan struct{}, 1), make(chan struct{})
	r.since.Store(mono())
	for i := range readers {
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.read(i == 0) }()
	}
}

// counted is the bookkeeping after a read of n datagrams that filled
// every buffer or not.
func (r *receiver) counted(n int, full bool) {
	r.total.Add(int64(n))
	r.reads.Add(1)
	if full {
		r.full.Add(1)
	}
}

// pacer is the leader's schedule. After a read that empties the socket
// (a short read) it waits, from the arrival rate it measures, long
// enough for about coalesceTarget datagrams to gather, and reads again.
type pacer struct {
	last      time.Time // the start of the last wait
	lastTotal int64     // the receiver's total then
	run       int       // datagrams read since
}

// pace is the leader's wait after a short read (none while stopping).
func (r *receiver) pace(p *pacer) {
	p.run = 0
	if r.stopping.Load() {
		return
	}
	total, now := r.total.Load(), time.Now()
	d := coalesceWait(total-p.lastTotal, now.Sub(p.last), r.granted)
	p.last, p.lastTotal = now, total
	if r.sleep != nil {
		r.sleep(d)
	} else if d > 0 {
		time.Sleep(d)
	}
}

// coalesceWait is how long the leader waits before its next read, given
// that arrived datagrams were read over the elapsed time since its last
// wait began (the arrival rate), with a receive buffer of granted bytes:
// long enough for coalesceTarget datagrams to arrive, never longer than
// maxCoalesce, and never so long that the arrivals meanwhile could fill
// more than a quarter of the buffer. No wait when under two datagrams
// would arrive in maxCoalesce (a trickle: the next read blocks until one
// comes anyway).
func coalesceWait(arrived int64, elapsed time.Duration, granted int) time.Duration {
	if arrived <= 0 || elapsed <= 0 {
		return 0
	}
	perSec := float64(arrived) / elapsed.Seconds()
	if perSec*maxCoalesce.Seconds() < 2 {
		return 0
	}
	seconds := float64(coalesceTarget) / perSec
	if granted > 0 {
		seconds = min(seconds, float64(granted/datagramCost/4)/perSec)
	}
	return min(time.Duration(seconds*float64(time.Second)), maxCoalesce)
}

// datagram takes a datagram that arrived after since (mono time).
func (r *receiver) datagram(p []byte, since int64) {
	r.m.received.Inc()
	r.tel.received.Add(1)
	r.tel.seen.Store(true)
	body, err := splitDatagram(p)
	if err != nil {
		r.m.dropped.WithLabelValues(udp.RejectReason(err)).Inc()
		r.tel.rejected.Add(1)
		return
	}
	r.add(body, since)
}

// monoStart is the origin of mono.
var monoStart = time.Now()

// mono is the monotonic clock in nanoseconds since the process started.
func mono() int64 { return int64(time.Since(monoStart)) }

// The headers the SDKs send (recorded in the fixtures): recognised by a
// byte compare, which costs nothing next to decoding the header as JSON
// for every datagram.
var sdkHeaders = [][]byte{[]byte(`{"format":"json","version":1}` + "\n"), []byte(`{"format": "json", "version": 1}` + "\n")}

// splitDatagram is segment.SplitDatagram, with the SDKs' headers taken
// without decoding; any other datagram goes through SplitDatagram.
func splitDatagram(p []byte) ([]byte, error) {
	for _, h := range sdkHeaders {
		if len(p) <= segment.MaxDatagramSize && bytes.HasPrefix(p, h) {
			if body := p[len(h):]; len(bytes.TrimSpace(body)) > 0 {
				return body, nil
			}
		}
	}
	return segment.SplitDatagram(p)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// batcher fills one batch at a time from the readers and seals it when
// it holds maxBatch documents or its first document has waited wait
// since it arrived (as far as the receiver knows: see receiver.since).
type batcher struct {
	mu     sync.Mutex
	cur    *batch
	gen    uint64
	timer  *time.Timer // seals cur after wait
	wait   time.Duration
	held   *atomic.Int64
	submit func(*batch)
	busy   sync.WaitGroup // submits in progress
	// Tests replace the clock (mono) and the timer.
	clock     func() int64
	afterFunc func(time.Duration, func()) *time.Timer
}

// add adds a document that arrived after since (mono time).
func (bt *batcher) add(doc []byte, since int64) {
	bt.mu.Lock()
	if bt.cur == nil {
		bt.cur = newBatch()
		bt.gen++
		gen := bt.gen
		now, after := mono, time.AfterFunc
		if bt.clock != nil {
			now, after = bt.clock, bt.afterFunc
		}
		wait := min(max(bt.wait-time.Duration(now()-since), 0), bt.wait)
		bt.timer = after(wait, func() { bt.sealIf(gen) })
	}
	bt.cur.add(doc)
	bt.held.Add(int64(len(doc)))
	var sealed *batch
	if bt.cur.full() {
		// A timer that will not fire costs no goroutine: at high rates
		// batches fill long before it would.
		bt.timer.Stop()
		sealed, bt.cur = bt.cur, nil
		bt.busy.Add(1)
	}
	bt.mu.Unlock()
	if sealed != nil {
		bt.submit(sealed)
		bt.busy.Done()
	}
}

// sealIf seals the filling batch if it is still generation gen.
func (bt *batcher) sealIf(gen uint64) {
	bt.mu.Lock()
	var sealed *batch
	if bt.cur != nil && bt.gen == gen {
		sealed, bt.cur = bt.cur, nil
		bt.busy.Add(1)
	}
	bt.mu.Unlock()
	if sealed != nil {
		bt.submit(sealed)
		bt.busy.Done()
	}
}

// flush seals whatever is filling and waits for every submit in
// progress (on stop, once no more documents come).
func (bt *batcher) flush() {
	bt.mu.Lock()
	gen := bt.gen
	bt.mu.Unlock()
	bt.sealIf(gen)
	bt.busy.Wait()
}
