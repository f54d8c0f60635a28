package xray

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/roentgen-tracing/roentgen/xray/xraylog"
)

// Header is the first line of every segment datagram.
const Header = `{"format": "json", "version": 1}` + "\n"

// maxDatagram is the largest datagram sent: the daemon reads 64 KiB and IPv4
// carries at most 65,507 bytes of UDP payload.
const maxDatagram = 64 * 1000

// Emitter sends finished segments somewhere.
type Emitter interface {
	Emit(seg *Segment)
	RefreshEmitterWithAddress(raddr *net.UDPAddr)
}

// queueLen bounds the datagrams waiting for the writer; when it is full the
// emitting goroutine writes itself, so nothing is dropped and memory stays
// bounded.
const queueLen = 1024

// DefaultEmitter sends segments over UDP. Close hands the datagrams to a
// writer goroutine (started with the first segment); Flush and Shutdown wait
// until everything queued is on the socket.
type DefaultEmitter struct {
	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	addr   atomic.Pointer[net.UDPAddr]
	conn   atomic.Pointer[net.UDPConn]
	dialMu sync.Mutex

	start sync.Once
	queue chan item
	done  chan struct{}

	written atomic.Int64 // datagrams written (tests, stats)
}

// item is a datagram to write, or a flush marker.
type item struct {
	buf   *[]byte
	flush chan struct{}
}

// free recycles datagram buffers. A channel rather than a sync.Pool: the
// writer goroutine frees what emitting goroutines took, and sync.Pool's
// per-P caches miss on exactly that pattern.
var free = make(chan *[]byte, 2*queueLen)

func getBuf() *[]byte {
	var bp *[]byte
	select {
	case bp = <-free:
	default:
		b := make([]byte, 0, 4096)
		bp = &b
	}
	*bp = append((*bp)[:0], Header...)
	return bp
}

func putBuf(bp *[]byte) {
	if cap(*bp) > 128<<10 {
		return
	}
	select {
	case free <- bp:
	default:
	}
}

// NewDefaultEmitter returns an emitter sending to raddr. It dials lazily.
func NewDefaultEmitter(raddr *net.UDPAddr) (*DefaultEmitter, error) {
	initLambda()
	e := &DefaultEmitter{queue: make(chan item, queueLen), done: make(chan struct{})}
	e.addr.Store(raddr)
	return e, nil
}

// RefreshEmitterWithAddress sends to raddr from now on.
func (e *DefaultEmitter) RefreshEmitterWithAddress(raddr *net.UDPAddr) {
	e.dialMu.Lock()
	defer e.dialMu.Unlock()
	e.addr.Store(raddr)
	if old := e.conn.Swap(nil); old != nil {
		_ = old.Close()
	}
}

func (e *DefaultEmitter) socket() *net.UDPConn {
	if c := e.conn.Load(); c != nil {
		return c
	}
	e.dialMu.Lock()
	defer e.dialMu.Unlock()
	if c := e.conn.Load(); c != nil {
		return c
	}
	c, err := net.DialUDP("udp", nil, e.addr.Load())
	if err != nil {
		logf(xraylog.LogLevelError, "xray: dialing the daemon at %v: %v", e.addr.Load(), err)
		return nil
	}
	e.conn.Store(c)
	return c
}

// Emit packs seg into datagrams (streaming subsegments when the document
// would not fit or holds too many) and queues them.
func (e *DefaultEmitter) Emit(seg *Segment) {
	if seg == nil || !seg.ParentSegment.Sampled {
		return
	}
	pack(seg, e.enqueue)
}

func (e *DefaultEmitter) enqueue(bp *[]byte) {
	e.start.Do(func() { go e.run() })
	e.mu.RLock()
	if !e.closed {
		select {
		case e.queue <- item{buf: bp}:
			e.mu.RUnlock()
			return
		default:
		}
	}
	e.mu.RUnlock()
	e.write(bp)
}

func (e *DefaultEmitter) write(bp *[]byte) {
	if c := e.socket(); c != nil {
		if _, err := c.Write(*bp); err != nil {
			logf(xraylog.LogLevelWarn, "xray: writing a segment of %d bytes: %v", len(*bp), err)
		}
	}
	e.written.Add(1)
	putBuf(bp)
}

// batchLen is the most datagrams handed to the kernel in one sendmmsg.
const batchLen = 64

// batchDelay is how long the writer lets a burst gather once woken; it
// bounds the extra latency of a segment.
var batchDelay = 200 * time.Microsecond

// run writes queued datagrams, several per system call when they pile up.
func (e *DefaultEmitter) run() {
	defer close(e.done)
	var (
		bufs  [batchLen]*[]byte
		msgs  [batchLen]ipv4.Message
		marks []chan struct{}
	)
	for it := range e.queue {
		n := 0
		marks = marks[:0]
		add := func(it item) {
			if it.flush != nil {
				marks = append(marks, it.flush)
				return
			}
			bufs[n] = it.buf
			n++
		}
		add(it)
		closed := e.drain(add, &n)
		if !closed && len(marks) == 0 && n < batchLen/4 && batchDelay > 0 {
			// A trickle: let a burst gather, so datagrams queued meanwhile
			// cost their goroutines no wake-up and share one sendmmsg.
			// A backlog is written at once, and Flush and Shutdown are
			// never delayed.
			time.Sleep(batchDelay)
			e.drain(add, &n)
		}
		e.writeBatch(bufs[:n], msgs[:n])
		for _, m := range marks {
			close(m)
		}
	}
}

func (e *DefaultEmitter) writeBatch(bufs []*[]byte, msgs []ipv4.Message) {
	if len(bufs) == 0 {
		return
	}
	if len(bufs) == 1 {
		e.write(bufs[0])
		return
	}
	c := e.socket()
	if c != nil {
		for i, bp := range bufs {
			msgs[i].Buffers = append(msgs[i].Buffers[:0], *bp)
			msgs[i].Addr = nil
		}
		pc := ipv4.NewPacketConn(c)
		for sent := 0; sent < len(msgs); {
			n, err := pc.WriteBatch(msgs[sent:], 0)
			if err != nil {
				// One bad datagram must not cost the others: write them singly.
				for _, m := range msgs[sent+max(n, 0):] {
					if _, err := c.Write(m.Buffers[0]); err != nil {
						logf(xraylog.LogLevelWarn, "xray: writing a segment of %d bytes: %v", len(m.Buffers[0]), err)
					}
				}
				break
			}
			sent += n
		}
	}
	for i, bp := range bufs {
		msgs[i].Buffers[0] = nil
		e.written.Add(1)
		putBuf(bp)
	}
}

// drain adds what is queued, up to a batch; it reports a closed queue.
func (e *DefaultEmitter) drain(add func(item), n *int) bool {
	for *n < batchLen {
		select {
		case it, ok := <-e.queue:
			if !ok {
				return true
			}
			add(it)
		default:
			return false
		}
	}
	return false
}

// Flush waits until every datagram queued before the call is written.
func (e *DefaultEmitter) Flush(ctx context.Context) error {
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return e.wait(ctx)
	}
	e.start.Do(func() { go e.run() })
	ch := make(chan struct{})
	select {
	case e.queue <- item{flush: ch}:
	case <-ctx.Done():
		e.mu.RUnlock()
		return ctx.Err()
	}
	e.mu.RUnlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown writes everything queued and stops the writer; later segments
// are written synchronously. It returns ctx's error if ctx ends first (the
// writer still finishes in the background).
func (e *DefaultEmitter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		e.start.Do(func() { go e.run() })
		close(e.queue)
	}
	e.mu.Unlock()
	return e.wait(ctx)
}

func (e *DefaultEmitter) wait(ctx context.Context) error {
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *DefaultEmitter) isShutdown() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.closed
}

// Written counts the datagrams written so far.
func (e *DefaultEmitter) Written() int64 { return e.written.Load() }
