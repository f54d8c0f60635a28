package main

import (
	"encoding/json"
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
