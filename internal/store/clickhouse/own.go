package clickhouse

import (
	"strconv"
	"sync"
)

// A flush on a shared store reads back every document of its traces, and
// with every trace split between two processes half of them are the
// reader's own: it wrote those very bytes a second or so before. So the
// store remembers the documents it wrote (trace, id, version, and the
// bytes, which live in the rows it sent anyway) and names them in the
// documents' read as external data; the server answers an empty string in
// their place, and the store puts its own bytes back. A version is unique
// to its writer (the writer's clock, and its documents' rows), so a row
// with the version this process wrote holds exactly the bytes it wrote:
// what Traces returns is unchanged, and a document another process rewrote
// since is a newer version, sent in full. Only the transfer shrinks: the
// server's answer, this process's reading and copying of it.

// ownBytesPerGeneration bounds the row buffers one generation of the
// remembered documents keeps alive unless the process's memory budget says
// otherwise (Store.RememberWritten); two generations are kept, so at most
// twice this is held besides what the ingester holds. At 25,000 segments
// of ~1 kB a second per process that is a second or more of documents,
// enough for most flushes under load (they read their traces 1 to 11 s
// after the write); older documents are read in full, as before.
const ownBytesPerGeneration = 32 << 20

// ownDoc is a document this process wrote.
type ownDoc struct {
	doc string
	ver uint64
	raw []byte // a slice of the row buffer it was sent in, never written again
}

// ownDocs are the documents this process wrote, by trace, in two
// generations: when the newer one has referenced ownBytesPerGeneration of
// row buffers, the older is forgotten and the newer takes its place.
type ownDocs struct {
	mu        sync.Mutex
	cur, old  map[string][]ownDoc
	bytes     int
	perGen    int // ownBytesPerGeneration; tests make it small
	forgotten int // generations forgotten (tests)
}

// RememberWritten bounds the documents this store keeps to leave out of its
// reads to two generations of perGeneration bytes of row buffers each. The
// app gives it the memory budget's share for the embedded store's
// memtables, which a ClickHouse-backed process does not use. Call it
// before the first write.
func (s *Store) RememberWritten(perGeneration int64) {
	s.own.mu.Lock()
	defer s.own.mu.Unlock()
	s.own.perGen = int(max(perGeneration, 1))
}

// ownPut is one trace's documents of a row buffer.
type ownPut struct {
	trace string
	docs  []ownDoc
}

// add remembers the documents of one row buffer holding size bytes of
// them.
func (o *ownDocs) add(size int, puts []ownPut) {
	o.mu.Lock()
	defer o.mu.Unlock()
	per := o.perGen
	if per == 0 {
		per = ownBytesPerGeneration
	}
	if o.cur == nil || o.bytes+size > per && o.bytes > 0 {
		if o.cur != nil {
			o.forgotten++
		}
		o.old, o.cur, o.bytes = o.cur, map[string][]ownDoc{}, 0
	}
	o.bytes += size
	for _, p := range puts {
		if cur := o.cur[p.trace]; len(cur) > 0 {
			o.cur[p.trace] = append(cur, p.docs...)
		} else {
			o.cur[p.trace] = p.docs // full: a later append copies
		}
	}
}

// among are the remembered documents of traces (nil if none), and the
// external table naming them (TabSeparated rows trace, doc, ver).
func (o *ownDocs) among(traces []string) (map[string][]ownDoc, []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out map[string][]ownDoc
	var b []byte
	for _, id := range traces {
		for _, g := range [2]map[string][]ownDoc{o.cur, o.old} {
			ds := g[id]
			if len(ds) == 0 {
				continue
			}
			if out == nil {
				out = make(map[string][]ownDoc, len(traces))
				b = make([]byte, 0, len(traces)*4*(len(id)+40))
			}
			if cur := out[id]; len(cur) > 0 {
				out[id] = append(cur[:len(cur):len(cur)], ds...)
			} else {
				// Its elements are never written again; an append to
				// the generation's slice leaves them be.
				out[id] = ds[:len(ds):len(ds)]
			}
			for _, d := range ds {
				b = appendTSV(b, id)
				b = append(b, '\t')
				b = appendTSV(b, d.doc)
				b = append(b, '\t')
				b = strconv.AppendUint(b, d.ver, 10)
				b = append(b, '\n')
			}
		}
	}
	return out, b
}

// ownRaw is the bytes of trace's document doc at version v among mine.
func ownRaw(mine map[string][]ownDoc, trace, doc string, v uint64) ([]byte, bool) {
	for _, d := range mine[trace] {
		if d.ver == v && d.doc == doc {
			return d.raw, true
		}
	}
	return nil, false
}

// ownTable is the external table of a read's own documents.
const (
	ownTable     = "own"
	ownStructure = "trace String, doc String, ver UInt64"
)
