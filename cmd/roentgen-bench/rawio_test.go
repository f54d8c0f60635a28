package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// writeBoth writes both parts whole, through a socket buffer that fills
// (partial writes, waits until writable); Read reads what the peer sends,
// then io.EOF when it closes, and stops at the connection's deadline.
func TestRawConnWritesAndReadsWhole(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a := bytes.Repeat([]byte("head"), 1000)
	b := make([]byte, 8<<20)
	for i := range b {
		b[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		// Slowly at first, so the sender's buffer fills.
		time.Sleep(50 * time.Millisecond)
		buf, _ := io.ReadAll(io.LimitReader(c, int64(len(a)+len(b))))
		got <- buf
		c.Write([]byte("answer"))
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := newRawConn(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.writeBoth(a, b); err != nil {
		t.Fatal(err)
	}
	if buf := <-got; !bytes.Equal(buf, append(a, b...)) {
		t.Fatalf("peer read %d bytes, not the %d written", len(buf), len(a)+len(b))
	}
	answer, err := io.ReadAll(r)
	if err != nil || string(answer) != "answer" {
		t.Fatalf("read %q, %v", answer, err)
	}

	// A peer that answers nothing: the deadline ends the read.
	done, ended := make(chan struct{}), make(chan struct{})
	defer func() { close(done); <-ended }()
	go func() {
		defer close(ended)
		c, err := ln.Accept()
		if err == nil {
			<-done
			c.Close()
		}
	}()
	c2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	r2, err := newRawConn(c2)
	if err != nil {
		t.Fatal(err)
	}
	c2.SetDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r2.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
}
