package main

import (
	"slices"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/bench"
)

// batch is one call's documents, made by the producer while the senders
// send earlier ones.
type batch struct {
	docs [][]byte // for UDP, one datagram each (over HTTP, nil: the body has them)
	body []byte   // for HTTP, the PutTraceSegments request
	n    int      // documents
	raw  int      // bytes of the documents' JSON
}

// producer makes a run's batches as they are sent, a few per sender ahead:
// batches cycle between the senders and ready, so the harness holds a fixed
// number of them (their bodies reused) whatever the length of the run,
// instead of generating it all before the clock. A sender that has sent a
// batch makes the next one into it (refill) before taking another: no
// goroutine of the producer's own to hand batches to and wake, which cost
// the harness a futex wake and a context switch per batch on the server's
// cores.
type producer struct {
	ready chan *batch // closed after the last batch; never full
	s     *bench.BatchStream
	http  bool

	mu      sync.Mutex
	pending []*batch // sent, to be made anew
	busy    bool     // a sender is making batches
	stopped bool     // the stream has ended (ready is closed), or close was called
}

// startProducer makes s's batches into ahead reusable batches; http says
// whether to write request bodies (else only the documents are kept): from
// documents the generator wrote escaped (bench.Generator.Escaped), the
// cheaper way, or escaping them here. The first ahead batches are made
// before it returns.
func startProducer(s *bench.BatchStream, http bool, ahead int) *producer {
	p := &producer{ready: make(chan *batch, ahead), s: s, http: http}
	// Over HTTP a batch's documents are copied into its body at once: the
	// stream may write new ones over them.
	s.Reuse = http
	for range ahead {
		p.pending = append(p.pending, &batch{})
	}
	p.refill(nil)
	return p
}

// refill makes the next batch into b, a batch taken from ready and sent,
// and puts it in ready; nil only makes those waiting. A sender that finds
// another one making batches leaves b to it: the stream is made by one at a
// time, in order.
func (p *producer) refill(b *batch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b != nil {
		p.pending = append(p.pending, b)
	}
	if p.busy {
		return
	}
	p.busy = true
	for len(p.pending) > 0 && !p.stopped {
		b := p.pending[len(p.pending)-1]
		p.pending = p.pending[:len(p.pending)-1]
		p.mu.Unlock()
		made := p.make(b)
		p.mu.Lock()
		if !made {
			p.stopped = true
			close(p.ready)
			break
		}
		p.ready <- b // there is room: ready holds at most the batches there are
	}
	p.busy = false
}

// make makes the stream's next batch into b; false when it has ended.
func (p *producer) make(b *batch) bool {
	docs := p.s.Next()
	if docs == nil {
		return false
	}
	b.docs, b.n, b.raw = docs, len(docs), 0
	if p.http && p.s.Escaped() {
		// The generator wrote the documents escaped: they go between
		// quotes as they are.
		b.body = appendEscapedRequest(b.body[:0], docs)
		for _, d := range docs {
			b.raw += bench.RawLen(d)
		}
	} else {
		for _, d := range docs {
			b.raw += len(d)
		}
		if p.http {
			b.body = appendRequest(b.body[:0], docs)
		}
	}
	if p.http {
		b.docs = nil // written over by the next ones
	}
	return true
}

// close stops the producer, whether or not it has made every batch: sent
// batches are no longer made anew (a batch being made is finished and put
// in ready). Calls after the first do nothing.
func (p *producer) close() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
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

// appendEscapedRequest appends a PutTraceSegments request body for docs
// already escaped as JSON strings' contents (bench.Generator.Escaped): a
// copy, where escaping them here took ~35% of the harness's CPU.
func appendEscapedRequest(b []byte, docs [][]byte) []byte {
	b = append(b, `{"TraceSegmentDocuments":[`...)
	for i, d := range docs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, d...)
		b = append(b, '"')
	}
	return append(b, `]}`...)
}

// appendJSONString appends s as a JSON string. The documents are ASCII or
// valid UTF-8, which JSON carries as it is: only quotes, backslashes and
// control characters are escaped. Writing by index into room made once
// costs ~1 µs per 1 kB document; json.Marshal took ~3.5 µs and an
// allocation, and appending between the (frequent) quotes ~2.
func appendJSONString(b, s []byte) []byte {
	n := len(b)
	b = slices.Grow(b, 6*len(s)+2) // every byte a \u00XX at worst
	d := b[n : n+6*len(s)+2]
	d[0] = '"'
	j := 1
	for _, c := range s {
		if escape[c] {
			d[j] = '\\'
			j++
			if c < 0x20 {
				const hex = "0123456789abcdef"
				d[j], d[j+1], d[j+2], d[j+3] = 'u', '0', '0', hex[c>>4]
				j += 4
				c = hex[c&0xf]
			}
		}
		d[j] = c
		j++
	}
	d[j] = '"'
	return b[:n+j+1]
}

// escape marks the bytes a JSON string cannot hold as they are.
var escape = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()
