package main

// The soak (-soak 1h): a long run at a multiple of the sustainable ingest
// rate, where the server must shed what it cannot take with
// ThrottledException, hold its memory, and lose nothing it acknowledged.
//
//	go build -o bin/roentgen ./cmd/roentgen
//	go run ./cmd/roentgen-bench -exec bin/roentgen -soak 1h -rate-factor 1.5
//
// It finds the sustainable rate first (-calibrate: as fast as -concurrency
// senders get answers, which never overloads the server), unless -rate
// gives it; then offers -rate-factor times that from -soak-senders paced
// senders, half of them multi-segment traces and half single-segment ones,
// timed now. Every acknowledged document's trace and segment id goes to an
// append-only log on disk (24 bytes each, not RAM); a call answered
// ThrottledException is shed, counted, not retried (the client's choice).
// The server's VmRSS and VmHWM are sampled to a CSV every -sample. At the
// end the server is stopped and the store is opened in this process to
// check that every acknowledged document is stored with its trace's
// summary.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// soakCounts are the documents of a phase, by how the server answered.
type soakCounts struct {
	offered, acked, throttled, rejected, failed atomic.Int64
	clientShed                                  atomic.Int64 // batches no idle sender took
	timedOut                                    atomic.Int64 // of failed: no answer within the client's timeout
}

// ackRecord is one acknowledged document: its trace id's 16 bytes
// (epoch and random part) and its segment id's 8.
const ackRecord = 24

func runSoak(c config, out io.Writer) error {
	if c.execPath == "" {
		return errors.New("-soak needs -exec: the server's memory must be its own")
	}
	if c.soakDir == "" {
		c.soakDir = filepath.Join(os.TempDir(), "soak-"+time.Now().UTC().Format("20060102-150405"))
	}
	if err := os.MkdirAll(c.soakDir, 0o755); err != nil {
		return err
	}
	if c.dataDir == "" {
		c.dataDir = filepath.Join(c.soakDir, "data")
	}
	if !c.keep {
		defer os.RemoveAll(c.dataDir)
	}
	acks, err := os.Create(filepath.Join(c.soakDir, "acked.bin"))
	if err != nil {
		return err
	}
	defer acks.Close()
	ackLog := &ackLog{w: bufio.NewWriterSize(acks, 1<<20)}
	csv, err := os.Create(filepath.Join(c.soakDir, "rss.csv"))
	if err != nil {
		return err
	}
	defer csv.Close()
	fmt.Fprintf(out, "soak output in %s (rss.csv, acked.bin)\n", c.soakDir)

	srv, err := startServer(c)
	if err != nil {
		return err
	}
	defer srv.stop()
	idle := srv.rss()
	fmt.Fprintf(out, "server idle on an empty store: VmRSS %d MiB\n", idle>>20)

	// Sampling runs through both phases.
	var phase atomic.Value
	phase.Store("calibrate")
	counts := map[string]*soakCounts{"calibrate": {}, "soak": {}, "idle": {}}
	start := time.Now()
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	fmt.Fprintln(csv, "unix,elapsed_s,phase,vmrss_kib,vmhwm_kib,cpu_s,offered,acked,throttled,rejected,failed,client_shed")
	go func() {
		defer close(sampled)
		t := time.NewTicker(c.sample)
		defer t.Stop()
		for {
			p := phase.Load().(string)
			n := counts[p]
			rss, hwm := srv.memory()
			fmt.Fprintf(csv, "%d,%.0f,%s,%d,%d,%.1f,%d,%d,%d,%d,%d,%d\n", time.Now().Unix(), time.Since(start).Seconds(), p, rss>>10, hwm>>10,
				srv.cpu().Seconds(), n.offered.Load(), n.acked.Load(), n.throttled.Load(), n.rejected.Load(), n.failed.Load(), n.clientShed.Load())
			select {
			case <-stopSampling:
				return
			case <-t.C:
			}
		}
	}()

	rate := float64(c.rate)
	if rate <= 0 {
		n := counts["calibrate"]
		t0 := time.Now()
		if err := soakPhase(c, srv, ackLog, n, c.concurrency, 0, c.calibrate, 1); err != nil {
			return err
		}
		rate = float64(n.acked.Load()) / time.Since(t0).Seconds()
		if rate < 1 {
			return fmt.Errorf("calibration: nothing acknowledged in %s (%d failed)", c.calibrate, n.failed.Load())
		}
		fmt.Fprintf(out, "calibration     %s, %d senders unpaced: %.0f segments/s acknowledged, %d throttled\n",
			c.calibrate, c.concurrency, rate, n.throttled.Load())
	}
	target := int(rate * c.rateFactor)
	fmt.Fprintf(out, "soak            %s at %d segments/s offered (%.2f x %.0f) from %d senders\n", c.soak, target, c.rateFactor, rate, c.soakSenders)
	phase.Store("soak")
	n := counts["soak"]
	t0 := time.Now()
	if err := soakPhase(c, srv, ackLog, n, c.soakSenders, target, c.soak, 1000); err != nil {
		return err
	}
	elapsed := time.Since(t0)
	rss, hwm := srv.memory()
	if c.idle > 0 {
		// What the server keeps once traffic stops: Go returns freed heap
		// to the OS over minutes, Pebble keeps its cache and memtables.
		phase.Store("idle")
		time.Sleep(c.idle)
	}
	close(stopSampling)
	<-sampled
	idleAfter := srv.rss()
	if err := ackLog.close(); err != nil {
		return err
	}
	if err := srv.stop(); err != nil {
		return fmt.Errorf("server stop: %w", err)
	}
	fmt.Fprintf(out, "soak offered    %d segments (%.0f/s) to the server\n", n.offered.Load(), float64(n.offered.Load())/elapsed.Seconds())
	fmt.Fprintf(out, "acknowledged    %d (%.0f/s)\n", n.acked.Load(), float64(n.acked.Load())/elapsed.Seconds())
	fmt.Fprintf(out, "throttled       %d (ThrottledException, shed)\n", n.throttled.Load())
	fmt.Fprintf(out, "rejected        %d (other UnprocessedTraceSegments)\n", n.rejected.Load())
	fmt.Fprintf(out, "failed          %d (transport errors or other statuses; %d of them no answer within the client's 2 minutes)\n", n.failed.Load(), n.timedOut.Load())
	fmt.Fprintf(out, "client shed     %d (no idle sender of %d: not offered)\n", n.clientShed.Load(), c.soakSenders)
	fmt.Fprintf(out, "rss             peak %d MiB (VmHWM), %d MiB at the end of sending; samples in rss.csv\n", hwm>>20, rss>>20)
	if c.idle > 0 {
		fmt.Fprintf(out, "rss idle        %d MiB after %s without traffic\n", idleAfter>>20, c.idle)
	}

	fmt.Fprintf(out, "verifying %d acknowledged documents in the stopped server's store...\n", ackLog.n)
	lost, traces, err := verifyAcked(filepath.Join(c.soakDir, "acked.bin"), c.dataDir, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verified        %d documents of %d traces: %d lost\n", ackLog.n, traces, lost)
	if lost > 0 {
		return fmt.Errorf("%d acknowledged documents are not in the store", lost)
	}
	return nil
}

// soakPhase sends for d. Unpaced (rate 0), senders goroutines send as
// fast as they are answered, which never overloads the server. Paced, two
// producers (one of multi-segment traces, one of single-segment ones) make
// batches at rate segments/s between them and hand each to an idle sender
// of senders: the offered load holds whatever the server's latency, as a
// fleet of clients' does, and a batch that finds no idle sender is shed by
// the client (counted as failed, never offered to the server).
func soakPhase(c config, srv *server, acks *ackLog, n *soakCounts, senders, rate int, d time.Duration, seedBase uint64) error {
	deadline := time.Now().Add(d)
	transport := &http.Transport{MaxIdleConnsPerHost: senders}
	defer transport.CloseIdleConnections()
	client := &http.Client{Timeout: 2 * time.Minute, Transport: transport}
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	fail := func(err error) { once.Do(func() { firstErr = err }) }
	if rate <= 0 {
		for i := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := newBatcher(c, seedBase+uint64(i), i%2)
				s := &soakSender{url: "http://" + srv.httpAddr + "/TraceSegments", client: client}
				for time.Now().Before(deadline) && firstErr == nil {
					docs := b.next()
					n.offered.Add(int64(len(docs)))
					if err := s.send(docs, n, acks); err != nil {
						fail(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return firstErr
	}
	work := make(chan [][]byte)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &soakSender{url: "http://" + srv.httpAddr + "/TraceSegments", client: client}
			for docs := range work {
				n.offered.Add(int64(len(docs)))
				if err := s.send(docs, n, acks); err != nil {
					fail(err)
				}
			}
		}()
	}
	var producers sync.WaitGroup
	for shape := range 2 {
		producers.Add(1)
		go func() {
			defer producers.Done()
			b := newBatcher(c, seedBase+uint64(shape), shape)
			pace := newPacer(max(1, rate/2))
			for {
				docs := b.next()
				if !pace.waitUntil(len(docs), deadline) {
					return
				}
				select {
				case work <- docs:
				default:
					n.clientShed.Add(int64(len(docs)))
				}
			}
		}()
	}
	producers.Wait()
	close(work)
	wg.Wait()
	return firstErr
}

// batcher makes batches of generated documents, timed now.
type batcher struct {
	gen   *bench.Generator
	rng   *rand.Rand
	size  int
	queue [][]byte
}

func newBatcher(c config, seed uint64, traceSize int) *batcher {
	g := bench.NewGenerator(c.seed + seed)
	g.TraceSize = traceSize
	return &batcher{gen: g, rng: rand.New(rand.NewPCG(c.seed, seed)), size: c.batch}
}

func (b *batcher) next() [][]byte {
	if len(b.queue) < b.size {
		// Groups of 64 traces, shuffled, as Batches makes them: a trace's
		// documents land in neighbouring calls.
		at, from := time.Now(), len(b.queue)
		for range 64 {
			_, docs := b.gen.Trace(at, b.gen.TraceSize)
			b.queue = append(b.queue, docs...)
		}
		group := b.queue[from:]
		b.rng.Shuffle(len(group), func(i, j int) { group[i], group[j] = group[j], group[i] })
	}
	docs := b.queue[:b.size:b.size]
	b.queue = b.queue[b.size:]
	return docs
}

type soakSender struct {
	url    string
	client *http.Client
	body   []byte
}

// send makes one PutTraceSegments call and files its documents by answer.
// Only an error of the harness itself is returned; the server's refusals
// and transport failures are counted.
func (s *soakSender) send(docs [][]byte, n *soakCounts, acks *ackLog) error {
	s.body = appendRequest(s.body[:0], docs)
	resp, err := s.client.Post(s.url, "application/x-amz-json-1.1", bytes.NewReader(s.body))
	if err != nil {
		n.failed.Add(int64(len(docs)))
		if t, ok := err.(interface{ Timeout() bool }); ok && t.Timeout() {
			n.timedOut.Add(int64(len(docs)))
		}
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		n.failed.Add(int64(len(docs)))
		return nil
	}
	if resp.StatusCode == http.StatusTooManyRequests && bytes.Contains(b, []byte("ThrottledException")) {
		n.throttled.Add(int64(len(docs)))
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		n.failed.Add(int64(len(docs)))
		return nil
	}
	var answer struct {
		UnprocessedTraceSegments []struct{ Id, ErrorCode string }
	}
	if err := json.Unmarshal(b, &answer); err != nil {
		n.failed.Add(int64(len(docs)))
		return nil
	}
	refused := map[string]bool{}
	for _, u := range answer.UnprocessedTraceSegments {
		refused[u.Id] = true
		if u.ErrorCode == "ThrottledException" {
			n.throttled.Add(1)
		} else {
			n.rejected.Add(1)
		}
	}
	for _, d := range docs {
		traceID, id, ok := docIDs(d)
		if !ok {
			return fmt.Errorf("a generated document without ids: %.80s", d)
		}
		if refused[string(id)] {
			continue
		}
		if err := acks.add(traceID, id); err != nil {
			return err
		}
		n.acked.Add(1)
	}
	return nil
}

var (
	traceIDKey = []byte(`"trace_id":"`)
	idKey      = []byte(`"id":"`)
)

// docIDs finds a generated document's trace id and segment id (its first
// "id", before any subsegment's).
func docIDs(d []byte) (traceID, id []byte, ok bool) {
	i := bytes.Index(d, traceIDKey)
	j := bytes.Index(d, idKey)
	if i < 0 || j < 0 {
		return nil, nil, false
	}
	traceID, id = d[i+len(traceIDKey):], d[j+len(idKey):]
	if k := bytes.IndexByte(traceID, '"'); k > 0 {
		traceID = traceID[:k]
	}
	if k := bytes.IndexByte(id, '"'); k > 0 {
		id = id[:k]
	}
	return traceID, id, len(traceID) == 35 && len(id) == 16
}

// ackLog appends acknowledged ids to a file, from any sender.
type ackLog struct {
	mu  sync.Mutex
	w   *bufio.Writer
	n   int64
	rec [ackRecord]byte
}

func (a *ackLog) add(traceID, id []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := packIDs(a.rec[:], traceID, id); err != nil {
		return err
	}
	a.n++
	_, err := a.w.Write(a.rec[:])
	return err
}

func (a *ackLog) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w.Flush()
}

// packIDs writes "1-<8 hex>-<24 hex>" and "<16 hex>" as 24 bytes.
func packIDs(rec []byte, traceID, id []byte) error {
	if _, err := hex.Decode(rec[0:4], traceID[2:10]); err != nil {
		return err
	}
	if _, err := hex.Decode(rec[4:16], traceID[11:35]); err != nil {
		return err
	}
	_, err := hex.Decode(rec[16:24], id)
	return err
}

func unpackIDs(rec []byte) (traceID, id string) {
	return "1-" + hex.EncodeToString(rec[0:4]) + "-" + hex.EncodeToString(rec[4:16]), hex.EncodeToString(rec[16:24])
}

// verifySoak checks a soak's store after the fact, e.g. after its run was
// killed: a killed server's pending traces have no summary yet, so the
// server (-exec) is started on the store, which recovers them, and stopped
// cleanly before every acknowledged document is looked up.
func verifySoak(c config, out io.Writer) error {
	if c.execPath == "" {
		return errors.New("-soak-verify needs -exec: the server recovers the store before the check")
	}
	c.dataDir = filepath.Join(c.soakVerify, "data")
	srv, err := startServer(c)
	if err != nil {
		return err
	}
	if err := srv.stop(); err != nil {
		return fmt.Errorf("server stop: %w", err)
	}
	lost, traces, err := verifyAcked(filepath.Join(c.soakVerify, "acked.bin"), c.dataDir, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verified        %d traces: %d acknowledged documents lost\n", traces, lost)
	if lost > 0 {
		return fmt.Errorf("%d acknowledged documents are not in the store", lost)
	}
	return nil
}

// verifyAcked opens the store in dataDir and checks every document of the
// ack log: its trace has a summary and holds the document. The log is read
// in chunks; each trace of a chunk is looked up once, in trace-id order
// (ids begin with their epoch, so neighbours share blocks) and by one
// worker per CPU: a soak acknowledges tens of millions of documents.
func verifyAcked(logPath, dataDir string, out io.Writer) (lost, traces int64, err error) {
	st, err := pebble.Open(dataDir, pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	f, err := os.Open(logPath)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	rec := make([]byte, ackRecord)
	const chunk = 1 << 21
	var (
		mu       sync.Mutex
		reported int
	)
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if reported < 10 {
			reported++
			fmt.Fprintf(out, format, args...)
		}
	}
	for done := false; !done; {
		want := map[string][]string{}
		for range chunk {
			if _, err := io.ReadFull(r, rec); err != nil {
				// A torn last record: the log of a killed run ends mid-write.
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					done = true
					break
				}
				return lost, traces, err
			}
			t, id := unpackIDs(rec)
			want[t] = append(want[t], id)
		}
		ids := make([]string, 0, len(want))
		for t := range want {
			ids = append(ids, t)
		}
		sort.Strings(ids)
		traces += int64(len(ids))
		workers := runtime.GOMAXPROCS(0)
		var wg sync.WaitGroup
		var chunkLost atomic.Int64
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Contiguous ranges keep each worker's lookups in order.
				lo, hi := w*len(ids)/workers, (w+1)*len(ids)/workers
				for _, t := range ids[lo:hi] {
					chunkLost.Add(checkTrace(st, t, want[t], report))
				}
			}()
		}
		wg.Wait()
		lost += chunkLost.Load()
	}
	return lost, traces, nil
}

// checkTrace counts the documents of ids that trace t lacks (all of them if
// it has no summary).
func checkTrace(st *pebble.Store, t string, ids []string, report func(string, ...any)) int64 {
	got, err := st.Trace(context.Background(), t)
	if err != nil || got.Summary == nil {
		report("lost: trace %s (%d documents): %v, summary %v\n", t, len(ids), err, got != nil && got.Summary != nil)
		return int64(len(ids))
	}
	have := make(map[string]bool, len(got.Docs))
	for _, d := range got.Docs {
		have[d.ID] = true
	}
	var lost int64
	for _, id := range ids {
		if !have[id] {
			lost++
			report("lost: document %s of trace %s\n", id, t)
		}
	}
	return lost
}

var vmRe = regexp.MustCompile(`(VmRSS|VmHWM):\s+(\d+) kB`)

// memory is the server's resident and peak resident bytes.
func (s *server) memory() (rss, hwm int64) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	for _, m := range vmRe.FindAllSubmatch(b, -1) {
		v, _ := strconv.ParseInt(string(m[2]), 10, 64)
		if string(m[1]) == "VmRSS" {
			rss = v << 10
		} else {
			hwm = v << 10
		}
	}
	return rss, hwm
}

func (s *server) rss() int64 {
	r, _ := s.memory()
	return r
}

// waitUntil is wait that gives up (false) when the send's slot lies past
// the deadline.
func (p *pacer) waitUntil(n int, deadline time.Time) bool {
	p.mu.Lock()
	at := p.start.Add(time.Duration(p.n) * p.per)
	p.n += int64(n)
	p.mu.Unlock()
	if at.After(deadline) {
		return false
	}
	if d := time.Until(at); d > 0 {
		time.Sleep(d)
	}
	return true
}
