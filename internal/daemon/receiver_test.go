package daemon

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// FuzzSplitDatagram: the shortcut for the SDKs' headers answers exactly as
// segment.SplitDatagram does, for any datagram.
func FuzzSplitDatagram(f *testing.F) {
	for _, s := range []string{
		"{\"format\":\"json\",\"version\":1}\n{\"id\":\"1\"}", "{\"format\": \"json\", \"version\": 1}\n{}",
		"{\"format\":\"json\",\"version\":1}\n \t", "{\"format\":\"json\",\"version\":1}\n", "{\"format\":\"JSON\",\"version\":1}\n{}",
		"{\"format\":\"json\",\"version\":2}\n{}", "{\"format\":\"json\",\"version\":1}{}", "no header",
		"{\"format\":\"json\",\"version\":1}\n" + strings.Repeat("x", segment.MaxDatagramSize),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		got, gerr := splitDatagram(p)
		want, werr := segment.SplitDatagram(p)
		if gerr != werr || !bytes.Equal(got, want) {
			t.Fatalf("splitDatagram(%q) = %q, %v; SplitDatagram: %q, %v", p, got, gerr, want, werr)
		}
	})
}

// coalesceWait: no wait for a trickle; otherwise long enough for
// coalesceTarget datagrams to gather, at most maxCoalesce, and short
// enough that a small receive buffer cannot fill meanwhile.
func TestCoalesceWait(t *testing.T) {
	const big = 64 << 20 // a forced 32 MB buffer, as the kernel reports it
	ms := time.Millisecond
	for _, c := range []struct {
		name    string
		arrived int64
		elapsed time.Duration
		granted int
		want    time.Duration
	}{
		{"nothing measured", 0, 10 * ms, big, 0},
		{"no time measured", 5, 0, big, 0},
		{"a trickle: under two datagrams in maxCoalesce", 1, 20 * ms, big, 0},
		{"2k/s: capped at maxCoalesce", 20, 10 * ms, big, maxCoalesce},
		{"10k/s: capped at maxCoalesce", 20, 2 * ms, big, maxCoalesce},
		{"40k/s: coalesceTarget", 40, ms, big, 5 * ms},
		{"100k/s: coalesceTarget", 100, ms, big, 2 * ms},
		{"10k/s into 416 kB: a quarter of ~104 datagrams", 20, 2 * ms, 416 << 10, 2600 * time.Microsecond},
		{"unknown buffer size: not capped", 40, ms, -1, 5 * ms},
	} {
		got := coalesceWait(c.arrived, c.elapsed, c.granted)
		if d := got - c.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%s: coalesceWait(%d, %s, %d) = %s, want %s", c.name, c.arrived, c.elapsed, c.granted, got, c.want)
		}
	}
}

// A batch is sealed BatchWait after its first document arrived (the
// receiver's since), not after it was read: time spent in the socket
// counts. It never waits longer than BatchWait, nor less than nothing.
func TestBatchSealedAfterArrival(t *testing.T) {
	const now = int64(100 * time.Second)
	var waits []time.Duration
	var timers []*time.Timer
	defer func() {
		for _, tm := range timers {
			tm.Stop()
		}
	}()
	var sealed []*batch
	bt := &batcher{wait: time.Second, held: new(atomic.Int64), submit: func(b *batch) { sealed = append(sealed, b) },
		clock: func() int64 { return now },
		afterFunc: func(d time.Duration, f func()) *time.Timer {
			waits = append(waits, d)
			tm := time.AfterFunc(time.Hour, f)
			timers = append(timers, tm)
			return tm
		}}
	for _, c := range []struct {
		name  string
		since time.Duration // before now
		want  time.Duration
	}{
		{"read at once", 0, time.Second},
		{"300 ms in the socket", 300 * time.Millisecond, 700 * time.Millisecond},
		{"older than BatchWait: sealed at once", 3 * time.Second, 0},
		{"a since after now (cannot happen): BatchWait", -time.Second, time.Second},
	} {
		bt.add([]byte(`{"id":"1"}`), now-int64(c.since))
		bt.add([]byte(`{"id":"2"}`), now) // a later document does not move the deadline
		if len(waits) != 1 || waits[0] != c.want {
			t.Errorf("%s: timers %v, want one of %s", c.name, waits, c.want)
		}
		bt.flush()
		waits = waits[:0]
	}
	if len(sealed) != 4 || sealed[0].len() != 2 {
		t.Errorf("%d batches sealed", len(sealed))
	}
}
