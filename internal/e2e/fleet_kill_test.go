package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// startFleetServer runs the real binary as `roentgen server` on a shared
// ClickHouse database and returns it once its API listens.
func startFleetServer(t *testing.T, bin, db string) *process {
	t.Helper()
	cmd := exec.Command(bin, "server", "--store", db, "--http", "127.0.0.1:0", "--otlp-grpc", "", "--otlp-http", "",
		"--log-format", "json")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, addrs: map[string]string{}, logs: make(chan map[string]any, 1000)}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				select {
				case p.logs <- line:
				default: // nobody reads the log once the server is up
				}
			}
		}
		close(p.logs)
	}()
	deadline := time.After(60 * time.Second)
	for p.addrs["http"] == "" {
		select {
		case l, ok := <-p.logs:
			if !ok {
				t.Fatal("roentgen server exited during start-up")
			}
			if l["msg"] == "listening" {
				p.addrs[fmt.Sprint(l["what"])] = fmt.Sprint(l["addr"])
			}
		case <-deadline:
			t.Fatalf("roentgen server did not report its listeners: %v", p.addrs)
		}
	}
	return p
}

// TestBinaryFleetSIGKILLLosesNothingAcknowledged runs two `roentgen server`
// processes on one ClickHouse database under load from four writers, each
// trace's segments split between them, kills one with SIGKILL mid-load,
// and checks that the other keeps serving (writes and reads) and that
// every segment either acknowledged is read back through the survivor, and
// every trace found by a search there (the survivor summarises the traces
// the dead one left pending).
func TestBinaryFleetSIGKILLLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	db := clickhousetest.NewDatabase(t)
	bin := buildBinary(t)
	victim, survivor := startFleetServer(t, bin, db), startFleetServer(t, bin, db)
	ctx := context.Background()
	// No retries: a request the SDK retried against the dead process must
	// not count as acknowledged by the survivor.
	noRetry := func(o *xray.Options) { o.RetryMaxAttempts = 1 }
	cv := xraytest.Client(t, "http://"+victim.addrs["http"], noRetry)
	cs := xraytest.Client(t, "http://"+survivor.addrs["http"], noRetry)

	var mu sync.Mutex
	acked := map[string][]string{} // trace → segment ids acknowledged
	afterKill := 0                 // segments the survivor acknowledged after the kill
	killed := make(chan struct{})
	stop := make(chan struct{})
	put := func(c *xray.Client, docs, traces, segs []string, kill bool) bool {
		out, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
		if err != nil {
			return false
		}
		bad := map[string]bool{}
		for _, u := range out.UnprocessedTraceSegments {
			bad[aws.ToString(u.Id)] = true
		}
		mu.Lock()
		defer mu.Unlock()
		for i, s := range segs {
			if !bad[s] {
				acked[traces[i]] = append(acked[traces[i]], s)
				if kill {
					afterKill++
				}
			}
		}
		return true
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			victimUp := true
			for batch := 0; ; batch++ {
				select {
				case <-stop:
					return
				default:
				}
				var docsA, docsB, segsA, segsB, ids []string
				for i := range 10 {
					id := newTraceID(1_000_000 + w*100_000 + batch*10 + i)
					ids = append(ids, id)
					a, b := fmt.Sprintf("%016x", 2*(w*100_000+batch*10+i)+1), fmt.Sprintf("%016x", 2*(w*100_000+batch*10+i)+2)
					docsA, segsA = append(docsA, segDoc(id, a, "fleet-a")), append(segsA, a)
					docsB, segsB = append(docsB, segDoc(id, b, "fleet-b")), append(segsB, b)
				}
				select {
				case <-killed:
					victimUp = false
				default:
				}
				if victimUp && !put(cv, docsA, ids, segsA, false) {
					victimUp = false
				}
				if !victimUp {
					// The survivor takes the victim's share too.
					if !put(cs, docsA, ids, segsA, true) {
						t.Error("the survivor refused a write after the kill")
						return
					}
				}
				wasKilled := !victimUp
				if !put(cs, docsB, ids, segsB, wasKilled) {
					t.Error("the survivor refused a write")
					return
				}
			}
		}()
	}
	count := func() (n, after int) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range acked {
			n += len(s)
		}
		return n, afterKill
	}
	deadline := time.Now().Add(3 * time.Minute) // a guard only
	for n, _ := count(); n < 400 && time.Now().Before(deadline); n, _ = count() {
		time.Sleep(10 * time.Millisecond)
	}
	if err := victim.cmd.Process.Kill(); err != nil { // SIGKILL, under load
		t.Fatal(err)
	}
	victim.cmd.Wait()
	close(killed)
	for _, after := count(); after < 200 && time.Now().Before(deadline); _, after = count() {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	n, after := count()
	t.Logf("%d segments of %d traces acknowledged, %d by the survivor after the kill", n, len(acked), after)

	// Every acknowledged segment, read back through the survivor.
	var ids []string
	for id := range acked {
		ids = append(ids, id)
	}
	// A trace the victim was summarising comes back unprocessed until the
	// survivor adopts it (20 s after the kill): ask again for those, as a
	// client is told to.
	got := map[string]bool{}
	pending := ids
	for readBy := time.Now().Add(3 * time.Minute); len(pending) > 0 && time.Now().Before(readBy); {
		var unprocessed []string
		for lo := 0; lo < len(pending); lo += 5 {
			out, err := cs.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: pending[lo:min(lo+5, len(pending))]})
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range out.Traces {
				for _, s := range tr.Segments {
					got[aws.ToString(tr.Id)+"/"+aws.ToString(s.Id)] = true
				}
			}
			unprocessed = append(unprocessed, out.UnprocessedTraceIds...)
		}
		if pending = unprocessed; len(pending) > 0 {
			time.Sleep(time.Second)
		}
	}
	for _, id := range ids {
		for _, s := range acked[id] {
			if !got[id+"/"+s] {
				t.Fatalf("segment %s of trace %s was acknowledged and is not read back through the survivor", s, id)
			}
		}
	}
	// And every trace found by a search: the survivor summarises what the
	// victim left pending once it is orphaned (20 s), so it is polled for.
	search := func() map[string]bool {
		found := map[string]bool{}
		in := &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-10 * time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute))}
		for pages := xray.NewGetTraceSummariesPaginator(cs, in); pages.HasMorePages(); {
			page, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.TraceSummaries {
				found[*s.Id] = true
			}
		}
		return found
	}
	var missing []string
	for searchBy := time.Now().Add(3 * time.Minute); ; time.Sleep(time.Second) {
		found := search()
		missing = missing[:0]
		for _, id := range ids {
			if !found[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || time.Now().After(searchBy) {
			break
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged traces are not found by a search on the survivor, e.g. %s", len(missing), len(ids), missing[0])
	}
}
