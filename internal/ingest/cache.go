package ingest

import (
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

	// The cache's bookkeeping, under its lock while the entry is in it:
	// its place in the LRU list, the trace id it is filed under (a
	// size-only entry has no trace) and the size it is charged. Links in
	// the entry itself, not a list element and a record per entry, were
	// two allocations fewer per trace summarised.
	prev, next *entry
	key        string
	size       int
}

// clone copies the document list so that merging into the copy leaves the
// cached state untouched until the store has accepted the change.
func (e *entry) clone() *entry {
	c := newEntry(e.trace.ID)
	c.trace.Docs = append(make([]*segment.Segment, 0, len(e.trace.Docs)+1), e.trace.Docs...)
	c.summary, c.limitExceeded, c.bytes, c.dropped = e.summary, e.limitExceeded, e.bytes, e.dropped
	return c
}

// newEntry is an entry of a trace with no documents yet, the entry, its
// trace and room for one document in one allocation: most traces are new
// when they are summarised, and most of those have one document. (Put
// only appends to it, as its documents have distinct ids, so the slot
// never holds a document the list has let go.)
func newEntry(id string) *entry {
	c := &struct {
		e   entry
		t   trace.Trace
		one [1]*segment.Segment
	}{t: trace.Trace{ID: id}}
	c.t.Docs = c.one[:0:1]
	c.e.trace = &c.t
	return &c.e
}

// cache is an LRU of recently updated traces, bounded by raw document bytes.
type cache struct {
	mu    sync.Mutex
	limit int
	size  int
	root  entry // of the LRU list: root.next is the newest, root.prev the oldest
	items map[string]*entry
}

func newCache(limit int) *cache {
	c := &cache{limit: limit, items: map[string]*entry{}}
	c.root.next, c.root.prev = &c.root, &c.root
	return c
}

func (c *cache) get(id string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.items[id]; e != nil {
		c.unlink(e)
		c.pushFront(e)
		return e
	}
	return nil
}

// put files e under its trace's id, replacing what was there. e must not
// be in the cache under another id, nor in another cache.
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
	if old := c.items[id]; old != nil {
		c.size -= old.size
		c.unlink(old)
	}
	e.key, e.size = id, size
	c.items[id] = e
	c.pushFront(e)
	c.size += size
	for c.size > c.limit {
		last := c.root.prev
		c.unlink(last)
		delete(c.items, last.key)
		c.size -= last.size
	}
}

func (c *cache) remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.items[id]; e != nil {
		c.size -= e.size
		c.unlink(e)
		delete(c.items, id)
	}
}

// clear empties the cache, as evicting every entry would.
func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.root.next; e != &c.root; {
		next := e.next
		e.prev, e.next = nil, nil
		e = next
	}
	c.root.next, c.root.prev = &c.root, &c.root
	c.items = map[string]*entry{}
	c.size = 0
}

// unlink takes e out of the LRU list; its links are cleared, so that an
// entry out of the cache keeps no other alive.
func (c *cache) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *cache) pushFront(e *entry) {
	e.prev, e.next = &c.root, c.root.next
	c.root.next.prev = e
	c.root.next = e
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
