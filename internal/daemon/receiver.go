package daemon

import (
	"bytes"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/udp"
	"golang.org/x/net/ipv4"
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
	readBatch  = 32 // datagrams per recvmmsg
	coalesce   = 2 * time.Millisecond
)

// receiver reads segment datagrams, checks their header as the official
// daemon does (internal/segment.SplitDatagram) and hands their bodies,
// unparsed, to the batcher.
type receiver struct {
	conn     *net.UDPConn
	add      func(doc []byte)
	m        *metrics
	tel      *telemetry
	wg       sync.WaitGroup
	stopping atomic.Bool
	stopBy   time.Time
}

func listenUDP(addr string) (*net.UDPConn, int, error) { return udp.Listen(addr, readBuffer) }

func (r *receiver) start() {
	for range readers {
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.read() }()
	}
}

// stop reads what is already in the socket buffer (until it has been quiet
// for drainQuiet, or until by), then closes the socket.
func (r *receiver) stop(by time.Time) {
	r.stopBy = by
	r.stopping.Store(true)
	_ = r.conn.SetReadDeadline(minTime(time.Now().Add(drainQuiet), by))
	r.wg.Wait()
	_ = r.conn.Close()
}

// read takes datagrams in batches of up to readBatch per system call
// (recvmmsg). When a read finds the socket nearly empty, the reader waits
// coalesce before the next one, so that at moderate rates each wake-up
// takes several datagrams instead of one: waking for every datagram was
// most of the daemon's CPU. The socket buffer holds what arrives meanwhile.
func (r *receiver) read() {
	pc := ipv4.NewPacketConn(r.conn)
	msgs := make([]ipv4.Message, readBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, segment.MaxDatagramSize+1)}
	}
	for {
		n, err := pc.ReadBatch(msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || (r.stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded)) {
				return
			}
			continue
		}
		for _, m := range msgs[:n] {
			r.datagram(m.Buffers[0][:m.N])
		}
		if r.stopping.Load() {
			_ = r.conn.SetReadDeadline(minTime(time.Now().Add(drainQuiet), r.stopBy))
		} else if n < readBatch/2 {
			time.Sleep(coalesce)
		}
	}
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
		bt.cur = &batch{buf: make([]byte, 0, 64<<10), ends: make([]int, 0, maxBatch)}
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
