package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// httpSender makes PutTraceSegments calls over a kept-alive connection of
// its own: the request written with one writev, the response read by
// net/http's parser, both through raw system calls (rawConn). The harness
// shares the server's cores, and http.Client's Transport (two goroutines
// per connection and a hand-off each way per call) cost it ~1 µs per
// segment more.
type httpSender struct {
	addr string
	conn net.Conn
	raw  *rawConn        // conn's socket
	in   *countingReader // under br: whether a call got any answer
	br   *bufio.Reader
	head []byte
	body []byte        // the last response's, reused
	req  *http.Request // for ReadResponse: the method decides whether a body follows
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// allStored is the answer to a call whose documents were all stored, as
// Roentgen writes it: recognised without decoding.
var allStored = []byte(`{"UnprocessedTraceSegments":[]}`)

func (h *httpSender) send(b *batch) (int, error) {
	// A server may close a kept-alive connection while it is idle (its
	// idle timeout, at a low -rate): the request is then written into a
	// closed connection and answered by nothing at all. Such a call, and
	// only one that got not a byte of answer on a connection that had
	// answered before, is made again on a new connection.
	reused := h.conn != nil
	status, body, answered, err := h.call(b)
	if err != nil && reused && !answered {
		status, body, _, err = h.call(b)
	}
	if status != http.StatusOK || err != nil {
		return 0, fmt.Errorf("PutTraceSegments: HTTP %d: %v %.200s", status, err, body)
	}
	if bytes.Equal(body, allStored) {
		return 0, nil
	}
	var out struct {
		UnprocessedTraceSegments []struct{ Id, ErrorCode, Message string }
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return 0, fmt.Errorf("PutTraceSegments: %v: %.200s", err, body)
	}
	if n := len(out.UnprocessedTraceSegments); n > 0 {
		u := out.UnprocessedTraceSegments[0]
		return n, fmt.Errorf("PutTraceSegments rejected %d documents, e.g. %s: %s", n, u.ErrorCode, u.Message)
	}
	return 0, nil
}

// call makes one call, dialling first if no connection is open; answered
// says whether any byte of an answer came.
func (h *httpSender) call(b *batch) (status int, body []byte, answered bool, err error) {
	if h.conn == nil {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			return 0, nil, false, err
		}
		raw, err := newRawConn(c)
		if err != nil {
			c.Close()
			return 0, nil, false, err
		}
		h.conn, h.raw, h.in = c, raw, &countingReader{r: raw}
		h.br = bufio.NewReader(h.in)
		h.req = &http.Request{Method: http.MethodPost}
	}
	// A generous guard against a server that stops answering, not a
	// measure of anything.
	if err := h.conn.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		h.close()
		return 0, nil, false, err
	}
	h.head = append(h.head[:0], "POST /TraceSegments HTTP/1.1\r\nHost: "...)
	h.head = append(h.head, h.addr...)
	h.head = append(h.head, "\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: "...)
	h.head = strconv.AppendInt(h.head, int64(len(b.body)), 10)
	h.head = append(h.head, "\r\n\r\n"...)
	read := h.in.n
	if err := h.raw.writeBoth(h.head, b.body); err != nil {
		h.close()
		return 0, nil, false, err
	}
	resp, err := http.ReadResponse(h.br, h.req)
	if err != nil {
		answered := h.in.n != read
		h.close()
		return 0, nil, answered, err
	}
	h.body, err = readAll(h.body[:0], resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		h.close() // the next call dials again
	}
	return resp.StatusCode, h.body, true, err
}

// readAll is io.ReadAll into b's array, kept from call to call.
func readAll(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

func (h *httpSender) close() {
	if h.conn != nil {
		h.conn.Close()
		h.conn = nil
	}
}
