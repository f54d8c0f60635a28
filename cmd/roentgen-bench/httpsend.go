package main

import (
	"bufio"
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
// net/http's parser. The harness shares the server's cores, and
// http.Client's Transport (two goroutines per connection and a hand-off
// each way per call) cost it ~1 µs per segment more.
type httpSender struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
	head []byte
	req  *http.Request // for ReadResponse: the method decides whether a body follows
}

func (h *httpSender) send(b *batch) (int, error) {
	if h.conn == nil {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			return 0, err
		}
		h.conn, h.br = c, bufio.NewReader(c)
		h.req = &http.Request{Method: http.MethodPost}
	}
	// A generous guard against a server that stops answering, not a
	// measure of anything.
	if err := h.conn.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		return 0, err
	}
	h.head = append(h.head[:0], "POST /TraceSegments HTTP/1.1\r\nHost: "...)
	h.head = append(h.head, h.addr...)
	h.head = append(h.head, "\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: "...)
	h.head = strconv.AppendInt(h.head, int64(len(b.body)), 10)
	h.head = append(h.head, "\r\n\r\n"...)
	bufs := net.Buffers{h.head, b.body}
	if _, err := bufs.WriteTo(h.conn); err != nil {
		h.close()
		return 0, err
	}
	resp, err := http.ReadResponse(h.br, h.req)
	if err != nil {
		h.close()
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		h.close() // the next call dials again
	}
	var out struct {
		UnprocessedTraceSegments []struct{ Id, ErrorCode, Message string }
	}
	if resp.StatusCode != http.StatusOK || err != nil {
		return 0, fmt.Errorf("PutTraceSegments: HTTP %d: %v %.200s", resp.StatusCode, err, body)
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

func (h *httpSender) close() {
	if h.conn != nil {
		h.conn.Close()
		h.conn = nil
	}
}
