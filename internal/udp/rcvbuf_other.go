//go:build !linux

package udp

import "net"

// forceReadBuffer: only Linux has SO_RCVBUFFORCE.
func forceReadBuffer(*net.UDPConn, int) bool { return false }

func grantedReadBuffer(*net.UDPConn) int { return -1 }
