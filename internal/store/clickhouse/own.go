package clickhouse

import (
	"strconv"
	"sync"
)

// A flush on a shared store reads back every document of its traces, and
// with every trace split between two processes half of them are the
// reader's own: it wrote those very bytes a second or so before. So the
// store remembers the documents it wrote (trace, id, version, and the
// bytes uncompressed, a copy) and names them in the
// documents' read as external data; the server answers an empty string in
// their place, and the store puts its own bytes back. A version is unique
// to its writer (the writer's clock, and its documents' rows), so a row
// with the version this process wrote holds exactly the bytes it wrote:
// what Traces returns is unchanged, and a document another process rewrote
// since is a newer version, sent in full. Only the transfer shrinks: the
// server's answer, this process's reading and copying of it, and the
// decompression of its stored form (docform.go).

// ownBytesPerGeneration bounds the bytes one generation of the
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
	raw []byte // a copy of the document as given to PutDocs, never written again
}

// ownDocs are the documents this process wrote, by trace, in two
// generations: when the newer one has referenced ownBytesPerGeneration of
// documents, the older is forgotten and the newer takes its place.
type ownDocs struct {
	mu        sync.Mutex
	cur, old  map[string][]ownDoc
	bytes     int
	perGen    int // ownBytesPerGeneration; tests make it small
	forgotten int // generations forgotten (tests)
}

// RememberWritten bounds the documents this store keeps to leave out of its
// reads to two generations of perGeneration bytes of documents each. The
// app gives it the memory budget's share for the embedded store's
// memtables, which a ClickHouse-backed process does not use. Call it
// before the first write.
func (s *Store) RememberWritten(perGeneration int64) {
	s.own.mu.Lock()
	defer s.own.mu.Unlock()
	s.own.perGen = int(max(perGeneration, 1))
}

// ownEntryBytes is what an ownDoc and its share of a generation's map
// take, roughly, counted against the bound with the documents.
const ownEntryBytes = 64

// ownPut is one trace's documents of a write.
type ownPut struct {
	trace string
	docs  []ownDoc
}

// add remembers the documents of one write, size bytes of them.
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

// ownKey names one version of one document of a trace.
type ownKey struct {
	trace, doc string
	ver        uint64
}

// among are the remembered documents of traces by trace, document and
// version (nil if none; the first remembered wins, as the newer generation
// is looked at first), and the external table naming them (TabSeparated
// rows trace, doc, ver). A map, not a list per trace to scan: a trace of n
// documents of this process's would cost n²/2 comparisons to read back.
func (o *ownDocs) among(traces []string) (map[ownKey][]byte, []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out map[ownKey][]byte
	var b []byte
	for _, id := range traces {
		for _, g := range [2]map[string][]ownDoc{o.cur, o.old} {
			ds := g[id]
			if len(ds) == 0 {
				continue
			}
			if out == nil {
				out = make(map[ownKey][]byte, len(ds))
			}
			for _, d := range ds {
				k := ownKey{id, d.doc, d.ver}
				if _, dup := out[k]; dup {
					continue
				}
				out[k] = d.raw // never written again
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

// ownTable is the external table of a read's own documents.
const (
	ownTable     = "own"
	ownStructure = "trace String, doc String, ver UInt64"
)
