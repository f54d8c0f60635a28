package daemon

import (
	"errors"
	"net"
	"time"
	"unsafe"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"golang.org/x/sys/unix"
)

// socket is the UDP socket, read by blocking system calls outside Go's
// network poller. The poller watches its sockets edge-triggered: every
// datagram that arrives while the process is idle wakes a thread from
// epoll_wait, whether or not a reader waits for it. With readers that
// wait on purpose for datagrams to gather (coalesceWait), that was one
// futile wake-up per datagram or two at 10k segments/s, more than the
// reads saved. Out of the poller, arrivals wake a reader only when it
// sleeps in poll(2) on an empty socket.
type socket struct {
	fd int
	// stopR is readable (at end of file) once stopW is closed: a reader
	// waiting in poll wakes to drain the socket and stop.
	stopR, stopW int
}

// open takes conn's socket out of the network poller: a duplicate of
// its descriptor, in blocking mode, outlives closing conn (which removes
// conn's descriptor from the poller).
func (r *receiver) open(conn *net.UDPConn) error {
	defer conn.Close()
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	fd := -1
	if cerr := rc.Control(func(s uintptr) { fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); cerr != nil {
		return cerr
	}
	if err != nil {
		return err
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		unix.Close(fd)
		return err
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		unix.Close(p[0])
		unix.Close(p[1])
		return err
	}
	r.sock = socket{fd: fd, stopR: p[0], stopW: p[1]}
	return nil
}

// close closes a socket no reader was started on.
func (r *receiver) close() {
	unix.Close(r.sock.fd)
	unix.Close(r.sock.stopR)
	unix.Close(r.sock.stopW)
}

// stop reads what is already in the socket buffer (until it has been quiet
// for drainQuiet, or until by), then closes the socket.
func (r *receiver) stop(by time.Time) {
	r.stopBy = by
	r.stopping.Store(true)
	close(r.quit)
	unix.Close(r.sock.stopW)
	r.wg.Wait()
	unix.Close(r.sock.fd)
	unix.Close(r.sock.stopR)
}

// mmsghdr is struct mmsghdr: a message header and the length received.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// read is a reader's loop: the leader's or a follower's (see receiver).
func (r *receiver) read(lead bool) {
	rb := newReadBufs()
	defer rb.free()
	if !lead {
		r.follow(rb)
		return
	}
	p := &pacer{last: time.Now(), lastTotal: r.total.Load()}
	for {
		n, errno := r.recv(rb, p)
		switch {
		case errno == unix.EINTR:
			continue
		case errno == unix.EBADF:
			return
		case errno == unix.EAGAIN && p.run > 0:
			r.pace(p) // the last read emptied the socket exactly
			continue
		case errno != 0:
			// EAGAIN: nothing came during the wait; anything else: not
			// in a tight loop.
			if !r.wait() {
				return
			}
			continue
		}
		if n < readBatch {
			r.pace(p)
			continue
		}
		// A backlog: read on at once, and wake a follower.
		select {
		case r.help <- struct{}{}:
		default:
		}
	}
}

// follow is a follower's loop: asleep until the leader finds a backlog,
// then reading until a read comes back short. While the daemon runs on
// more than one P (receiver.parallel) it also reads on its own, every
// wait as the leader does: on a host loaded by other processes the
// leader's thread may not run for a while, and another reading thread
// keeps the socket from overflowing meanwhile.
func (r *receiver) follow(rb *readBufs) {
	t := time.NewTimer(maxCoalesce)
	defer t.Stop()
	for {
		var tick <-chan time.Time
		if r.parallel.Load() {
			t.Reset(maxCoalesce)
			tick = t.C
		}
		select {
		case <-r.help:
		case <-tick:
		case <-r.quit:
			return
		}
		t.Stop() // since Go 1.23 no stale tick is left in t.C
		for {
			n, errno := r.recv(rb, nil)
			if errno == unix.EINTR {
				continue
			}
			if errno == unix.EBADF {
				return
			}
			if errno != 0 || n < readBatch {
				break
			}
		}
	}
}

// readBufs are a reader's buffers for recvmmsg.
type readBufs struct {
	slab   []byte
	mapped bool
	bufs   [][]byte
	iovs   []unix.Iovec
	hdrs   []mmsghdr
}

func newReadBufs() *readBufs {
	const size = segment.MaxDatagramSize + 1
	// The buffers are mapped outside the Go heap: only the pages the
	// kernel writes datagrams into become resident (the heap would zero,
	// and so touch, all 32 MB of them), and they do not raise the GC's
	// heap goal.
	slab, err := unix.Mmap(-1, 0, readBatch*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	mapped := err == nil
	if mapped {
		// Huge pages would make 2 MB resident for each datagram.
		_ = unix.Madvise(slab, unix.MADV_NOHUGEPAGE)
	} else {
		slab = make([]byte, readBatch*size)
	}
	rb := &readBufs{slab: slab, mapped: mapped, bufs: make([][]byte, readBatch), iovs: make([]unix.Iovec, readBatch), hdrs: make([]mmsghdr, readBatch)}
	for i := range rb.hdrs {
		rb.bufs[i] = slab[i*size : (i+1)*size : (i+1)*size]
		rb.iovs[i].Base = &rb.bufs[i][0]
		rb.iovs[i].SetLen(len(rb.bufs[i]))
		rb.hdrs[i].hdr.Iov = &rb.iovs[i]
		rb.hdrs[i].hdr.SetIovlen(1)
	}
	return rb
}

func (rb *readBufs) free() {
	if rb.mapped {
		_ = unix.Munmap(rb.slab)
	}
}

// recv reads up to readBatch datagrams without blocking and hands them
// on. It is a raw system call: recvmmsg with MSG_DONTWAIT returns at
// once, and each system call the scheduler is told of would wake its
// monitor thread (see rawConn).
func (r *receiver) recv(rb *readBufs, p *pacer) (int, unix.Errno) {
	since, start := r.since.Load(), int64(0)
	if p != nil {
		start = mono()
	}
	r1, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(r.sock.fd), uintptr(unsafe.Pointer(&rb.hdrs[0])), uintptr(len(rb.hdrs)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		if p != nil && errno == unix.EAGAIN {
			r.since.Store(start)
		}
		return 0, errno
	}
	n := int(r1)
	for i := range n {
		r.datagram(rb.bufs[i][:rb.hdrs[i].n], since)
	}
	if p != nil {
		p.run += n
		if n < readBatch {
			r.since.Store(start)
		}
	}
	r.counted(n, n == readBatch)
	return n, 0
}

// wait blocks until the socket has a datagram, or, once stopping, until
// it has had none for drainQuiet (or it is past stopBy): then it returns
// false, and the reader is done.
//
// poll returns as a datagram arrives: what the next read takes arrived
// about then, not at the read before the wait (receiver.since), which
// may be long before.
func (r *receiver) wait() bool {
	if !r.stopping.Load() {
		if r.idle != nil {
			r.idle()
		}
		fds := []unix.PollFd{{Fd: int32(r.sock.fd), Events: unix.POLLIN}, {Fd: int32(r.sock.stopR), Events: unix.POLLIN}}
		_, _ = unix.Poll(fds, -1) // EINTR: the caller reads and comes back
		r.since.Store(mono())
		return true
	}
	quiet := min(drainQuiet, time.Until(r.stopBy))
	if quiet <= 0 {
		return false
	}
	fds := []unix.PollFd{{Fd: int32(r.sock.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(quiet.Milliseconds())+1)
	r.since.Store(mono())
	return n > 0 || errors.Is(err, unix.EINTR)
}
