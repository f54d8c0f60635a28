package udp

import (
	"errors"
	"net"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// Listen binds a UDP socket whose receive buffer is asked to hold
// readBuffer bytes, so that bursts wait in the kernel while readers catch
// up instead of being dropped there (the kernel's 208 kB default holds
// ~150 segments). SO_RCVBUFFORCE passes net.core.rmem_max when the process
// may (CAP_NET_ADMIN); otherwise the kernel caps the size at rmem_max.
// It returns the size the kernel granted (-1 where it cannot tell).
func Listen(addr string, readBuffer int) (*net.UDPConn, int, error) {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, 0, err
	}
	uc := conn.(*net.UDPConn)
	if !forceReadBuffer(uc, readBuffer) {
		_ = uc.SetReadBuffer(readBuffer)
	}
	return uc, grantedReadBuffer(uc), nil
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
