package ingest

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// A trace too big to cache leaves a size-only entry: its summary must not
// keep the trace's documents alive through strings parsed out of them.
func TestSizeOnlyEntryKeepsNoDocuments(t *testing.T) {
	now := time.Now()
	id := fmt.Sprintf("1-%08x-%024x", now.Unix(), 1)
	start := float64(now.Unix())
	doc := fmt.Appendf(nil, `{"trace_id":%q,"id":"70de5b6f19ff9a0a","name":"checkout","start_time":%f,"end_time":%f,"user":"alice","annotations":{"order":"o-1"}}`, id, start, start+0.5)
	c := newCache(1024) // any trace is a quarter of it
	raw := func() weak.Pointer[byte] {
		segs, err := segment.Parse(doc, segment.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		tr := &trace.Trace{ID: id}
		tr.Put(segs[0])
		sum := trace.Summarize(trace.Assemble(tr), nil, start+1)
		c.put(&entry{trace: tr, summary: sum, bytes: len(doc)})
		return weak.Make(unsafe.SliceData(segs[0].Raw))
	}()
	e := c.get(id)
	if e == nil || e.trace != nil || e.summary == nil || e.bytes != len(doc) {
		t.Fatalf("entry = %+v; want a size-only entry with the summary", e)
	}
	if e.summary.TraceID != id || e.summary.Duration != 0.5 {
		t.Errorf("summary = %+v", e.summary)
	}
	runtime.GC()
	runtime.GC()
	if raw.Value() != nil {
		t.Error("the size-only entry keeps the trace's document alive")
	}
	runtime.KeepAlive(e)
}

// byTrace groups a call's documents by trace, in order of first
// appearance, with each group's room ending where the next begins.
func TestByTrace(t *testing.T) {
	var segs []*segment.Segment
	for _, id := range []string{"a", "b", "a", "c", "b", "a"} {
		segs = append(segs, &segment.Segment{TraceID: id})
	}
	order, groups := new(callScratch).byTrace(segs)
	if fmt.Sprint(order, groups) != "[a b c] [[0 2 5] [1 4] [3]]" {
		t.Fatalf("byTrace = %v %v", order, groups)
	}
	_ = append(groups[0], 99)
	if fmt.Sprint(groups) != "[[0 2 5] [1 4] [3]]" {
		t.Errorf("appending to a group wrote into the next: %v", groups)
	}
	if o, g := new(callScratch).byTrace(nil); len(o) != 0 || len(g) != 0 {
		t.Errorf("byTrace(nil) = %v %v", o, g)
	}
}

// The cache against a model: a list of (id, entry, size), newest first,
// evicting from the back while over the limit. Random gets, puts (also of
// the entry already cached, and of traces too big to cache), removes and
// clears must leave the same entries, in the same order, charged the same.
func TestCacheAgainstModel(t *testing.T) {
	type item struct {
		id   string
		e    *entry
		size int
	}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		const limit = 8 << 10
		c := newCache(limit)
		var model []item // newest first
		find := func(id string) int {
			return slices.IndexFunc(model, func(it item) bool { return it.id == id })
		}
		for step := range 2000 {
			id := fmt.Sprint(rng.IntN(40))
			switch op := rng.IntN(10); {
			case op < 4:
				got := c.get(id)
				i := find(id)
				if i < 0 {
					if got != nil {
						t.Fatalf("seed %d step %d: get(%s) = %p, want none", seed, step, id, got)
					}
					continue
				}
				if got != model[i].e {
					t.Fatalf("seed %d step %d: get(%s) = %p, want %p", seed, step, id, got, model[i].e)
				}
				it := model[i]
				model = append([]item{it}, slices.Delete(model, i, i+1)...)
			case op < 8:
				e := newEntry(id)
				if i := find(id); i >= 0 && model[i].e.trace != nil && rng.IntN(4) == 0 {
					e = model[i].e // the same entry again
				} else {
					e.bytes = rng.IntN(1000)
					if rng.IntN(20) == 0 {
						e.bytes = limit // too big: size only
					}
				}
				c.put(e)
				size := e.bytes*3 + 512
				if size > limit/4 {
					size = 512
				}
				if i := find(id); i >= 0 {
					model = slices.Delete(model, i, i+1)
				}
				got := c.items[id]
				if e.bytes*3+512 > limit/4 {
					if got == e || got == nil || got.trace != nil || got.bytes != e.bytes {
						t.Fatalf("seed %d step %d: a trace too big to cache left %+v", seed, step, got)
					}
				} else if got != e {
					t.Fatalf("seed %d step %d: put(%s) filed %p, want %p", seed, step, id, got, e)
				}
				model = append([]item{{id, got, size}}, model...)
				total := 0
				for _, it := range model {
					total += it.size
				}
				for total > limit {
					total -= model[len(model)-1].size
					model = model[:len(model)-1]
				}
			case op < 9:
				c.remove(id)
				if i := find(id); i >= 0 {
					model = slices.Delete(model, i, i+1)
				}
			default:
				if rng.IntN(20) == 0 {
					c.clear()
					model = nil
				}
			}
			checkCache(t, c, model, func(it item) (string, *entry, int) { return it.id, it.e, it.size })
		}
	}
}

// checkCache compares the cache's map, list (both ways) and size with the
// model's items, newest first.
func checkCache[T any](t *testing.T, c *cache, model []T, of func(T) (string, *entry, int)) {
	t.Helper()
	if len(c.items) != len(model) {
		t.Fatalf("cache holds %d traces, model %d", len(c.items), len(model))
	}
	total := 0
	e := &c.root
	for i, it := range model {
		id, want, size := of(it)
		total += size
		e = e.next
		if e != want || e.key != id || e.size != size || c.items[id] != want || e.next.prev != e {
			t.Fatalf("cache position %d: %p %q size %d; model %p %q size %d", i, e, e.key, e.size, want, id, size)
		}
	}
	if e.next != &c.root || c.root.prev != e {
		t.Fatal("the cache's list does not end where the model does")
	}
	if c.size != total {
		t.Fatalf("cache size %d, model %d", c.size, total)
	}
}

// stripes are what the map of seen stripes and a sort made: each trace's
// stripe once, in ascending order (the order that keeps two writers from
// deadlocking), for calls of any size, repeats included.
func TestStripesMatchMapAndSort(t *testing.T) {
	in := &Ingester{seed: maphash.MakeSeed()}
	want := func(ids []string) []int {
		stripes := []int{}
		seen := map[int]bool{}
		for _, id := range ids {
			s := int(maphash.String(in.seed, id) % uint64(len(in.locks)))
			if !seen[s] {
				seen[s] = true
				stripes = append(stripes, s)
			}
		}
		sort.Ints(stripes)
		return stripes
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		ids := make([]string, rng.IntN(600))
		for i := range ids {
			ids[i] = fmt.Sprintf("1-%08x-%024x", rng.IntN(4), rng.IntN(len(ids)+1))
		}
		if got, w := in.stripes(ids), want(ids); !slices.Equal(got, w) {
			t.Fatalf("stripes of %d ids = %v, want %v", len(ids), got, w)
		}
	}
}
