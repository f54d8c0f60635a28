package pebble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Pending marks name the traces whose documents are stored and whose
// summary is not (store.Store's Pending). Each PutDocs call writes one mark
// for all of its traces, in the documents' batch,
//
//	p | 0x00 | 8-byte number  ->  per trace: uvarint length | id | 8-byte epoch
//
// and Apply deletes a mark once every trace it names is summarised, or
// rewrites it without the ones that are. A mark per trace (p | trace id ->
// epoch, which earlier builds wrote and which still read) was set by every
// PutDocs and deleted by every Apply: two random keys per single-segment
// trace in the documents LSM's memtable, half of its skiplist inserts, and
// a tombstone per trace in every flush. No trace id begins with 0x00.
// Marks of this form came with layout 9, which earlier builds refuse to
// open (they would read such a mark as one odd trace id).
//
// The marks are also held in memory (loaded at Open), so that Apply finds
// those naming a trace without reading; the table is what a restart reads.
type pendingMarks struct {
	mu      sync.Mutex
	next    uint64               // the next mark's number
	byTrace map[string][]markRef // every pending trace's places in marks
	// clear's scratch.
	touched map[*markBatch]struct{}
	undo    []markRef
	ids     []string
}

// markBatch is one mark: its key and the traces it names.
type markBatch struct {
	key    []byte
	traces []markedTrace
	left   int // traces not yet summarised
}

type markedTrace struct {
	id    string
	epoch int64
	done  bool
}

type markRef struct {
	m *markBatch
	i int // index in m.traces
}

func (p *pendingMarks) init() {
	if p.byTrace == nil {
		p.byTrace = map[string][]markRef{}
		p.touched = map[*markBatch]struct{}{}
	}
}

// batchMarkKey is the key of mark number n.
func batchMarkKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{'p', 0}, n)
}

// newMark is the mark of one PutDocs call's traces, to be staged with its
// documents and, once they are committed, added (add); its value is
// appended to dst.
func (p *pendingMarks) newMark(ids []string, epochs []int64, dst []byte) (*markBatch, []byte) {
	p.mu.Lock()
	n := p.next
	p.next++
	p.mu.Unlock()
	m := &markBatch{key: batchMarkKey(n), traces: make([]markedTrace, len(ids)), left: len(ids)}
	for i, id := range ids {
		m.traces[i] = markedTrace{id: id, epoch: epochs[i]}
	}
	return m, m.appendValue(dst)
}

// markEntryMax bounds what a trace adds to a mark's value.
func markEntryMax(id string) int { return binary.MaxVarintLen32 + len(id) + 8 }

// add records a committed mark.
func (p *pendingMarks) add(m *markBatch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addLocked(m)
}

func (p *pendingMarks) addLocked(m *markBatch) {
	p.init()
	// A trace's list of places starts as a one-element window of one
	// array per mark (capacity 1, so that appending copies): most traces
	// are in one mark, and a list each was most of what marks allocated.
	slab := make([]markRef, len(m.traces))
	for i := range m.traces {
		if m.traces[i].done {
			continue
		}
		id := m.traces[i].id
		if l, ok := p.byTrace[id]; ok {
			p.byTrace[id] = append(l, markRef{m, i})
		} else {
			slab[i] = markRef{m, i}
			p.byTrace[id] = slab[i : i+1 : i+1]
		}
	}
}

// clear marks as summarised the traces for which done(id, epoch) holds
// among ids (nil: every pending trace), and writes what that changes to
// db: marks left naming none are deleted, the others rewritten. If the
// write fails, the traces stay pending.
func (p *pendingMarks) clear(db *pebble.DB, ids []string, done func(id string, epoch int64) bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	clear(p.touched)
	p.undo, p.ids = p.undo[:0], p.ids[:0]
	take := func(id string, refs []markRef) {
		kept := refs[:0]
		for _, r := range refs {
			if t := &r.m.traces[r.i]; done == nil || done(t.id, t.epoch) {
				t.done = true
				r.m.left--
				p.touched[r.m] = struct{}{}
				p.undo = append(p.undo, r)
			} else {
				kept = append(kept, r)
			}
		}
		if len(kept) == 0 {
			delete(p.byTrace, id)
		} else {
			p.byTrace[id] = kept
		}
	}
	if ids == nil {
		for id := range p.byTrace {
			p.ids = append(p.ids, id)
		}
		ids = p.ids
	}
	for _, id := range ids {
		// One lookup per trace: a trace id's hash and probe in a map of
		// every pending trace is what clearing costs.
		if refs, ok := p.byTrace[id]; ok {
			take(id, refs)
		}
	}
	if len(p.touched) == 0 {
		return nil
	}
	b := stagedBatch{ops: make([]stagedOp, 0, len(p.touched))}
	for m := range p.touched {
		if m.left == 0 {
			b.del(m.key)
			continue
		}
		b.set(m.key, m.value())
	}
	if err := b.commit(db); err != nil {
		for _, r := range p.undo {
			r.m.traces[r.i].done = false
			r.m.left++
			id := r.m.traces[r.i].id
			p.byTrace[id] = append(p.byTrace[id], r)
		}
		return err
	}
	// Nothing of these marks stays reachable from the scratch.
	clear(p.touched)
	clear(p.undo)
	clear(p.ids)
	return nil
}

// value is a mark's stored form: the traces it names not yet summarised.
func (m *markBatch) value() []byte { return m.appendValue(nil) }

func (m *markBatch) appendValue(v []byte) []byte {
	for _, t := range m.traces {
		if !t.done {
			v = binary.AppendUvarint(v, uint64(len(t.id)))
			v = append(v, t.id...)
			v = binary.BigEndian.AppendUint64(v, uint64(t.epoch))
		}
	}
	return v
}

// pending lists the pending traces, sorted.
func (p *pendingMarks) pending() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]string, 0, len(p.byTrace))
	for id := range p.byTrace {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// load reads the table's marks, of either form, into p, replacing what it
// held (Open, and a store reopened for writing). A
// mark that does not decode is logged and left alone: its traces'
// documents stay stored.
func (p *pendingMarks) load(db *pebble.DB, log *slog.Logger) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{'p'}, UpperBound: []byte{'p' + 1}})
	if err != nil {
		return err
	}
	// Read into a fresh set, taken only whole: a read that fails part way
	// leaves what p held.
	var fresh pendingMarks
	for it.First(); it.Valid(); it.Next() {
		k := bytes.Clone(it.Key())
		m, err := decodeMark(k, it.Value())
		if err != nil {
			log.Warn("store: a pending mark does not decode; its traces are not recovered", "err", err)
			continue
		}
		if len(k) == 10 && k[1] == 0 {
			fresh.next = max(fresh.next, binary.BigEndian.Uint64(k[2:])+1)
		}
		fresh.addLocked(m)
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	fresh.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next = max(p.next, fresh.next)
	p.byTrace, p.touched = fresh.byTrace, fresh.touched
	return nil
}

// decodeMark reads one mark: a PutDocs call's (p 0x00 number) or, as
// earlier builds wrote, one trace's (p id -> epoch).
func decodeMark(key, v []byte) (*markBatch, error) {
	m := &markBatch{key: key}
	if len(key) < 2 || key[1] != 0 {
		var ep int64
		if len(v) == 8 {
			ep = int64(binary.BigEndian.Uint64(v))
		}
		m.traces = []markedTrace{{id: string(key[1:]), epoch: ep}}
		m.left = 1
		return m, nil
	}
	for len(v) > 0 {
		n, w := binary.Uvarint(v)
		if w <= 0 || len(v)-w < 8 || n > uint64(len(v)-w-8) {
			return nil, fmt.Errorf("pending mark %x is truncated", key)
		}
		id := string(v[w : w+int(n)])
		ep := int64(binary.BigEndian.Uint64(v[w+int(n):]))
		m.traces = append(m.traces, markedTrace{id: id, epoch: ep})
		v = v[w+int(n)+8:]
	}
	m.left = len(m.traces)
	return m, nil
}
