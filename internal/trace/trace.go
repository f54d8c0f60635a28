// Package trace assembles the documents of one trace into a tree and derives
// from it everything the server answers with or searches by: the trace
// summary, the service-graph nodes and edges of the trace, and the facts that
// filter expressions test (spec §1.8, §6.1, §6.5).
package trace

import (
	"slices"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// Trace is every stored document of one trace id: segments and independent
// subsegments, the latest version of each id. Docs may be appended to
// directly; anything else goes through Put.
type Trace struct {
	ID   string
	Docs []*segment.Segment
	// byID indexes Docs[:indexed] by id once the trace is large, so that
	// Put and Find cost the same for the 90,000th document as for the
	// first: a scan per lookup made one big trace quadratic.
	byID    map[string]int
	indexed int
}

// indexFrom is the size from which lookups use the index; below it a scan
// is cheaper than the map.
const indexFrom = 32

// find returns the position of the document with the id, or -1.
func (t *Trace) find(id string) int {
	if len(t.Docs) < indexFrom {
		for i, d := range t.Docs {
			if d.ID == id {
				return i
			}
		}
		return -1
	}
	if t.byID == nil || t.indexed > len(t.Docs) {
		t.byID, t.indexed = make(map[string]int, len(t.Docs)), 0
	}
	for ; t.indexed < len(t.Docs); t.indexed++ {
		if _, dup := t.byID[t.Docs[t.indexed].ID]; !dup { // the first wins, as in a scan
			t.byID[t.Docs[t.indexed].ID] = t.indexed
		}
	}
	if i, ok := t.byID[id]; ok && t.Docs[i].ID == id {
		return i
	}
	return -1
}

// Put merges documents into the trace. A document whose id is already
// present replaces the earlier version (in_progress -> complete). It reports
// whether anything changed.
func (t *Trace) Put(docs ...*segment.Segment) bool {
	changed := false
	for _, d := range docs {
		if i := t.find(d.ID); i >= 0 {
			// An in-progress version arriving after the complete one
			// (UDP reorders) must not undo it.
			if Replaces(t.Docs[i], d) {
				t.Docs[i] = d
				changed = true
			}
			continue
		}
		t.Docs = append(t.Docs, d)
		changed = true
	}
	return changed
}

func sameBytes(a, b []byte) bool { return a != nil && string(a) == string(b) }

// Replaces reports whether d, a document with old's id, changes old. An
// in-progress version arriving after the complete one (UDP reorders) must
// not undo it.
func Replaces(old, d *segment.Segment) bool {
	return !sameBytes(old.Raw, d.Raw) && !(d.InProgress && !old.InProgress)
}

// Find returns the document with the id, or nil.
func (t *Trace) Find(id string) *segment.Segment {
	if i := t.find(id); i >= 0 {
		return t.Docs[i]
	}
	return nil
}

// Bytes is the total size of the trace's raw documents.
func (t *Trace) Bytes() int {
	n := 0
	for _, d := range t.Docs {
		n += len(d.Raw)
	}
	return n
}

// Tree is a trace with independent subsegments grafted under their parents.
// It never mutates the documents: children added by grafting live in Children.
type Tree struct {
	Trace *Trace
	// Segments are the top-level segments (not independent subsegments), by start time.
	Segments []*segment.Segment
	// Roots are segments whose parent is absent or not in the trace.
	Roots []*segment.Segment
	// Orphans are independent subsegments whose parent is not in the trace.
	Orphans []*segment.Segment
	// Children maps a (sub)segment id to its children: embedded and grafted.
	Children map[string][]*segment.Segment
	// ByID maps every (sub)segment id to its (sub)segment.
	ByID map[string]*segment.Segment
	// CalledBy maps a subsegment id to the segments whose parent_id names it:
	// the callee's own segments for an instrumented downstream call.
	CalledBy map[string][]*segment.Segment
	// distinct: no two (sub)segments share an id. Every (sub)segment then
	// is in at most one Children list and at most one CalledBy list, and
	// segments and orphans in none of the first, so what a walk reaches is
	// a tree: it visits nothing twice and needs no set of what it saw.
	distinct bool
	// plain: distinct, and nothing grafted. A (sub)segment's children are
	// then its own Subsegments (childrenOf), without a lookup.
	plain bool
	// small: SummarizeTrace's tree of at most maxSmallTree (sub)segments,
	// plain, its ids found by a scan of these (in smallBuf) and not filed
	// in ByID, which stays empty (assembleSmall).
	small    []*segment.Segment
	smallBuf [maxSmallTree]*segment.Segment
}

// maxSmallTree is the most (sub)segments assembleSmall takes: ~4-segment
// traces have ~10, single-segment ones 2-3.
const maxSmallTree = 16

// childrenOf is Children[x.ID].
func (tr *Tree) childrenOf(x *segment.Segment) []*segment.Segment {
	if tr.plain {
		return x.Subsegments
	}
	return tr.Children[x.ID]
}

// Assemble builds the tree of a trace (spec §6.1).
func Assemble(t *Trace) *Tree {
	n := 0
	for _, d := range t.Docs {
		n += countTree(d)
	}
	tr := &Tree{
		Children: make(map[string][]*segment.Segment, n),
		ByID:     make(map[string]*segment.Segment, n),
		CalledBy: map[string][]*segment.Segment{},
		Segments: make([]*segment.Segment, 0, len(t.Docs)),
	}
	tr.assemble(t, n, true)
	return tr
}

// assemble fills tr, whose maps are empty and slices empty (nil or
// reused), with the tree of t, which has n (sub)segments in all. Unless
// children, Children is left empty for a plain tree (childrenOf does not
// read it): SummarizeTrace's own tree.
func (tr *Tree) assemble(t *Trace, n int, children bool) {
	tr.Trace = t
	if !children && n <= maxSmallTree && tr.assembleSmall(t) {
		return
	}
	for _, d := range t.Docs {
		if children {
			tr.index(d)
		} else {
			tr.indexIDs(d)
		}
		if !d.IsIndependentSubsegment() {
			tr.Segments = append(tr.Segments, d)
		}
	}
	tr.distinct = len(tr.ByID) == n
	tr.plain = tr.distinct && !tr.grafts()
	switch {
	case len(tr.ByID) != n:
		// Some ids occur twice. index's shortcut (a parent's embedded
		// children are its Subsegments) may then order children otherwise
		// than segment.Walk would: redo it the plain way.
		clear(tr.Children)
		for _, d := range t.Docs {
			tr.indexPlain(d, nil)
		}
	case !children && !tr.plain:
		for _, d := range t.Docs {
			tr.index(d)
		}
	}
	sortByStart(tr.Segments)
	for _, d := range t.Docs {
		if d.IsIndependentSubsegment() {
			if _, ok := tr.ByID[d.ParentID]; ok && d.ParentID != d.ID {
				tr.Children[d.ParentID] = append(tr.Children[d.ParentID], d)
			} else {
				tr.Orphans = append(tr.Orphans, d)
			}
		}
	}
	tr.callers()
}

func sortByStart(segs []*segment.Segment) {
	slices.SortStableFunc(segs, func(a, b *segment.Segment) int {
		switch {
		case a.StartTime < b.StartTime:
			return -1
		case b.StartTime < a.StartTime:
			return 1
		}
		return 0
	})
}

// callers fills CalledBy and Roots from Segments.
func (tr *Tree) callers() {
	// Most callers call one segment: the lists start as one-element
	// windows of one array (capacity 1, so appending copies).
	var calledBy []*segment.Segment
	for _, s := range tr.Segments {
		if s.ParentID != "" && s.ParentID != s.ID {
			if tr.has(s.ParentID) {
				if l := tr.CalledBy[s.ParentID]; l != nil {
					tr.CalledBy[s.ParentID] = append(l, s)
				} else {
					if calledBy == nil {
						calledBy = make([]*segment.Segment, 0, len(tr.Segments))
					}
					calledBy = append(calledBy, s)
					tr.CalledBy[s.ParentID] = calledBy[len(calledBy)-1 : len(calledBy) : len(calledBy)]
				}
				continue
			}
		}
		if tr.Roots == nil {
			tr.Roots = make([]*segment.Segment, 0, len(tr.Segments))
		}
		tr.Roots = append(tr.Roots, s)
	}
}

// has reports whether a (sub)segment of the tree has id.
func (tr *Tree) has(id string) bool {
	if tr.small == nil {
		_, ok := tr.ByID[id]
		return ok
	}
	for _, x := range tr.small {
		if x.ID == id {
			return true
		}
	}
	return false
}

// ids is the number of distinct (sub)segment ids in the tree.
func (tr *Tree) ids() int {
	if tr.small != nil {
		return len(tr.small)
	}
	return len(tr.ByID)
}

// assembleSmall is assemble without ByID for a trace of at most
// maxSmallTree (sub)segments (counted by the caller), none of its
// documents an independent subsegment: its ids are compared pairwise, by
// their first eight bytes first. It reports false, having changed
// nothing, when two (sub)segments share an id. A single-segment trace's
// map inserts, lookups and clearing were ~1% of its summary's
// instructions.
func (tr *Tree) assembleSmall(t *Trace) bool {
	list := tr.smallBuf[:0]
	for _, d := range t.Docs {
		if d.IsIndependentSubsegment() {
			return false
		}
		list = appendTree(list, d)
	}
	var heads [maxSmallTree]uint64
	for i, x := range list {
		heads[i] = idHead(x.ID)
		for j := range i {
			if heads[j] == heads[i] && list[j].ID == x.ID {
				clear(list)
				return false
			}
		}
	}
	tr.small = list
	tr.distinct, tr.plain = true, true
	for _, d := range t.Docs {
		tr.Segments = append(tr.Segments, d)
	}
	if len(tr.Segments) > 1 {
		sortByStart(tr.Segments)
	}
	tr.callers()
	return true
}

// appendTree appends x and the subsegments embedded below it.
func appendTree(list []*segment.Segment, x *segment.Segment) []*segment.Segment {
	list = append(list, x)
	for _, c := range x.Subsegments {
		list = appendTree(list, c)
	}
	return list
}

// idHead is an id's first eight bytes (fewer, zero-padded, for a short
// one) as a number: two ids that differ there differ.
func idHead(id string) uint64 {
	if len(id) >= 8 {
		return uint64(id[0]) | uint64(id[1])<<8 | uint64(id[2])<<16 | uint64(id[3])<<24 |
			uint64(id[4])<<32 | uint64(id[5])<<40 | uint64(id[6])<<48 | uint64(id[7])<<56
	}
	var h uint64
	for i := len(id) - 1; i >= 0; i-- {
		h = h<<8 | uint64(id[i])
	}
	return h
}

// maxReusedTree is the most (sub)segments a tree kept for reuse may have
// held: clearing a map costs what it grew to, so a huge trace's are
// dropped rather than cleared for every small one after it.
const maxReusedTree = 1024

// reset empties tr for reuse, dropping its references to documents so that
// a kept tree holds no trace alive.
func (tr *Tree) reset() {
	if len(tr.ByID) > maxReusedTree || cap(tr.Segments) > maxReusedTree {
		*tr = Tree{}
		return
	}
	// Clearing an empty map is not free (~60 instructions): a small
	// tree's ByID and a single-segment trace's other maps are empty.
	if len(tr.Children) > 0 {
		clear(tr.Children)
	}
	if len(tr.ByID) > 0 {
		clear(tr.ByID)
	}
	if len(tr.CalledBy) > 0 {
		clear(tr.CalledBy)
	}
	// Past their lengths the slices were cleared before.
	clearFew(tr.Segments)
	clearFew(tr.Roots)
	clearFew(tr.Orphans)
	clearFew(tr.small)
	tr.small = nil
	tr.Trace, tr.distinct, tr.plain = nil, false, false
	tr.Segments, tr.Roots, tr.Orphans = tr.Segments[:0], tr.Roots[:0], tr.Orphans[:0]
}

// clearFew is clear(s), element by element for a few: clear's call to
// the runtime's bulk clearing costs ~45 instructions even for one.
func clearFew[T any](s []*T) {
	if len(s) > 8 {
		clear(s)
		return
	}
	for i := 0; i < len(s); i++ { // not a range loop, which compiles to clear
		s[i] = nil
	}
}

// countTree counts x and the subsegments embedded below it.
func countTree(x *segment.Segment) int {
	n := 1
	for _, c := range x.Subsegments {
		n += countTree(c)
	}
	return n
}

// index records x and its embedded subsegments in ByID and Children. A
// (sub)segment's embedded children are its Subsegments, capped so that
// appending to the list never writes to the document's own array.
func (tr *Tree) index(x *segment.Segment) {
	tr.ByID[x.ID] = x
	if n := len(x.Subsegments); n > 0 {
		if l, ok := tr.Children[x.ID]; ok {
			tr.Children[x.ID] = append(l, x.Subsegments...)
		} else {
			tr.Children[x.ID] = x.Subsegments[:n:n]
		}
	}
	for _, c := range x.Subsegments {
		tr.index(c)
	}
}

// indexIDs is index without Children.
func (tr *Tree) indexIDs(x *segment.Segment) {
	tr.ByID[x.ID] = x
	for _, c := range x.Subsegments {
		tr.indexIDs(c)
	}
}

// grafts reports whether assemble grafts an independent subsegment below
// its parent.
func (tr *Tree) grafts() bool {
	for _, d := range tr.Trace.Docs {
		if d.IsIndependentSubsegment() && d.ParentID != d.ID {
			if _, ok := tr.ByID[d.ParentID]; ok {
				return true
			}
		}
	}
	return false
}

// indexPlain fills Children in segment.Walk's order, as each child is
// visited.
func (tr *Tree) indexPlain(x, p *segment.Segment) {
	tr.ByID[x.ID] = x
	if p != nil {
		tr.Children[p.ID] = append(tr.Children[p.ID], x)
	}
	for _, c := range x.Subsegments {
		tr.indexPlain(c, x)
	}
}

// Walk visits every (sub)segment below x, embedded and grafted, with its parent.
func (tr *Tree) Walk(x *segment.Segment, fn func(sub, parent *segment.Segment)) {
	if tr.distinct {
		tr.walkTree(fn, x, nil)
		return
	}
	var seen idSet // on the stack: no allocation for small trees
	tr.walk(&seen, fn, x, nil)
}

// walkTree is walk for a tree whose ids are distinct.
func (tr *Tree) walkTree(fn func(sub, parent *segment.Segment), s, p *segment.Segment) {
	fn(s, p)
	for _, c := range tr.childrenOf(s) {
		tr.walkTree(fn, c, s)
	}
}

func (tr *Tree) walk(seen *idSet, fn func(sub, parent *segment.Segment), s, p *segment.Segment) {
	if !seen.add(s.ID) {
		return
	}
	fn(s, p)
	for _, c := range tr.Children[s.ID] {
		tr.walk(seen, fn, c, s)
	}
}

// idSet is a set of ids that needs no allocation while it is small: most
// traces have a few dozen (sub)segments per segment at most.
type idSet struct {
	small [32]string
	n     int
	m     map[string]struct{}
}

// add adds id and reports whether it was new.
func (s *idSet) add(id string) bool {
	if s.m != nil {
		if _, ok := s.m[id]; ok {
			return false
		}
		s.m[id] = struct{}{}
		return true
	}
	for _, x := range s.small[:s.n] {
		if x == id {
			return false
		}
	}
	if s.n < len(s.small) {
		s.small[s.n] = id
		s.n++
		return true
	}
	s.m = make(map[string]struct{}, 2*len(s.small))
	for _, x := range s.small {
		s.m[x] = struct{}{}
	}
	s.m[id] = struct{}{}
	return true
}

// NodeOf is the service-graph identity of an instrumented segment (§6.2).
func NodeOf(s *segment.Segment) NodeID {
	id := NodeID{Name: s.Name, Type: s.Origin}
	if s.AWS != nil {
		id.AccountID = s.AWS.AccountID
	}
	return id
}

// NodeID is a node's identity: name, type and account (spec §6.2).
type NodeID struct {
	Name      string `json:"Name"`
	Type      string `json:"Type,omitempty"`
	AccountID string `json:"AccountId,omitempty"`
}

// Key is a stable string form of the identity, for maps and indexes.
func (n NodeID) Key() string { return n.Name + "\x00" + n.Type + "\x00" + n.AccountID }

// ParseNodeKey is the inverse of Key.
func ParseNodeKey(k string) NodeID {
	p := strings.SplitN(k, "\x00", 3)
	for len(p) < 3 {
		p = append(p, "")
	}
	return NodeID{Name: p[0], Type: p[1], AccountID: p[2]}
}
