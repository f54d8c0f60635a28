package ingest

import (
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// storing holds the writes whose documents are on their way to a store
// that prepares them (store.DocPreparer: ClickHouse). Such a write gives
// up its traces' stripe locks once its versions are fixed, so that
// concurrent writes of the same traces share INSERTs instead of queueing
// one round trip after another; until it has stored its documents and
// queued them (pendingSet.add), the writes staged meanwhile find them
// here, as they would find them queued.
type storing struct {
	mu sync.Mutex
	m  map[string][]*staged // trace → writes in flight, newest last
}

func (s *storing) add(sts []*staged) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]*staged{}
	}
	for _, st := range sts {
		st.docs.Find("") // completes its index, so lookups by other writes only read it
		s.m[st.id] = append(s.m[st.id], st)
	}
}

func (s *storing) remove(sts []*staged) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range sts {
		l := s.m[st.id]
		for i, x := range l {
			if x == st {
				l = append(l[:i:i], l[i+1:]...)
				break
			}
		}
		if len(l) == 0 {
			delete(s.m, st.id)
		} else {
			s.m[st.id] = l
		}
	}
}

// of returns a trace's writes in flight, newest first. A staged write is
// not changed once it is here (its documents' index complete, see add);
// the writes that look documents up in it hold the trace's stripe lock.
func (s *storing) of(id string) []*staged {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.m[id]
	out := make([]*staged, len(l))
	for i, st := range l {
		out[len(l)-1-i] = st
	}
	return out
}

// preparer is the store as a DocPreparer, or nil.
func (in *Ingester) preparer() store.DocPreparer {
	p, _ := in.cfg.Store.(store.DocPreparer)
	return p
}

// view is a copy of a trace's queued entry without its documents (nil if
// none) and a lookup of those documents, both under the set's lock: with a
// DocPreparer store, writes queue their documents without holding the
// trace's stripe lock, so the entry may change while a write stages
// against it. With none queued, it is the entry in flight, if any (a
// shared store's writers do not wait for flights, pendingSet.claim): its
// epoch, size and documents, which its flush only reads. A reloaded one
// learns its epoch in flight (base), so it is left to the store.
func (p *pendingSet) view(id string) (*pendingEntry, func(docID string) *segment.Segment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.t[id]
	if s == nil {
		return nil, nil
	}
	e := s.queued
	var c pendingEntry
	switch {
	case e != nil:
		c = *e
	case s.flying != nil && !s.flying.reload:
		// Not a whole copy: its flush may set counted meanwhile.
		e = s.flying
		c = pendingEntry{id: e.id, epoch: e.epoch, bytes: e.bytes}
	default:
		return nil, nil
	}
	c.docs = trace.Trace{ID: e.docs.ID}
	return &c, func(docID string) *segment.Segment {
		p.mu.Lock()
		defer p.mu.Unlock()
		return e.docs.Find(docID)
	}
}
