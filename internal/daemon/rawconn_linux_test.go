package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Requests through rawConns reach a real server byte for byte: a body
// larger than the socket's send buffer (written in several system calls,
// waiting in the poller between them), from a pooledBody (written
// straight from its buffer) and from any other reader (through the
// pooled copy buffer), on one kept-alive connection.
func TestRawConnRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			t.Error(err)
		}
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	}))
	defer srv.Close()
	var mu sync.Mutex
	var dialed []net.Conn
	dial := rawDial(nil)
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		mu.Lock()
		dialed = append(dialed, c)
		mu.Unlock()
		return c, err
	}}}
	defer hc.CloseIdleConnections()

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MB
	for _, c := range []struct {
		name string
		body func() io.Reader
		want []byte
	}{
		{"a pooled body of 4 MB", func() io.Reader { pb := &pooledBody{b: big, pool: &sync.Pool{}}; pb.Reset(pb.b); return pb }, big},
		{"a small pooled body", func() io.Reader { pb := &pooledBody{b: big[:100], pool: &sync.Pool{}}; pb.Reset(pb.b); return pb }, big[:100]},
		{"another reader of 4 MB", func() io.Reader { return struct{ io.Reader }{bytes.NewReader(big)} }, big},
		{"an empty body", func() io.Reader { return nil }, nil},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL, c.body())
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = int64(len(c.want))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if want := fmt.Sprintf("%d %x", len(c.want), sha256.Sum256(c.want)); string(got) != want {
			t.Errorf("%s: the server read %q, want %q", c.name, got, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dialed) != 1 {
		t.Errorf("%d connections dialed for 4 requests, want 1 kept alive", len(dialed))
	}
	for _, c := range dialed {
		if _, ok := c.(*rawConn); !ok {
			t.Errorf("dialed a %T, want a *rawConn", c)
		}
	}
}

// A rawConn reports what a net.Conn does: a deadline as a timeout, the
// peer's data then io.EOF once it closes, and a write to a closed peer
// as an error.
func TestRawConnErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := rawDial(nil)(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}

	buf := make([]byte, 16)
	_ = c.SetReadDeadline(time.Now().Add(-time.Second))
	_, err = c.Read(buf)
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read past the deadline: %v, want a timeout", err)
	}
	if !isTimeout(err) || errorKind(err) != "timeout" {
		t.Errorf("errorKind(%v) = %q, want timeout", err, errorKind(err))
	}
	_ = c.SetReadDeadline(time.Time{})

	if _, err := peer.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	peer.Close()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello" {
		t.Errorf("read %q, %v; want hello and io.EOF", got, err)
	}

	// The peer is gone: a write fails, at the latest once the reset comes back.
	var werr error
	for range 100 {
		if _, werr = c.Write([]byte(strings.Repeat("x", 1<<16))); werr != nil {
			break
		}
	}
	var oe *net.OpError
	if !errors.As(werr, &oe) || oe.Op != "write" {
		t.Errorf("writing to a closed peer: %v, want a write *net.OpError", werr)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	if _, err := c.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v, want net.ErrClosed", err)
	}
}
