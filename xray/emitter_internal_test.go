package xray

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

func testSegment(t *testing.T, i int) *Segment {
	ss, err := NewDefaultStreamingStrategy()
	if err != nil {
		t.Fatal(err)
	}
	s := &Segment{Name: "group", ID: fmt.Sprintf("%016x", i+1), TraceID: "1-5759e988-bd862e3fe1be46a994272793",
		StartTime: 1, EndTime: 2, Sampled: true, Configuration: &Config{StreamingStrategy: ss}}
	s.ParentSegment = s
	return s
}

// Goroutines that close segments while another one is writing queue their
// datagrams and return; the writer sends them in one sendmmsg before its own
// Close returns. Past a full batch they write their own. The writer is held
// in its write by a hook, so the interleaving is fixed.
func TestGroupCommit(t *testing.T) {
	r, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_ = r.SetReadBuffer(4 << 20)
	e, _ := NewDefaultEmitter(r.LocalAddr().(*net.UDPAddr))
	entered, release := make(chan struct{}), make(chan struct{})
	var first sync.Once
	e.beforeWrite = func() { first.Do(func() { close(entered); <-release }) }

	senderDone := make(chan struct{})
	go func() { e.Emit(testSegment(t, 0)); close(senderDone) }()
	<-entered
	const own = 3 // written by their goroutines: the queue is full
	for i := 1; i <= batchLen+own; i++ {
		e.Emit(testSegment(t, i))
	}
	e.mu.Lock()
	queued := len(e.queue)
	e.mu.Unlock()
	if queued != batchLen || e.Written() != own {
		t.Fatalf("while the sender writes: %d queued, %d written; want %d, %d", queued, e.Written(), batchLen, own)
	}
	flushed := make(chan int64)
	go func() { _ = e.Flush(t.Context()); flushed <- e.Written() }()
	close(release)
	<-senderDone
	const total = 1 + batchLen + own
	if n := e.Written(); n != total {
		t.Errorf("the sender returned with %d of %d datagrams written", n, total)
	}
	if n := <-flushed; n != total {
		t.Errorf("Flush returned with %d of %d datagrams written", n, total)
	}
	if n := e.batches.Load(); n != 1 {
		t.Errorf("%d sendmmsg calls, want 1", n)
	}

	seen := map[string]bool{}
	buf := make([]byte, 1<<16)
	_ = r.SetReadDeadline(time.Now().Add(time.Minute)) // a guard only: all are sent already
	for len(seen) < total {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatalf("after %d datagrams: %v", len(seen), err)
		}
		doc := string(buf[len(Header):n])
		var id string
		if _, err := fmt.Sscanf(doc[len(`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"`):], "%16s", &id); err != nil {
			t.Fatalf("%v: %s", err, doc)
		}
		seen[id] = true
	}
	for i := 0; i < total; i++ {
		if id := fmt.Sprintf("%016x", i+1); !seen[id] {
			t.Errorf("segment %s not received", id)
		}
	}
}

// The context Begin* return (allocated inside the segment) behaves as
// context.WithValue(parent, ContextKey, seg): the segment, the parent's
// values, deadline and cancellation.
func TestSegmentContextIsAValueContext(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	ctx, seg := BeginSubsegment(withSegment(parent, testSegment(t, 0)), "child")
	if GetSegment(ctx) != seg || ctx.Value(key{}) != "v" || seg.parent == nil {
		t.Fatalf("segment %p (want %p), value %v", GetSegment(ctx), seg, ctx.Value(key{}))
	}
	cancel()
	<-ctx.Done()
	if ctx.Err() != context.Canceled || context.Cause(ctx) != context.Canceled {
		t.Errorf("err %v, cause %v", ctx.Err(), context.Cause(ctx))
	}
	inner, innerCancel := context.WithCancel(ctx)
	defer innerCancel()
	if GetSegment(inner) != seg || inner.Err() != context.Canceled {
		t.Errorf("a context derived from it lost the segment or the cancellation")
	}
}

// Many goroutines closing at once, in whatever interleaving the scheduler
// gives: every datagram is written exactly once by the time Flush returns,
// nothing is left queued and no goroutine holds the sender role.
func TestGroupCommitUnderConcurrency(t *testing.T) {
	r, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e, _ := NewDefaultEmitter(r.LocalAddr().(*net.UDPAddr))
	const goroutines, each = 8, 250
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < each; i++ {
				e.Emit(testSegment(t, g*each+i))
			}
		}()
	}
	close(start)
	wg.Wait()
	if err := e.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if n := e.Written(); n != goroutines*each || len(e.queue) != 0 || e.sending {
		t.Errorf("%d of %d written, %d queued, sending %v", n, goroutines*each, len(e.queue), e.sending)
	}
}

// A sender writes at most maxDrain datagrams for others: once it has, the
// goroutines that close next write their own, and the sender returns when
// what it accepted is written. Hooks hold the sender between batches.
func TestGroupCommitBoundsTheSendersWork(t *testing.T) {
	r, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e, _ := NewDefaultEmitter(r.LocalAddr().(*net.UDPAddr))
	entered, release := make(chan struct{}), make(chan struct{})
	atBatch, proceed := make(chan struct{}), make(chan struct{})
	var first sync.Once
	e.beforeWrite = func() { first.Do(func() { close(entered); <-release }) }
	e.afterBatch = func() { atBatch <- struct{}{}; <-proceed }

	senderDone := make(chan struct{})
	go func() { e.Emit(testSegment(t, 0)); close(senderDone) }()
	<-entered
	n := 1
	emit := func(k int) {
		for i := 0; i < k; i++ {
			e.Emit(testSegment(t, n))
			n++
		}
	}
	emit(batchLen)
	close(release)
	for round := 1; round*batchLen < maxDrain; round++ {
		<-atBatch // the sender has written round batches for others
		emit(batchLen)
		e.mu.Lock()
		queued := len(e.queue)
		e.mu.Unlock()
		if queued != batchLen {
			t.Fatalf("round %d: %d queued, want %d", round, queued, batchLen)
		}
		proceed <- struct{}{}
	}
	<-atBatch // maxDrain written for others: the sender takes no more
	before := e.Written()
	emit(1)
	e.mu.Lock()
	queued := len(e.queue)
	e.mu.Unlock()
	if queued != 0 || e.Written() != before+1 {
		t.Errorf("past maxDrain: %d queued, %d written by the closing goroutine", queued, e.Written()-before)
	}
	proceed <- struct{}{}
	<-senderDone
	if w := e.Written(); w != int64(n) {
		t.Errorf("%d of %d written", w, n)
	}
}
