package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The sender's hand-written requests are what a server reads as
// PutTraceSegments calls; it dials again after a server closes the
// connection, and reports rejections and errors.
func TestHTTPSenderCalls(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ TraceSegmentDocuments []string }
		if r.Method != http.MethodPost || r.URL.Path != "/TraceSegments" || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
			http.Error(w, "bad call "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := calls.Add(1)
		if n%2 == 0 {
			w.Header().Set("Connection", "close") // the next call must dial again
		}
		switch req.TraceSegmentDocuments[0] {
		case `{"reject":true}`:
			w.Write([]byte(`{"UnprocessedTraceSegments":[{"Id":"a","ErrorCode":"InvalidSegment","Message":"no"}]}`))
		case `{"fail":true}`:
			http.Error(w, "broken", http.StatusInternalServerError)
		default:
			w.Write([]byte(`{"UnprocessedTraceSegments":[]}`))
		}
	}))
	defer srv.Close()
	s := &httpSender{addr: strings.TrimPrefix(srv.URL, "http://")}
	defer s.close()
	call := func(doc string) (int, error) {
		return s.send(&batch{body: appendRequest(nil, [][]byte{[]byte(doc)})})
	}
	for i := range 5 {
		if n, err := call(`{"id":"` + string(rune('a'+i)) + `"}`); n != 0 || err != nil {
			t.Fatalf("call %d: %d rejected, %v", i, n, err)
		}
	}
	if n, err := call(`{"reject":true}`); n != 1 || err == nil || !strings.Contains(err.Error(), "InvalidSegment") {
		t.Fatalf("rejection: %d, %v", n, err)
	}
	if _, err := call(`{"fail":true}`); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("failure: %v", err)
	}
	if n, err := call(`{"id":"z"}`); n != 0 || err != nil {
		t.Fatalf("after a failure: %d, %v", n, err)
	}
	if calls.Load() != 8 {
		t.Fatalf("server saw %d calls, want 8", calls.Load())
	}
}

// A server may close a kept-alive connection while it is idle (at a low
// -rate, its idle timeout passes between calls): the next call dials again
// instead of failing the run, and the server sees each call once.
func TestHTTPSenderRedialsAConnectionClosedWhileIdle(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Write([]byte(`{"UnprocessedTraceSegments":[]}`))
	}))
	defer srv.Close()
	s := &httpSender{addr: strings.TrimPrefix(srv.URL, "http://")}
	defer s.close()
	body := &batch{body: appendRequest(nil, [][]byte{[]byte(`{"id":"a"}`)})}
	for i := range 3 {
		if n, err := s.send(body); n != 0 || err != nil {
			t.Fatalf("call %d: %d rejected, %v", i, n, err)
		}
		// Closes the server's end of the idle connection and waits until
		// it is closed.
		srv.CloseClientConnections()
	}
	if calls.Load() != 3 {
		t.Fatalf("server saw %d calls, want 3", calls.Load())
	}
}

// A call whose answer is cut short is not made again: the server may have
// stored its documents.
func TestHTTPSenderDoesNotRepeatACallAnsweredInPart(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Write([]byte(`{"UnprocessedTraceSegments":[]}`))
			return
		}
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Le"))
		c.Close()
	}))
	defer srv.Close()
	s := &httpSender{addr: strings.TrimPrefix(srv.URL, "http://")}
	defer s.close()
	body := &batch{body: appendRequest(nil, [][]byte{[]byte(`{"id":"a"}`)})}
	if _, err := s.send(body); err != nil {
		t.Fatal(err)
	}
	if _, err := s.send(body); err == nil {
		t.Fatal("a call answered in part succeeded")
	}
	if calls.Load() != 2 {
		t.Fatalf("server saw %d calls, want 2", calls.Load())
	}
}

// readAnswer frames responses as net/http does: by Content-Length, by
// chunks (trailer included), or to the end of the connection, so that the
// next response on a kept-alive connection starts where it should; it
// reads the status and whether the connection closes, and refuses what is
// malformed or cut short.
func TestReadAnswerFramesAsNetHTTPDoes(t *testing.T) {
	next := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
	for _, c := range []struct {
		answer string
		kept   bool // another response follows on the connection
	}{
		{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n" + string(allStored), true},
		{"HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n", true},
		{"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", true},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", false},
		{"HTTP/1.0 200 OK\r\n\r\nto the end", false},
		{"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n", true},
	} {
		stream := c.answer
		if c.kept {
			stream += next
		}
		want, err := http.ReadResponse(bufio.NewReader(strings.NewReader(stream)), &http.Request{Method: http.MethodPost})
		if err != nil {
			t.Fatal(err)
		}
		wantBody, err := io.ReadAll(want.Body)
		if err != nil {
			t.Fatal(err)
		}
		h := &httpSender{br: bufio.NewReader(strings.NewReader(stream))}
		status, closing, err := h.readAnswer()
		if err != nil || status != want.StatusCode || closing != want.Close || string(h.body) != string(wantBody) {
			t.Fatalf("%q: %d %q closing %v, %v; want %d %q closing %v", c.answer, status, h.body, closing, err, want.StatusCode, wantBody, want.Close)
		}
		if c.kept {
			if status, _, err := h.readAnswer(); err != nil || status != 200 || string(h.body) != "{}" {
				t.Fatalf("%q: the next response read as %d %q, %v", c.answer, status, h.body, err)
			}
		}
	}
	for _, bad := range []string{
		"", "garbage\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Le", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
	} {
		h := &httpSender{br: bufio.NewReader(strings.NewReader(bad))}
		if status, _, err := h.readAnswer(); err == nil {
			t.Errorf("%q read as %d %q", bad, status, h.body)
		}
	}
}

// A rejection too long for net/http's server to frame by length arrives in
// chunks, and is read whole.
func TestHTTPSenderReadsAChunkedRejection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"UnprocessedTraceSegments":[`))
		for i := range 100 {
			if i > 0 {
				w.Write([]byte(","))
			}
			w.Write([]byte(`{"Id":"a","ErrorCode":"InvalidSegment","Message":"` + strings.Repeat("x", 50) + `"}`))
		}
		w.Write([]byte(`]}`))
	}))
	defer srv.Close()
	s := &httpSender{addr: strings.TrimPrefix(srv.URL, "http://")}
	defer s.close()
	for range 2 {
		if n, err := s.send(&batch{body: appendRequest(nil, [][]byte{[]byte(`{}`)})}); n != 100 || err == nil {
			t.Fatalf("%d rejected, %v", n, err)
		}
	}
}
