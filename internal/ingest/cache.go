package ingest

import (
	"container/list"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// entry is a trace's parsed state as of its last stored change.
type entry struct {
	trace         *trace.Trace
	summary       *trace.Summary
	limitExceeded bool
}

// clone copies the document list so that merging into the copy leaves the
// cached state untouched until the store has accepted the change.
func (e *entry) clone() *entry {
	t := &trace.Trace{ID: e.trace.ID, Docs: append(make([]*segment.Segment, 0, len(e.trace.Docs)+1), e.trace.Docs...)}
	return &entry{trace: t, summary: e.summary, limitExceeded: e.limitExceeded}
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
	size := e.trace.Bytes()*3 + 512 // parsed form outweighs the raw bytes
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.trace.ID]; ok {
		c.size -= el.Value.(*cached).size
		c.ll.Remove(el)
		delete(c.items, e.trace.ID)
	}
	if size > c.limit/4 {
		return // a huge trace would evict everything else
	}
	c.items[e.trace.ID] = c.ll.PushFront(&cached{e: e, size: size})
	c.size += size
	for c.size > c.limit {
		last := c.ll.Back()
		v := last.Value.(*cached)
		c.ll.Remove(last)
		delete(c.items, v.e.trace.ID)
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
