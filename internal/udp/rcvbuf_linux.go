package udp

import (
	"net"
	"syscall"
)

// forceReadBuffer sets the receive buffer past net.core.rmem_max, which
// Linux allows a process with CAP_NET_ADMIN.
func forceReadBuffer(uc *net.UDPConn, n int) bool {
	rc, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	forced := false
	_ = rc.Control(func(fd uintptr) {
		forced = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n) == nil
	})
	return forced
}

// grantedReadBuffer is the receive buffer the kernel reports (twice what
// was granted: Linux counts its bookkeeping too).
func grantedReadBuffer(uc *net.UDPConn) int {
	rc, err := uc.SyscallConn()
	if err != nil {
		return -1
	}
	got := -1
	_ = rc.Control(func(fd uintptr) {
		got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	})
	return got
}
