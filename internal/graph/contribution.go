package graph

import (
	"encoding/binary"
	"math"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// BucketSeconds is the finest statistics bucket. A request counts in the
// bucket of its start time, which never changes between the in-progress
// and the completed version of a segment.
const BucketSeconds = 60

// Entity names a node or an edge in statistics records.
type Entity string

// NodeEntity is the entity of a node.
func NodeEntity(n trace.NodeID) Entity { return Entity("n" + n.Key()) }

// EdgeEntity is the entity of the edge from -> to.
func EdgeEntity(from, to trace.NodeID) Entity { return edgeEntity(from.Key(), to.Key()) }

func edgeEntity(from, to string) Entity {
	var buf [128]byte
	return Entity(appendEdgeEntity(buf[:0], from, to))
}

func appendEdgeEntity(b []byte, from, to string) []byte {
	b = append(b, 'e')
	b = binary.AppendUvarint(b, uint64(len(from)))
	b = append(b, from...)
	return append(b, to...)
}

// IsEdge reports whether e is an edge.
func (e Entity) IsEdge() bool { return len(e) > 0 && e[0] == 'e' }

// Node returns a node entity's identity.
func (e Entity) Node() trace.NodeID { return trace.ParseNodeKey(string(e[1:])) }

// Edge returns an edge entity's ends; ok is false for a malformed entity.
func (e Entity) Edge() (from, to trace.NodeID, ok bool) {
	if !e.IsEdge() {
		return from, to, false
	}
	n, k := binary.Uvarint([]byte(e[1:]))
	if k <= 0 || uint64(len(e)-1-k) < n {
		return from, to, false
	}
	rest := string(e[1+k:])
	return trace.ParseNodeKey(rest[:n]), trace.ParseNodeKey(rest[n:]), true
}

// ClientOf is the client node in front of an entry-point service: named
// after the service, typed "client" (spec §6.2).
func ClientOf(n trace.NodeID) trace.NodeID {
	return trace.NodeID{Name: n.Name, Type: trace.TypeClient}
}

// Key locates a record of the finest resolution.
type Key struct {
	Bucket int64
	Entity Entity
}

// Contribute adds sign × the statistics of one trace to add, entity by
// entity and bucket by bucket. The contribution is a pure function of the
// summary, which is what keeps the aggregates exact: an update applies
// Contribute(new, +1) and Contribute(previous, -1), so late segments,
// in-progress segments completing, and a callee's segment replacing an
// inferred one all correct the statistics rather than add to them.
//
// What counts: every completed segment (real or inferred) for its node;
// every completed call for its edge, as the caller's subsegment saw it; and
// every completed entry-point segment for the edge from its client.
// In-progress segments and calls count nowhere until they complete.
//
// add must not keep the *Stats it is given: it is reused.
func Contribute(s *trace.Summary, sign int64, add func(Key, *Stats)) {
	contribute(s, sign, nil, add)
}

// entities interns entity strings for the contributions of one batch:
// its traces name the same few nodes and edges again and again, and each
// entity built afresh was an allocation per node and edge per trace.
type entities struct {
	m   map[string]Entity
	buf []byte
}

// of is the entity whose bytes are b: an earlier one with the same bytes,
// or a fresh string (with no interner).
func (es *entities) of(b []byte) Entity {
	if es == nil {
		return Entity(b)
	}
	if e, ok := es.m[string(b)]; ok {
		return e
	}
	if es.m == nil {
		es.m = make(map[string]Entity, 64)
	}
	e := Entity(b)
	es.m[string(e)] = e
	return e
}

// scratch is a buffer to build an entity's bytes in.
func (es *entities) scratch() []byte {
	if es == nil {
		return nil
	}
	return es.buf[:0]
}

func (es *entities) keep(b []byte) {
	if es != nil && cap(b) <= 4<<10 {
		es.buf = b[:0]
	}
}

// contribute is Contribute with its entities interned in es (nil: fresh
// strings). Strings are immutable, so add may keep interned ones.
func contribute(s *trace.Summary, sign int64, es *entities, add func(Key, *Stats)) {
	if s == nil {
		return
	}
	// Entities are built once per node, not once per request, into a pooled
	// slice: Contribute runs four times per update (statistics and RED, new
	// and previous summary). The entities themselves are fresh or interned
	// strings, as add may keep them.
	sn := scratchNodes.Get().(*[]Entity)
	defer scratchNodes.Put(sn)
	nodes := (*sn)[:0]
	buf := es.scratch()
	for _, n := range s.Nodes {
		if es == nil {
			nodes = append(nodes, Entity("n"+n.Name+"\x00"+n.Type+"\x00"+n.AccountID)) // "n" + Key(), one allocation
			continue
		}
		buf = append(append(append(append(append(append(buf[:0], 'n'), n.Name...), 0), n.Type...), 0), n.AccountID...)
		nodes = append(nodes, es.of(buf))
	}
	*sn = nodes
	defer clear(nodes) // the pool holds no entity of this trace
	// One Stats is reused for every emit (add does not keep it), and from
	// call to call with its histograms' capacity: allocated per trace, it
	// and its bins were 1.7% of what ingest allocated.
	one := scratchStats.Get().(*Stats)
	defer scratchStats.Put(one)
	emit := func(e Entity, o outcome, start, end, dur float64, root, real bool) {
		one.reset()
		one.observe(o, start, end, dur, sign)
		if root {
			one.Root = sign
		}
		if real {
			one.Real = sign
		}
		if sign < 0 {
			one.First, one.Last = 0, 0 // extremes only widen
		}
		add(Key{Bucket: bucketOf(start), Entity: e}, one)
	}
	for _, f := range s.Segments {
		if f.InProgress || f.End == 0 || f.Node < 0 || f.Node >= len(s.Nodes) {
			continue
		}
		o := outcomeOf(f.Fault, f.Error, f.Throttle)
		root := f.Root && !f.Inferred
		dur := f.End - f.Start
		if root && s.Duration > dur {
			dur = s.Duration
		}
		emit(nodes[f.Node], o, f.Start, f.End, dur, root, !f.Inferred)
		if root {
			var client Entity
			if es == nil {
				client = clientEdge(s.Nodes[f.Node].Name, string(nodes[f.Node][1:]))
			} else {
				buf = appendClientEdge(buf[:0], s.Nodes[f.Node].Name, string(nodes[f.Node][1:]))
				client = es.of(buf)
			}
			emit(client, o, f.Start, f.End, -1, false, false)
		}
	}
	for _, e := range s.Edges {
		if e.InProgress || e.End == 0 || e.Type != "" || e.From < 0 || e.To < 0 || e.From >= len(s.Nodes) || e.To >= len(s.Nodes) {
			continue
		}
		var edge Entity
		if es == nil {
			edge = edgeEntity(string(nodes[e.From][1:]), string(nodes[e.To][1:]))
		} else {
			buf = appendEdgeEntity(buf[:0], string(nodes[e.From][1:]), string(nodes[e.To][1:]))
			edge = es.of(buf)
		}
		emit(edge, outcomeOf(e.Fault, e.Error, e.Throttle), e.Start, e.End, -1, false, false)
	}
	es.keep(buf)
}

var (
	scratchStats = sync.Pool{New: func() any { return new(Stats) }}
	scratchNodes = sync.Pool{New: func() any { return new([]Entity) }}
)

// clientEdge is EdgeEntity(ClientOf(node), node) for a node of that name
// and key, in one allocation instead of three (the two keys and the edge).
func clientEdge(name, to string) Entity {
	var buf [128]byte
	return Entity(appendClientEdge(buf[:0], name, to))
}

func appendClientEdge(b []byte, name, to string) []byte {
	from := len(name) + 2 + len(trace.TypeClient) // ClientOf(n).Key(): no account
	b = append(b, 'e')
	b = binary.AppendUvarint(b, uint64(from))
	b = append(b, name...)
	b = append(b, 0)
	b = append(b, trace.TypeClient...)
	b = append(b, 0)
	return append(b, to...)
}

func bucketOf(t float64) int64 {
	b := int64(math.Floor(t))
	return b - mod(b, BucketSeconds)
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
