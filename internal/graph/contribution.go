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
	b := append(buf[:0], 'e')
	b = binary.AppendUvarint(b, uint64(len(from)))
	b = append(b, from...)
	b = append(b, to...)
	return Entity(b)
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
	if s == nil {
		return
	}
	// Entities are built once per node, not once per request, into a pooled
	// slice: Contribute runs four times per update (statistics and RED, new
	// and previous summary). The entities themselves are fresh strings, as
	// add may keep them.
	sn := scratchNodes.Get().(*[]Entity)
	defer scratchNodes.Put(sn)
	nodes := (*sn)[:0]
	for _, n := range s.Nodes {
		nodes = append(nodes, Entity("n"+n.Name+"\x00"+n.Type+"\x00"+n.AccountID)) // "n" + Key(), one allocation
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
			emit(clientEdge(s.Nodes[f.Node].Name, string(nodes[f.Node][1:])), o, f.Start, f.End, -1, false, false)
		}
	}
	for _, e := range s.Edges {
		if e.InProgress || e.End == 0 || e.Type != "" || e.From < 0 || e.To < 0 || e.From >= len(s.Nodes) || e.To >= len(s.Nodes) {
			continue
		}
		emit(edgeEntity(string(nodes[e.From][1:]), string(nodes[e.To][1:])), outcomeOf(e.Fault, e.Error, e.Throttle), e.Start, e.End, -1, false, false)
	}
}

var (
	scratchStats = sync.Pool{New: func() any { return new(Stats) }}
	scratchNodes = sync.Pool{New: func() any { return new([]Entity) }}
)

// clientEdge is EdgeEntity(ClientOf(node), node) for a node of that name
// and key, in one allocation instead of three (the two keys and the edge).
func clientEdge(name, to string) Entity {
	var buf [128]byte
	from := len(name) + 2 + len(trace.TypeClient) // ClientOf(n).Key(): no account
	b := append(buf[:0], 'e')
	b = binary.AppendUvarint(b, uint64(from))
	b = append(b, name...)
	b = append(b, 0)
	b = append(b, trace.TypeClient...)
	b = append(b, 0)
	b = append(b, to...)
	return Entity(b)
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
