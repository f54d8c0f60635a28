// Package trace assembles the documents of one trace into a tree and derives
// from it everything the server answers with or searches by: the trace
// summary, the service-graph nodes and edges of the trace, and the facts that
// filter expressions test (spec §1.8, §6.1, §6.5).
package trace

import (
	"sort"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// Trace is every stored document of one trace id: segments and independent
// subsegments, the latest version of each id.
type Trace struct {
	ID   string
	Docs []*segment.Segment
}

// Put merges documents into the trace. A document whose id is already
// present replaces the earlier version (in_progress -> complete). It reports
// whether anything changed.
func (t *Trace) Put(docs ...*segment.Segment) bool {
	changed := false
	for _, d := range docs {
		replaced := false
		for i, old := range t.Docs {
			if old.ID == d.ID {
				// An in-progress version arriving after the complete one
				// (UDP reorders) must not undo it.
				if !sameBytes(old.Raw, d.Raw) && !(d.InProgress && !old.InProgress) {
					t.Docs[i] = d
					changed = true
				}
				replaced = true
				break
			}
		}
		if !replaced {
			t.Docs = append(t.Docs, d)
			changed = true
		}
	}
	return changed
}

func sameBytes(a, b []byte) bool { return a != nil && string(a) == string(b) }

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
	// Owner maps every (sub)segment id to the segment it belongs to.
	Owner map[string]*segment.Segment
	// ByID maps every (sub)segment id to its (sub)segment.
	ByID map[string]*segment.Segment
	// CalledBy maps a subsegment id to the segments whose parent_id names it:
	// the callee's own segments for an instrumented downstream call.
	CalledBy map[string][]*segment.Segment
}

// Assemble builds the tree of a trace (spec §6.1).
func Assemble(t *Trace) *Tree {
	tr := &Tree{
		Trace:    t,
		Children: map[string][]*segment.Segment{},
		Owner:    map[string]*segment.Segment{},
		ByID:     map[string]*segment.Segment{},
		CalledBy: map[string][]*segment.Segment{},
	}
	for _, d := range t.Docs {
		d.Walk(func(x, p *segment.Segment) {
			tr.ByID[x.ID] = x
			if p != nil {
				tr.Children[p.ID] = append(tr.Children[p.ID], x)
			}
		})
		if !d.IsIndependentSubsegment() {
			tr.Segments = append(tr.Segments, d)
		}
	}
	sort.SliceStable(tr.Segments, func(i, j int) bool { return tr.Segments[i].StartTime < tr.Segments[j].StartTime })
	var independents []*segment.Segment
	for _, d := range t.Docs {
		if d.IsIndependentSubsegment() {
			if _, ok := tr.ByID[d.ParentID]; ok && d.ParentID != d.ID {
				tr.Children[d.ParentID] = append(tr.Children[d.ParentID], d)
				independents = append(independents, d)
			} else {
				tr.Orphans = append(tr.Orphans, d)
			}
		}
	}
	for _, s := range tr.Segments {
		if s.ParentID != "" && s.ParentID != s.ID {
			if _, ok := tr.ByID[s.ParentID]; ok {
				tr.CalledBy[s.ParentID] = append(tr.CalledBy[s.ParentID], s)
				continue
			}
		}
		tr.Roots = append(tr.Roots, s)
	}
	// Owners: walk from each segment through embedded and grafted children.
	var own func(x, seg *segment.Segment, depth int)
	own = func(x, seg *segment.Segment, depth int) {
		if depth > 1000 {
			return // a parent_id cycle among independent subsegments
		}
		if _, seen := tr.Owner[x.ID]; seen {
			return
		}
		tr.Owner[x.ID] = seg
		for _, c := range tr.Children[x.ID] {
			own(c, seg, depth+1)
		}
	}
	for _, s := range tr.Segments {
		own(s, s, 0)
	}
	for _, o := range tr.Orphans {
		own(o, nil, 0)
	}
	_ = independents
	return tr
}

// Walk visits every (sub)segment below x, embedded and grafted, with its parent.
func (tr *Tree) Walk(x *segment.Segment, fn func(sub, parent *segment.Segment)) {
	seen := map[string]bool{}
	var walk func(s, p *segment.Segment)
	walk = func(s, p *segment.Segment) {
		if seen[s.ID] {
			return
		}
		seen[s.ID] = true
		fn(s, p)
		for _, c := range tr.Children[s.ID] {
			walk(c, s)
		}
	}
	walk(x, nil)
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
