package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strconv"
	"time"
)

// httpSender makes PutTraceSegments calls over a kept-alive connection of
// its own: the request written with one writev, the response read by
// readAnswer, both through raw system calls (rawConn). The harness
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
	body []byte // the last response's, reused
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
	status, closing, err := h.readAnswer()
	if err != nil {
		answered := h.in.n != read
		h.close()
		return 0, nil, answered, err
	}
	if closing {
		h.close() // the next call dials again
	}
	return status, h.body, true, nil
}

// readAnswer reads a response into h.body: the status line, the headers
// that decide how the body is framed (Content-Length, Transfer-Encoding,
// Connection), the body. http.ReadResponse, which builds a Response and a
// header map per call, took ~6% of the harness's CPU; a PutTraceSegments
// answer needs none of it. closing says whether the connection ends with
// this response.
func (h *httpSender) readAnswer() (status int, closing bool, err error) {
	line, err := h.br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// HTTP/1.x NNN reason
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || (len(line) > 12 && line[12] != ' ' && line[12] != '\r') {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, false, fmt.Errorf("malformed status line %q", line)
		}
		status = status*10 + int(c-'0')
	}
	closing = line[7] == '0' // HTTP/1.0 closes unless kept alive; this client never asks
	length, chunked := -1, false
	for {
		if line, err = h.br.ReadSlice('\n'); err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("malformed header line %q", line)
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			n, err := strconv.ParseUint(string(v), 10, 31)
			if err != nil {
				return 0, false, fmt.Errorf("bad Content-Length %q", v)
			}
			length = int(n)
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = !bytes.EqualFold(v, []byte("identity"))
		case bytes.EqualFold(k, []byte("Connection")):
			closing = bytes.EqualFold(v, []byte("close"))
		}
	}
	switch {
	case chunked:
		if h.body, err = readAll(h.body[:0], httputil.NewChunkedReader(h.br)); err != nil {
			return 0, false, err
		}
		// The trailer, if any, to its empty line.
		for {
			if line, err = h.br.ReadSlice('\n'); err != nil {
				return 0, false, err
			}
			if len(bytes.TrimRight(line, "\r\n")) == 0 {
				break
			}
		}
	case length >= 0:
		h.body = slices.Grow(h.body[:0], length)[:length]
		if _, err := io.ReadFull(h.br, h.body); err != nil {
			return 0, false, err
		}
	default: // to the end of the connection
		h.body, err = readAll(h.body[:0], h.br)
		closing = true
	}
	return status, closing, err
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
