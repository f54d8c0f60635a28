package xray

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"

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

// DefaultEmitter sends segments over UDP from the goroutine that closes
// them, as aws-xray-sdk-go does: when Close returns, the datagram is on the
// socket, so a program that exits right after its last Close has sent it.
//
// When several goroutines close segments at once it commits them as a
// group: the goroutine writing (the sender) takes the datagrams that others
// queued meanwhile and hands them to the kernel in one sendmmsg before its
// own Close returns; those others return at once. This is the one case where
// Close returns before its datagram is written: while another goroutine is
// inside Close writing. Such a datagram is written before that goroutine's
// Close returns, and Flush and Shutdown wait for it. When batchLen datagrams
// are already queued, or the sender has written maxDrain for others, a
// goroutine writes its own instead (memory and the sender's extra work stay
// bounded). The emitter has no goroutine of its own.
type DefaultEmitter struct {
	addr   atomic.Pointer[net.UDPAddr]
	sock   atomic.Pointer[udpSocket]
	dialMu sync.Mutex

	mu        sync.Mutex
	sending   bool          // a goroutine holds the sender role
	accepting bool          // the sender still takes queued datagrams
	queue     []*[]byte     // datagrams waiting for the sender
	spare     []*[]byte     // the previous batch's slice, reused
	idle      chan struct{} // closed when the sender finishes (Flush)
	closed    bool          // Shutdown was called

	msgs [batchLen]ipv4.Message // the sender's sendmmsg vector
	iov  [batchLen][1][]byte

	written atomic.Int64 // datagrams written (tests, stats)
	batches atomic.Int64 // sendmmsg calls (tests)

	// beforeWrite and afterBatch, when set (tests), run in the sender
	// before it writes its own datagram and after each batch for others.
	beforeWrite, afterBatch func()
}

type udpSocket struct {
	c  *net.UDPConn
	pc *ipv4.PacketConn
}

// batchLen is the most datagrams queued for one sendmmsg; a goroutine that
// finds the queue full writes its own datagram, concurrently with the
// sender, so memory stays bounded.
const batchLen = 64

// maxDrain bounds what one sender writes for others: past it, new
// datagrams are written by their own goroutines, so no Close is held up by
// a steady stream of other goroutines' segments.
const maxDrain = 4 * batchLen

// bufPool recycles datagram buffers; the goroutine that fills one usually
// frees it, which is the pattern sync.Pool's per-P caches serve best.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func getBuf() *[]byte {
	bp := bufPool.Get().(*[]byte)
	*bp = append((*bp)[:0], Header...)
	return bp
}

func putBuf(bp *[]byte) {
	if cap(*bp) > 128<<10 {
		return
	}
	bufPool.Put(bp)
}

// NewDefaultEmitter returns an emitter sending to raddr. It dials lazily.
func NewDefaultEmitter(raddr *net.UDPAddr) (*DefaultEmitter, error) {
	initLambda()
	e := &DefaultEmitter{}
	e.addr.Store(raddr)
	return e, nil
}

// RefreshEmitterWithAddress sends to raddr from now on.
func (e *DefaultEmitter) RefreshEmitterWithAddress(raddr *net.UDPAddr) {
	e.dialMu.Lock()
	defer e.dialMu.Unlock()
	e.addr.Store(raddr)
	if old := e.sock.Swap(nil); old != nil {
		_ = old.c.Close()
	}
}

func (e *DefaultEmitter) socket() *udpSocket {
	if s := e.sock.Load(); s != nil {
		return s
	}
	e.dialMu.Lock()
	defer e.dialMu.Unlock()
	if s := e.sock.Load(); s != nil {
		return s
	}
	c, err := net.DialUDP("udp", nil, e.addr.Load())
	if err != nil {
		logf(xraylog.LogLevelError, "xray: dialing the daemon at %v: %v", e.addr.Load(), err)
		return nil
	}
	s := &udpSocket{c: c, pc: ipv4.NewPacketConn(c)}
	e.sock.Store(s)
	return s
}

// Emit packs seg into datagrams (streaming subsegments when the document
// would not fit or holds too many) and sends them.
func (e *DefaultEmitter) Emit(seg *Segment) {
	if seg == nil || !seg.ParentSegment.Sampled {
		return
	}
	pack(seg, e)
}

// send writes bp, or queues it for the goroutine that is writing.
func (e *DefaultEmitter) send(bp *[]byte) {
	e.mu.Lock()
	if e.sending {
		if e.accepting && len(e.queue) < batchLen {
			e.queue = append(e.queue, bp)
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		e.write(bp)
		return
	}
	e.sending, e.accepting = true, true
	e.mu.Unlock()

	if e.beforeWrite != nil {
		e.beforeWrite()
	}
	e.write(bp)
	drained := 0
	for {
		e.mu.Lock()
		batch := e.queue
		if len(batch) == 0 {
			e.sending = false
			if e.idle != nil {
				close(e.idle)
				e.idle = nil
			}
			e.mu.Unlock()
			return
		}
		e.queue = e.spare[:0]
		drained += len(batch)
		if drained >= maxDrain {
			e.accepting = false
		}
		e.mu.Unlock()
		e.writeBatch(batch)
		if e.afterBatch != nil {
			e.afterBatch()
		}
		clear(batch)
		e.mu.Lock()
		e.spare = batch[:0]
		e.mu.Unlock()
	}
}

func (e *DefaultEmitter) write(bp *[]byte) {
	for try := 0; try < 2; try++ {
		s := e.socket()
		if s == nil {
			break
		}
		_, err := s.c.Write(*bp)
		if err == nil {
			break
		}
		if errors.Is(err, net.ErrClosed) && try == 0 {
			continue // the address changed under us: the new socket
		}
		logf(xraylog.LogLevelWarn, "xray: writing a segment of %d bytes: %v", len(*bp), err)
		break
	}
	e.written.Add(1)
	putBuf(bp)
}

// writeBatch hands bufs to the kernel in as few sendmmsg calls as it takes.
func (e *DefaultEmitter) writeBatch(bufs []*[]byte) {
	if len(bufs) == 1 {
		e.write(bufs[0])
		return
	}
	s := e.socket()
	if s != nil {
		msgs := e.msgs[:len(bufs)] // only the sender is here
		for i, bp := range bufs {
			e.iov[i][0] = *bp
			msgs[i].Buffers = e.iov[i][:]
		}
		for sent := 0; sent < len(bufs); {
			n, err := s.pc.WriteBatch(msgs[sent:], 0)
			e.batches.Add(1)
			if err != nil {
				// One bad datagram must not cost the others: write them singly.
				for _, bp := range bufs[sent+max(n, 0):] {
					if _, err := s.c.Write(*bp); err != nil {
						logf(xraylog.LogLevelWarn, "xray: writing a segment of %d bytes: %v", len(*bp), err)
					}
				}
				break
			}
			sent += n
		}
	}
	e.written.Add(int64(len(bufs)))
	for i, bp := range bufs {
		e.iov[i][0] = nil
		putBuf(bp)
	}
}

// Flush waits until every datagram of a Close that returned before the call
// is written.
func (e *DefaultEmitter) Flush(ctx context.Context) error {
	e.mu.Lock()
	if !e.sending {
		e.mu.Unlock()
		return nil
	}
	if e.idle == nil {
		e.idle = make(chan struct{})
	}
	ch := e.idle
	e.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown waits until every datagram queued is written (Flush). The
// emitter keeps working afterwards; segments closed later are sent as
// before.
func (e *DefaultEmitter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return e.Flush(ctx)
}

func (e *DefaultEmitter) isShutdown() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// Written counts the datagrams written so far.
func (e *DefaultEmitter) Written() int64 { return e.written.Load() }
