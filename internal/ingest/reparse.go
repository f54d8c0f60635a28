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
	known := make(map[string]*segment.Segment, len(e.docs.Docs))
	if c := in.cache.get(e.id); c != nil && c.trace != nil {
		for _, s := range c.trace.Docs {
			known[s.ID] = s
		}
	}
	for _, s := range e.docs.Docs {
		known[s.ID] = s // newer than the cache's
	}
	head := *st
	head.Docs = nil
	b, ep := in.parseStored(e.id, &head)
	decoded := 0
	for _, d := range st.Docs {
		if s := known[d.ID]; s != nil && s.Raw != nil && bytes.Equal(s.Raw, d.Raw) {
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
