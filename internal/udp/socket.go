package udp

import (
	"errors"
	"net"
	"syscall"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// Listen binds a UDP socket whose receive buffer is asked to hold
// readBuffer bytes, so that bursts wait in the kernel while readers catch
// up instead of being dropped there (the kernel's 208 kB default holds
// ~150 segments). SO_RCVBUFFORCE passes net.core.rmem_max when the process
// may (CAP_NET_ADMIN); otherwise the kernel caps the size at rmem_max.
// It returns the size the kernel granted.
func Listen(addr string, readBuffer int) (*net.UDPConn, int, error) {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, 0, err
	}
	uc := conn.(*net.UDPConn)
	if rc, err := uc.SyscallConn(); err == nil {
		forced := false
		_ = rc.Control(func(fd uintptr) {
			forced = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, readBuffer) == nil
		})
		if !forced {
			_ = uc.SetReadBuffer(readBuffer)
		}
	}
	got := 0
	if rc, err := uc.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		})
	}
	return uc, got, nil
}

// RejectReason names why segment.SplitDatagram refused a datagram, as
// metrics label it.
func RejectReason(err error) string {
	switch {
	case errors.Is(err, segment.ErrNoHeader):
		return "no_header"
	case errors.Is(err, segment.ErrBadHeader):
		return "bad_header"
	case errors.Is(err, segment.ErrEmptyBody):
		return "empty_body"
	case errors.Is(err, segment.ErrDatagramSize):
		return "oversize"
	}
	return "other"
}
