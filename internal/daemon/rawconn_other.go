//go:build !linux

package daemon

import (
	"context"
	"net"
)

// rawDial is dial: the raw system calls of rawconn_linux.go are Linux's.
func rawDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return dial
}
