package ingest

import (
	"bytes"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// On a shared store a flush summarises a trace from every document read
// back from the store (other processes store documents of it too), and
// decoding them again was the largest part of the summarising path's CPU.
// Most of those documents this process holds decoded already: the ones it
// is summarising now (the pending entry) and the ones of its last summary
// of the trace (the cache). A stored document with the same id and the
// same bytes as one of those decodes to the same segment, so it is taken
// as it is; only the rest (other processes' documents, and versions that
// differ from ours) are decoded. The store's bytes still decide what is
// summarised.

// parseShared is parseStored for a trace read back from a shared store,
// reusing the decoded documents of e and of the cached trace.
func (in *Ingester) parseShared(e *pendingEntry, st *store.StoredTrace) (*entry, int64) {
	if st == nil || len(st.Docs) == 0 {
		return in.parseStored(e.id, st)
	}
	var cached []*segment.Segment
	if c := in.cache.get(e.id); c != nil && c.trace != nil {
		cached = c.trace.Docs
	}
	find := knownDocs(cached, e.docs.Docs)
	head := *st
	head.Docs = nil
	b, ep := in.parseStored(e.id, &head)
	b.trace.Docs = make([]*segment.Segment, 0, len(st.Docs))
	decoded := 0
	for _, d := range st.Docs {
		if s := find(d.ID); s != nil && s.Raw != nil && bytes.Equal(s.Raw, d.Raw) {
			b.trace.Docs = append(b.trace.Docs, s)
			b.bytes += len(d.Raw)
			continue
		}
		in.parseDoc(b, d)
		decoded++
	}
	in.reparsed.Add(int64(decoded))
	return b, ep
}

// knownScan is the most decoded documents parseShared looks through one by
// one; a map of them, made for each trace summarised, cost more than the
// look-ups it saved on traces of a few documents.
const knownScan = 16

// knownDocs finds a document by id among the decoded ones, mine (pending,
// the newer) before cached (the last summary's), the last of equal ids.
func knownDocs(cached, mine []*segment.Segment) func(id string) *segment.Segment {
	if len(cached)+len(mine) > knownScan {
		m := make(map[string]*segment.Segment, len(cached)+len(mine))
		for _, s := range cached {
			m[s.ID] = s
		}
		for _, s := range mine {
			m[s.ID] = s
		}
		return func(id string) *segment.Segment { return m[id] }
	}
	return func(id string) *segment.Segment {
		for _, l := range [2][]*segment.Segment{mine, cached} {
			for i := len(l) - 1; i >= 0; i-- {
				if l[i].ID == id {
					return l[i]
				}
			}
		}
		return nil
	}
}
