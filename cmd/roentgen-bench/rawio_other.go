//go:build !linux

package main

import "net"

// rawConn is the connection itself where raw system calls are not used
// (see rawio_linux.go).
type rawConn struct{ c net.Conn }

func newRawConn(c net.Conn) (*rawConn, error) { return &rawConn{c: c}, nil }

func (r *rawConn) Read(p []byte) (int, error) { return r.c.Read(p) }

func (r *rawConn) writeBoth(a, b []byte) error {
	bufs := net.Buffers{a, b}
	_, err := bufs.WriteTo(r.c)
	return err
}
