package ingest

import (
	"container/list"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// entry is a trace's parsed state as of its last stored summary.
type entry struct {
	// trace is nil in a size-only entry, kept for a trace too big to cache
	// so that MaxTraceBytes is still enforced without re-reading it.
	trace         *trace.Trace
	summary       *trace.Summary
	limitExceeded bool
	bytes         int // raw bytes of the trace's documents
	// dropped: keep policies dropped the trace; summary is its state as
	// counted in statistics, stored nowhere.
	dropped bool
}

// clone copies the document list so that merging into the copy leaves the
// cached state untouched until the store has accepted the change.
func (e *entry) clone() *entry {
	c := newEntry(e.trace.ID, append(make([]*segment.Segment, 0, len(e.trace.Docs)+1), e.trace.Docs...))
	c.summary, c.limitExceeded, c.bytes, c.dropped = e.summary, e.limitExceeded, e.bytes, e.dropped
	return c
}

// newEntry is an entry of a trace with docs, the entry and its trace in
// one allocation: every summarised trace makes two entries.
func newEntry(id string, docs []*segment.Segment) *entry {
	c := &struct {
		e entry
		t trace.Trace
	}{t: trace.Trace{ID: id, Docs: docs}}
	c.e.trace = &c.t
	return &c.e
}

// cache is an LRU of recently updated traces, bounded by raw document bytes.
type cache struct {
	mu    sync.Mutex
	limit int
	size  int
	ll    *list.List
	items map[string]*list.Element
}

type cached struct {
	id   string
	e    *entry
	size int
}

func newCache(limit int) *cache {
	return &cache{limit: limit, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *cache) get(id string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*cached).e
	}
	return nil
}

func (c *cache) put(e *entry) {
	id := e.trace.ID
	size := e.bytes*3 + 512 // parsed form outweighs the raw bytes
	if size > c.limit/4 {
		// A huge trace would evict everything else: keep its size only.
		e = &entry{summary: detached(e.summary), limitExceeded: e.limitExceeded, bytes: e.bytes, dropped: e.dropped}
		size = 512
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		c.size -= el.Value.(*cached).size
		c.ll.Remove(el)
		delete(c.items, id)
	}
	c.items[id] = c.ll.PushFront(&cached{id: id, e: e, size: size})
	c.size += size
	for c.size > c.limit {
		last := c.ll.Back()
		v := last.Value.(*cached)
		c.ll.Remove(last)
		delete(c.items, v.id)
		c.size -= v.size
	}
}

func (c *cache) remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		c.size -= el.Value.(*cached).size
		c.ll.Remove(el)
		delete(c.items, id)
	}
}

// clear empties the cache, as evicting every entry would.
func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	c.items = map[string]*list.Element{}
	c.size = 0
}

// detached is a copy of s that shares no memory with the documents it was
// summarised from: parsed strings refer to their document's Raw
// (segment.Parse), so a size-only entry's summary would otherwise keep the
// huge trace it stands in for alive. It is what a cache miss reads from
// the store, the same stored form decoded.
func detached(s *trace.Summary) *trace.Summary {
	if s == nil {
		return nil
	}
	b, err := trace.EncodeSummary(s)
	if err != nil {
		return s
	}
	d, err := trace.DecodeSummary(b)
	if err != nil {
		return s
	}
	return d
}
