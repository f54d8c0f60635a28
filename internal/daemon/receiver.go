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
	readBatch  = 64 // datagrams per recvmmsg
	// maxCoalesce bounds how long a reader waits for datagrams to gather
	// in the socket before it reads again (see coalesceWait).
	maxCoalesce = 10 * time.Millisecond
	// datagramCost is what the kernel charges a socket buffer for a
	// datagram of ~1.3 kB (its skb's truesize, rounded up): a buffer of
	// granted bytes holds about granted/datagramCost of them.
	datagramCost = 4 << 10
)

// receiver reads segment datagrams, checks their header as the official
// daemon does (internal/segment.SplitDatagram) and hands their bodies,
// unparsed, to the batcher. Readers take up to readBatch datagrams per
// system call (recvmmsg). A read that empties the socket is followed by a
// wait (coalesceWait) so that the next one takes many datagrams: waking
// for every few datagrams, and the scheduler's and sysmon's wake-ups that
// come with it, was most of the daemon's CPU at moderate rates. The
// socket buffer holds what arrives meanwhile. How the socket is read is
// the platform's (receiver_linux.go, receiver_other.go).
type receiver struct {
	sock     socket
	granted  int // the receive buffer the kernel reports; <0: unknown
	add      func(doc []byte)
	m        *metrics
	tel      *telemetry
	wg       sync.WaitGroup
	stopping atomic.Bool
	stopBy   time.Time
	total    atomic.Int64 // datagrams read by all readers
	reads    atomic.Int64 // recvmmsg calls that returned datagrams
	full     atomic.Int64 // of them, those that filled every buffer
}

func listenUDP(addr string) (*net.UDPConn, int, error) { return udp.Listen(addr, readBuffer) }

func (r *receiver) start() {
	for range readers {
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.read() }()
	}
}

// afterRead is the bookkeeping after a read of n datagrams, and the
// wait before the next (none while stopping). last and lastTotal are the
// reader's own: when it read last, and the total then.
func (r *receiver) afterRead(n int, last *time.Time, lastTotal *int64) {
	total := r.total.Add(int64(n))
	r.reads.Add(1)
	if n == readBatch {
		r.full.Add(1)
	}
	if r.stopping.Load() {
		return
	}
	now := time.Now()
	wait := coalesceWait(n, total-*lastTotal, now.Sub(*last), r.granted)
	*last, *lastTotal = now, total
	if wait > 0 {
		time.Sleep(wait)
	}
}

// coalesceWait is how long a reader waits before its next read, given
// that its last read took n datagrams and all readers took arrived over
// the elapsed time since its read before (the arrival rate), with a
// receive buffer of granted bytes. It aims for reads of about half of
// readBatch each across the readers, never longer than maxCoalesce, and
// never so long that the arrivals meanwhile could fill more than a
// quarter of the buffer. No wait after a full read (a backlog to take at
// once) or when under two datagrams would arrive in maxCoalesce (a
// trickle: the next read blocks until one comes anyway).
func coalesceWait(n int, arrived int64, elapsed time.Duration, granted int) time.Duration {
	if n >= readBatch || arrived <= 0 || elapsed <= 0 {
		return 0
	}
	perSec := float64(arrived) / elapsed.Seconds()
	if perSec*maxCoalesce.Seconds() < 2 {
		return 0
	}
	seconds := float64(readers*readBatch/2) / perSec
	if granted > 0 {
		seconds = min(seconds, float64(granted/datagramCost/4)/perSec)
	}
	return min(time.Duration(seconds*float64(time.Second)), maxCoalesce)
}

func (r *receiver) datagram(p []byte) {
	r.m.received.Inc()
	r.tel.received.Add(1)
	r.tel.seen.Store(true)
	body, err := splitDatagram(p)
	if err != nil {
		r.m.dropped.WithLabelValues(udp.RejectReason(err)).Inc()
		r.tel.rejected.Add(1)
		return
	}
	r.add(body)
}

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

// batcher fills one batch at a time from both readers and seals it when
// it holds maxBatch documents or its first document has waited wait.
type batcher struct {
	mu     sync.Mutex
	cur    *batch
	gen    uint64
	timer  *time.Timer // seals cur after wait
	wait   time.Duration
	held   *atomic.Int64
	submit func(*batch)
	busy   sync.WaitGroup // submits in progress
}

func (bt *batcher) add(doc []byte) {
	bt.mu.Lock()
	if bt.cur == nil {
		bt.cur = newBatch()
		bt.gen++
		gen := bt.gen
		bt.timer = time.AfterFunc(bt.wait, func() { bt.sealIf(gen) })
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
