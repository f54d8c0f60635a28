package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// The ingest core against a model. A seeded random schedule interleaves
// writes (including versions of one document in either order), partial
// and full Syncs, reads, flushes held part-way while writes go on, store
// calls that fail, clean restarts and crashes, on the real Pebble store.
// The model is what a client was promised: every acknowledged document,
// the latest version of each id (a complete one is never undone by an
// in-progress one), and after Sync a summary that covers exactly them.
//
// A failure names its seed; ROENTGEN_MODEL_SEED=<seed> replays it (the
// schedule is deterministic: concurrency is placed by barriers, and the
// background flush waits an hour).
func TestIngestAgainstModel(t *testing.T) {
	seeds := []uint64{1, 2, 3, uint64(time.Now().UnixNano())}
	steps := 150
	if s := os.Getenv("ROENTGEN_MODEL_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds, steps = []uint64{seed}, 600
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Logf("seed %d (replay: ROENTGEN_MODEL_SEED=%d go test -run TestIngestAgainstModel ./internal/ingest)", seed, seed)
			newModelRun(t, seed).run(steps)
		})
	}
}

type modelDoc struct {
	raw        string
	inProgress bool
}

type modelRun struct {
	t     *testing.T
	rng   *rand.Rand
	dir   string
	pst   *pebble.Store
	fs    *faultStore
	in    *ingest.Ingester
	model map[string]map[string]modelDoc // trace -> id -> latest acknowledged version
	log   []string                       // the schedule so far, shown on failure
	ver   int
	keep  *testKeeper // nil: every trace kept
}

func newModelRun(t *testing.T, seed uint64) *modelRun {
	m := &modelRun{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), dir: t.TempDir(),
		model: map[string]map[string]modelDoc{}}
	m.open()
	t.Cleanup(func() {
		if m.in != nil {
			m.in.Close()
			m.pst.Close()
		}
	})
	return m
}

func (m *modelRun) open() {
	pst, err := pebble.Open(m.dir, pebble.Options{})
	if err != nil {
		m.t.Fatal(err)
	}
	m.pst, m.fs = pst, newFaultStore(pst)
	m.in = ingest.New(ingest.Config{Store: m.fs, Now: func() time.Time { return now }, FlushDelay: time.Hour,
		Logger: slog.New(slog.DiscardHandler), CacheBytes: []int{1, 0}[m.rng.IntN(2)]})
	if m.keep != nil {
		m.in.SetKeeper(m.keep)
	}
	if _, err := m.in.Recover(context.Background()); err != nil {
		m.fatalf("Recover: %v", err)
	}
}

func (m *modelRun) fatalf(format string, args ...any) {
	m.t.Helper()
	tail := m.log[max(0, len(m.log)-40):]
	m.t.Fatalf("%s\nlast steps:\n  %s", fmt.Sprintf(format, args...), strings.Join(tail, "\n  "))
}

func (m *modelRun) step(format string, args ...any) {
	m.log = append(m.log, fmt.Sprintf("%d: ", len(m.log))+fmt.Sprintf(format, args...))
}

// doc makes a new version of document j of trace k: complete or in
// progress, of a random size so that versions differ in bytes.
func (m *modelRun) doc(k, j int) (string, modelDoc) {
	tid := traceID(20000 + k)
	id := fmt.Sprintf("%016x", k*16+j+1)
	m.ver++
	pad := strings.Repeat("p", m.rng.IntN(40))
	kind := ""
	if j > 0 {
		kind = `"type":"subsegment","parent_id":"` + fmt.Sprintf("%016x", k*16+1) + `",`
	}
	if m.rng.IntN(4) == 0 {
		raw := fmt.Sprintf(`{"trace_id":%q,"id":%q,%s"name":"svc","start_time":%f,"in_progress":true,"annotations":{"v":"%d%s"}}`, tid, id, kind, t0, m.ver, pad)
		return tid, modelDoc{raw: raw, inProgress: true}
	}
	raw := fmt.Sprintf(`{"trace_id":%q,"id":%q,%s"name":"svc","start_time":%f,"end_time":%f,"annotations":{"v":"%d%s"}}`, tid, id, kind, t0, t0+1, m.ver, pad)
	return tid, modelDoc{raw: raw}
}

// write sends 1-3 documents in one call and records what was acknowledged.
func (m *modelRun) write() {
	n := 1 + m.rng.IntN(3)
	raws := make([][]byte, n)
	tids := make([]string, n)
	docs := make([]modelDoc, n)
	for i := range n {
		tids[i], docs[i] = m.doc(m.rng.IntN(6), m.rng.IntN(4))
		raws[i] = []byte(docs[i].raw)
	}
	r := m.in.Ingest(context.Background(), raws, ingest.Options{Source: "api"})
	refused := map[int]bool{}
	for _, x := range r {
		if x.Code != ingest.CodeInternal {
			m.fatalf("unexpected rejection %+v", x.Error)
		}
		refused[x.Index] = true
	}
	m.step("write %d docs, %d refused", n, len(refused))
	for i := range n {
		if refused[i] {
			continue
		}
		byID := m.model[tids[i]]
		if byID == nil {
			byID = map[string]modelDoc{}
			m.model[tids[i]] = byID
		}
		id := docID(docs[i].raw)
		old, ok := byID[id]
		if !ok || (old.raw != docs[i].raw && !(docs[i].inProgress && !old.inProgress)) {
			byID[id] = docs[i]
		}
	}
}

func docID(raw string) string {
	i := strings.Index(raw, `"id":"`)
	return raw[i+6 : i+22]
}

// check syncs and compares the store with the model: documents, summary,
// no pending mark, and the window's summaries.
func (m *modelRun) check() {
	ctx := context.Background()
	m.in.Sync(ctx)
	m.step("sync + check")
	pending := 0
	if err := m.pst.Pending(ctx, func(string) bool { pending++; return true }); err != nil || pending != 0 {
		m.fatalf("after Sync: %d traces pending (%v)", pending, err)
	}
	kept := 0
	for tid, byID := range m.model {
		if m.keep != nil && !m.keep.Decide(&trace.Summary{TraceID: tid, EntryPoint: -1}).Keep {
			if _, err := m.pst.Trace(ctx, tid); !errors.Is(err, store.ErrNotFound) {
				m.fatalf("%s: dropped by the keep policies, but Trace answers %v", tid, err)
			}
			continue
		}
		kept++
		st, err := m.pst.Trace(ctx, tid)
		if err != nil {
			m.fatalf("%s: %v", tid, err)
		}
		got := map[string]string{}
		bytes := 0
		for _, d := range st.Docs {
			got[d.ID] = string(d.Raw)
			bytes += len(d.Raw)
		}
		want := 0
		for id, d := range byID {
			if got[id] != d.raw {
				m.fatalf("%s/%s: stored %s\nwant %s", tid, id, got[id], d.raw)
			}
			want += len(d.raw)
		}
		if len(got) != len(byID) {
			m.fatalf("%s: %d documents stored, the model has %d", tid, len(got), len(byID))
		}
		if st.Summary != nil && st.Summary.Bytes != want {
			var vs []string
			for _, a := range st.Summary.Annotations {
				vs = append(vs, fmt.Sprint(a.Value))
			}
			var ms []string
			for id, d := range byID {
				ms = append(ms, id+"="+d.raw[strings.Index(d.raw, `"v":`):])
			}
			m.t.Logf("the summary holds versions %v\nthe model %v", vs, ms)
		}
		if st.Summary == nil || st.Summary.Bytes != want || st.Summary.LimitExceeded {
			m.fatalf("%s: summary %+v covers %d bytes, documents hold %d", tid, st.Summary, st.Summary.Bytes, want)
		}
	}
	var listed []string
	err := m.pst.Summaries(ctx, store.SummaryQuery{From: now.Unix() - 3600, To: now.Unix() + 3600}, func(s *trace.Summary) bool {
		listed = append(listed, s.TraceID)
		return true
	})
	if err != nil {
		m.fatalf("Summaries: %v", err)
	}
	sort.Strings(listed)
	if len(listed) != kept {
		m.fatalf("the window lists %d traces %v, the model keeps %d", len(listed), listed, kept)
	}
}

// flushHeld holds a flush at its Apply while more writes go in, then lets
// it finish.
func (m *modelRun) flushHeld() {
	entered, release := m.fs.pause("Apply")
	done := make(chan struct{})
	var ids []string
	if m.rng.IntN(2) == 0 {
		ids = []string{traceID(20000 + m.rng.IntN(6))}
	}
	go func() { m.in.Sync(context.Background(), ids...); close(done) }()
	select {
	case <-entered:
		m.step("flush %v held at Apply", ids)
		// Writes go on meanwhile; those of a trace the flush holds wait
		// for it, so they run on their own goroutine.
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			for range 1 + m.rng.IntN(3) {
				m.write()
			}
		}()
		release()
		<-wrote
		<-done
	case <-done:
		release()
		m.step("flush %v: nothing pending", ids)
	}
	m.fs.clearHolds()
}

// failing runs f with one store call failing.
func (m *modelRun) failing(f func()) {
	op := []string{"PutDocs", "Apply", "Trace", "Head"}[m.rng.IntN(4)]
	m.fs.fail(op, errors.New("injected: "+op))
	m.step("%s fails", op)
	f()
	m.fs.fail(op, nil)
}

func (m *modelRun) restart() {
	if m.rng.IntN(2) == 0 {
		m.step("restart (clean)")
		m.in.Close()
	} else {
		m.step("restart (crash)")
		m.in.Abandon()
	}
	m.pst.Close()
	m.open()
}

func (m *modelRun) run(steps int) {
	// ROENTGEN_MODEL_OFF=held,fail,restart turns kinds of step into writes,
	// to narrow down a failure (it changes the schedule that follows).
	off := os.Getenv("ROENTGEN_MODEL_OFF")
	for range steps {
		p := m.rng.IntN(100)
		if (strings.Contains(off, "held") && p >= 70 && p < 80) || (strings.Contains(off, "fail") && p >= 80 && p < 92) || (strings.Contains(off, "restart") && p >= 92) {
			p = 0
		}
		switch {
		case p < 50:
			m.write()
		case p < 60:
			ids := []string{traceID(20000 + m.rng.IntN(6))}
			m.in.Sync(context.Background(), ids...)
			m.step("sync %v", ids)
		case p < 70:
			m.check()
		case p < 80:
			m.flushHeld()
		case p < 92:
			m.failing(func() {
				if m.rng.IntN(2) == 0 {
					m.write()
				} else {
					m.in.Sync(context.Background())
				}
			})
		default:
			m.restart()
		}
	}
	m.check()
	m.restart()
	m.check()
}
