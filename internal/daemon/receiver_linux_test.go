package daemon

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// testReceiver is a receiver on a real loopback socket that records the
// documents it hands on and the since each came with.
type testReceiver struct {
	*receiver
	addr   string
	mu     sync.Mutex
	docs   map[string]int64 // document -> since
	copies int
}

func newTestReceiver(t *testing.T) *testReceiver {
	t.Helper()
	conn, granted, err := listenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &testReceiver{addr: conn.LocalAddr().String(), docs: map[string]int64{}}
	tr.receiver = &receiver{granted: granted, m: newMetrics(func() spooler { return nil }, func() int64 { return 0 }), tel: &telemetry{},
		add: func(doc []byte, since int64) {
			tr.mu.Lock()
			defer tr.mu.Unlock()
			if _, ok := tr.docs[string(doc)]; ok {
				tr.copies++
			}
			tr.docs[string(doc)] = since
		}}
	if err := tr.open(conn); err != nil {
		t.Fatal(err)
	}
	return tr
}

// send sends datagrams first, first+1, ... first+n-1: on loopback, each
// is in the socket when its write returns.
func (tr *testReceiver) send(t *testing.T, first, n int) {
	t.Helper()
	c, err := net.Dial("udp", tr.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := first; i < first+n; i++ {
		if _, err := fmt.Fprintf(c, "%s{\"id\":\"%016x\"}", header, i); err != nil {
			t.Fatal(err)
		}
	}
}

// sinceOf is the since document i came with; ok is false if it has not come.
func (tr *testReceiver) sinceOf(i int) (since int64, ok bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	since, ok = tr.docs[fmt.Sprintf("{\"id\":\"%016x\"}", i)]
	return
}

func (tr *testReceiver) count() (docs, copies int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.docs), tr.copies
}

// The leader is in its wait between reads when the daemon stops: what
// arrived meanwhile is still read, every datagram once; and what arrived
// during the wait comes with a since from before it, so the wait does
// not add to the time its batch is held.
func TestPacedLeaderDrainsOnStop(t *testing.T) {
	tr := newTestReceiver(t)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	tr.sleep = func(time.Duration) {
		entered <- struct{}{}
		<-release
	}
	tr.start()

	tr.send(t, 0, 10)
	<-entered // the leader read some or all of them, and waits
	waiting := mono()
	tr.send(t, 10, 20) // in the socket while the leader waits
	stopped := make(chan struct{})
	go func() { defer close(stopped); tr.stop(time.Now().Add(time.Minute)) }()
	waitFor(t, "stop to begin", time.Minute, tr.stopping.Load)
	close(release)
	<-stopped

	if docs, copies := tr.count(); docs != 30 || copies != 0 {
		t.Fatalf("%d of 30 documents handed on (%d twice)", docs, copies)
	}
	for i := 10; i < 30; i++ {
		if since, _ := tr.sinceOf(i); since > waiting {
			t.Errorf("document %d, sent during the wait: since %s is after the wait began (%s)", i, time.Duration(since), time.Duration(waiting))
		}
	}
	if got := tr.total.Load(); got != 30 {
		t.Errorf("total = %d, want 30", got)
	}
}

// A datagram that wakes the leader from an idle spell comes with a since
// from when it arrived, not from the read before the spell: its batch
// still gathers what follows it for BatchWait.
func TestDatagramAfterIdleSpell(t *testing.T) {
	tr := newTestReceiver(t)
	blocked := make(chan struct{}, 1)
	tr.idle = func() {
		select {
		case blocked <- struct{}{}:
		default:
		}
	}
	tr.start()
	defer tr.stop(time.Now().Add(time.Minute))
	<-blocked // the socket was empty; the leader waits in poll
	before := mono()
	tr.send(t, 0, 1)
	waitFor(t, "the datagram", time.Minute, func() bool { _, ok := tr.sinceOf(0); return ok })
	if since, _ := tr.sinceOf(0); since < before {
		t.Errorf("since %s is before the datagram was sent (%s): the idle spell would count as time in the batch", time.Duration(since), time.Duration(before))
	}
}

// More in the socket than a wait should gather is a backlog: it is
// counted (the GOMAXPROCS governor reads it), a follower reads alongside
// the leader, and every datagram is handed on once.
func TestBacklogIsReadWhole(t *testing.T) {
	const n = 1000
	tr := newTestReceiver(t)
	// ~700 bytes of kernel memory per small datagram on loopback.
	if tr.granted < n*2048 {
		t.Skipf("the kernel granted a %d-byte receive buffer: too small to queue a backlog of %d", tr.granted, n)
	}
	tr.send(t, 0, n) // before any reader runs
	tr.start()
	waitFor(t, "the backlog to be read", time.Minute, func() bool { docs, _ := tr.count(); return docs == n })
	tr.stop(time.Now().Add(time.Minute))
	if docs, copies := tr.count(); docs != n || copies != 0 {
		t.Fatalf("%d of %d documents handed on (%d twice)", docs, n, copies)
	}
	if tr.full.Load() == 0 {
		t.Errorf("a backlog of %d datagrams was not counted as one (%d reads)", n, tr.reads.Load())
	}
}

// With more than one P, a follower reads on its own: when the leader's
// thread does not run (a host loaded by other processes), the socket is
// read all the same.
func TestFollowerReadsWhileLeaderStalls(t *testing.T) {
	tr := newTestReceiver(t)
	tr.parallel.Store(true)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	tr.sleep = func(time.Duration) {
		select {
		case entered <- struct{}{}:
			<-release // the first wait stalls
		default:
		}
	}
	tr.start()
	tr.send(t, 0, 5)
	<-entered
	tr.send(t, 5, 20)
	waitFor(t, "the follower to read", time.Minute, func() bool { docs, _ := tr.count(); return docs == 25 })
	close(release)
	tr.stop(time.Now().Add(time.Minute))
	if docs, copies := tr.count(); docs != 25 || copies != 0 {
		t.Fatalf("%d of 25 documents handed on (%d twice)", docs, copies)
	}
}
