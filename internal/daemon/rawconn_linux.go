package daemon

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// rawConn is an upstream TCP connection whose reads and writes are
// non-blocking system calls made without telling the Go scheduler
// (syscall.RawSyscall), waiting for readiness in the network poller as
// net.Conn does. Each system call the scheduler is told of wakes its
// monitor thread (sysmon) when that sleeps while the process is idle,
// and puts it back to polling every 20 µs for a millisecond or more: at
// moderate rates the daemon is idle between short bursts of work, and
// those wake-ups were the most frequent thing it did. A read or write on
// a non-blocking socket returns at once, so there is nothing for the
// scheduler to take over while it runs.
type rawConn struct {
	c  *net.TCPConn
	rc syscall.RawConn
}

// rawDial wraps dial so that the TCP connections it makes are rawConns.
func rawDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc, ok := c.(*net.TCPConn)
		if !ok {
			return c, nil
		}
		rc, err := tc.SyscallConn()
		if err != nil {
			return c, nil //nolint:nilerr // a plain connection still works
		}
		return &rawConn{c: tc, rc: rc}, nil
	}
}

func (c *rawConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false
			}
			n, errno = int(r), e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case errno != 0:
		return 0, c.opError("read", os.NewSyscallError("read", errno))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *rawConn) Write(p []byte) (int, error) {
	written := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for written < len(p) {
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[written])), uintptr(len(p)-written))
			switch e {
			case 0:
				written += int(r)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return written, c.opError("write", err)
	case errno != 0:
		return written, c.opError("write", os.NewSyscallError("write", errno))
	}
	return written, nil
}

// ReadFrom writes what r holds. net/http hands a request body to the
// connection behind an io.LimitedReader; a pooledBody (the segments'
// PutTraceSegments body) is written straight from its buffer, anything
// else through a pooled buffer: io.Copy would allocate 32 kB for every
// request, the daemon's largest source of garbage.
func (c *rawConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if pb, ok := lr.R.(*pooledBody); ok {
			rest := pb.b[len(pb.b)-pb.Len():]
			if int64(len(rest)) > lr.N {
				rest = rest[:max(lr.N, 0)]
			}
			n, err := c.Write(rest)
			_, _ = pb.Seek(int64(n), io.SeekCurrent)
			lr.N -= int64(n)
			return int64(n), err
		}
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	return io.CopyBuffer(writerOnly{c}, r, *buf)
}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// writerOnly hides rawConn's ReadFrom from io.CopyBuffer.
type writerOnly struct{ io.Writer }

func (c *rawConn) opError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		oe.Op = op // the RawConn's "raw-read"/"raw-write"
		return oe
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.c.LocalAddr(), Addr: c.c.RemoteAddr(), Err: err}
}

func (c *rawConn) Close() error                       { return c.c.Close() }
func (c *rawConn) LocalAddr() net.Addr                { return c.c.LocalAddr() }
func (c *rawConn) RemoteAddr() net.Addr               { return c.c.RemoteAddr() }
func (c *rawConn) SetDeadline(t time.Time) error      { return c.c.SetDeadline(t) }
func (c *rawConn) SetReadDeadline(t time.Time) error  { return c.c.SetReadDeadline(t) }
func (c *rawConn) SetWriteDeadline(t time.Time) error { return c.c.SetWriteDeadline(t) }
