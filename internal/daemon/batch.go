package daemon

import (
	"encoding/binary"
	"errors"
	"sync"
)

// maxBatch is the official daemon's PutTraceSegments batch size.
const maxBatch = 50

// batch is up to maxBatch documents in one buffer: documents are appended
// once by the receiver and read, never changed, until the batch is
// uploaded, spooled or dropped.
type batch struct {
	buf  []byte
	ends []int // end offset of each document in buf
}

// batches recycles the receiver's batches once uploaded: a batch of 50
// documents of ~1.3 kB outgrew a fresh 64 kB buffer, so each cost 192 kB
// of garbage, the daemon's largest source of GC work at 10k segments/s.
var batches = sync.Pool{New: func() any {
	return &batch{buf: make([]byte, 0, 96<<10), ends: make([]int, 0, maxBatch)}
}}

// newBatch is an empty batch, recycled when one is free.
func newBatch() *batch { return batches.Get().(*batch) }

// recycle gives b back for reuse: the caller holds the only reference.
// Batches grown by very large documents are left to the GC.
func (b *batch) recycle() {
	if cap(b.buf) > 1<<20 {
		return
	}
	b.buf, b.ends = b.buf[:0], b.ends[:0]
	batches.Put(b)
}

func (b *batch) len() int   { return len(b.ends) }
func (b *batch) size() int  { return len(b.buf) }
func (b *batch) full() bool { return len(b.ends) >= maxBatch }

func (b *batch) add(doc []byte) {
	b.buf = append(b.buf, doc...)
	b.ends = append(b.ends, len(b.buf))
}

func (b *batch) doc(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start:b.ends[i]]
}

// encode is the spool record payload: each document as a uvarint length
// and its bytes.
func (b *batch) encode() []byte {
	out := make([]byte, 0, len(b.buf)+2*len(b.ends))
	for i := range b.ends {
		d := b.doc(i)
		out = binary.AppendUvarint(out, uint64(len(d)))
		out = append(out, d...)
	}
	return out
}

var errBadPayload = errors.New("spool record payload is not a list of documents")

func decodeBatch(p []byte) (*batch, error) {
	b := &batch{buf: make([]byte, 0, len(p))}
	for len(p) > 0 {
		n, k := binary.Uvarint(p)
		// A length in more bytes than it needs is no payload encode
		// writes: refused, so a decoded batch re-encodes to its bytes.
		if k <= 0 || k != uvarintLen(n) || n > uint64(len(p)-k) {
			return nil, errBadPayload
		}
		b.add(p[k : k+int(n)])
		p = p[k+int(n):]
	}
	return b, nil
}

// uvarintLen is how many bytes binary.AppendUvarint writes for v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
