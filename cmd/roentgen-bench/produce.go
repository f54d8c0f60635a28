package main

import (
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// batch is one call's documents, made by the producer while the senders
// send earlier ones.
type batch struct {
	docs [][]byte // for UDP, one datagram each
	body []byte   // for HTTP, the PutTraceSegments request: documents escaped once, here
	raw  int      // bytes of the documents' JSON
}

// producer makes a run's batches as they are sent, a few per sender ahead:
// batches cycle between it and the senders through free and ready, so the
// harness holds a fixed number of them (their bodies reused) whatever the
// length of the run, instead of generating it all before the clock.
type producer struct {
	ready <-chan *batch // closed after the last batch
	free  chan<- *batch // senders return sent batches here
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

// startProducer makes s's batches into ahead reusable batches; http says
// whether to write request bodies (else only the documents are kept).
func startProducer(s *bench.BatchStream, http bool, ahead int) *producer {
	ready, free := make(chan *batch, ahead), make(chan *batch, ahead)
	for range ahead {
		free <- &batch{}
	}
	p := &producer{ready: ready, free: free, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer close(ready)
		for docs := s.Next(); docs != nil; docs = s.Next() {
			var b *batch
			select {
			case b = <-free:
			case <-p.stop:
				return
			}
			b.docs, b.raw = docs, 0
			for _, d := range docs {
				b.raw += len(d)
			}
			if http {
				b.body = appendRequest(b.body[:0], docs)
			}
			select {
			case ready <- b:
			case <-p.stop:
				return
			}
		}
	}()
	return p
}

// close stops the producer, whether or not it has made every batch, and
// waits for it to end. Calls after the first do nothing.
func (p *producer) close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

// appendRequest appends a PutTraceSegments request body for docs.
func appendRequest(b []byte, docs [][]byte) []byte {
	b = append(b, `{"TraceSegmentDocuments":[`...)
	for i, d := range docs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, d)
	}
	return append(b, `]}`...)
}

// appendJSONString appends s as a JSON string. The documents are ASCII or
// valid UTF-8, which JSON carries as it is: only quotes, backslashes and
// control characters need escaping, and runs without them are copied
// whole (json.Marshal of a string costs a copy, HTML escaping and an
// allocation per document).
func appendJSONString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
