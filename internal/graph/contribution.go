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
	if s == nil {
		return
	}
	// One Stats is reused for every emit (add does not keep it), and from
	// call to call with its histograms' capacity.
	one := scratchStats.Get().(*Stats)
	defer scratchStats.Put(one)
	contribute(s, sign, nil, func(e Entity, _ int32, bucket int64, ob *request) {
		one.reset()
		one.addRequest(ob)
		add(Key{Bucket: bucket, Entity: e}, one)
	})
}

// request is one completed request of a contribution, as Contribute hands
// it to add in a Stats of its own; the ingest path adds it to its sums
// directly (Stats.addRequest), its bins and rounding computed once however
// many sums it goes to, rather than merging one-bin histograms.
type request struct {
	sign               int64
	outcome            outcome
	root, real         bool
	hasDuration        bool
	micros             int64 // response time, rounded
	response, duration int64 // bins (BinOf)
	first, last        int64 // start and end, widened to whole seconds
}

// set makes r the request of one completed segment or call; dur < 0: none.
func (r *request) set(o outcome, start, end, dur float64, root, real bool) {
	rt := end - start
	r.outcome, r.root, r.real = o, root, real
	r.micros = int64(math.Round(rt * 1e6))
	r.response = BinOf(rt)
	r.hasDuration = dur >= 0
	if r.hasDuration {
		r.duration = BinOf(dur)
	}
	r.first, r.last = int64(math.Floor(start)), int64(math.Ceil(end))
}

// entities interns entity strings for the contributions of one batch:
// its traces name the same few nodes and edges again and again, and each
// entity built afresh was an allocation per node and edge per trace. Each
// has a small number too, so the batch's sums are keyed by numbers rather
// than by hashing strings.
type entities struct {
	m    map[string]int32
	list []Entity
	buf  []byte
	// nodes is contribute's scratch when it interns here: its builder
	// contributes one summary at a time (a pool's Get and Put were ~100
	// instructions per trace).
	nodes nodeEntities
}

// of is the entity whose bytes are b and its number: an earlier one with
// the same bytes, or a fresh string (numbered -1 with no interner).
func (es *entities) of(b []byte) (Entity, int32) {
	if es == nil {
		return Entity(b), -1
	}
	if id, ok := es.m[string(b)]; ok {
		return es.list[id], id
	}
	if es.m == nil {
		es.m = make(map[string]int32, 64)
	}
	e := Entity(b)
	id := int32(len(es.list))
	es.list = append(es.list, e)
	es.m[string(e)] = id
	return e, id
}

// reset forgets the entities (a pooled builder's), keeping the memory of
// a batch of usual size.
func (es *entities) reset() {
	if len(es.list) > 4096 {
		es.m, es.list = nil, nil
	}
	clear(es.m)
	clear(es.list)
	es.list = es.list[:0]
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

// nodeEntities is contribute's pooled scratch: a summary's node entities
// and their numbers.
type nodeEntities struct {
	es  []Entity
	ids []int32
	r   request // handed to add: here, not escaping per call
}

// contribute is Contribute with its entities interned in es (nil: fresh
// strings, numbered -1). Strings are immutable, so add may keep interned
// ones; it must not keep the *request.
func contribute(s *trace.Summary, sign int64, es *entities, add func(e Entity, id int32, bucket int64, r *request)) {
	if s == nil {
		return
	}
	// Entities are built once per node, not once per request, into a pooled
	// slice: Contribute runs four times per update (statistics and RED, new
	// and previous summary). The entities themselves are fresh or interned
	// strings, as add may keep them.
	var sn *nodeEntities
	if es != nil {
		sn = &es.nodes
	} else {
		sn = scratchNodes.Get().(*nodeEntities)
		defer scratchNodes.Put(sn)
	}
	nodes, ids := sn.es[:0], sn.ids[:0]
	buf := es.scratch()
	// The lists are read in place: ranged over by value, their elements
	// (80 to 128 bytes) were copied, a tenth of contribute's time.
	for i := range s.Nodes {
		n := &s.Nodes[i]
		if es == nil {
			nodes = append(nodes, Entity("n"+n.Name+"\x00"+n.Type+"\x00"+n.AccountID)) // "n" + Key(), one allocation
			ids = append(ids, -1)
			continue
		}
		buf = append(append(append(append(append(append(buf[:0], 'n'), n.Name...), 0), n.Type...), 0), n.AccountID...)
		e, id := es.of(buf)
		nodes, ids = append(nodes, e), append(ids, id)
	}
	sn.es, sn.ids = nodes, ids
	defer clear(nodes) // the pool holds no entity of this trace
	r := &sn.r
	*r = request{sign: sign}
	emit := func(e Entity, id int32, o outcome, start, end, dur float64, root, real bool) {
		r.set(o, start, end, dur, root, real)
		add(e, id, bucketOf(start), r)
	}
	for i := range s.Segments {
		f := &s.Segments[i]
		if f.InProgress || f.End == 0 || f.Node < 0 || f.Node >= len(s.Nodes) {
			continue
		}
		o := outcomeOf(f.Fault, f.Error, f.Throttle)
		root := f.Root && !f.Inferred
		dur := f.End - f.Start
		if root && s.Duration > dur {
			dur = s.Duration
		}
		emit(nodes[f.Node], ids[f.Node], o, f.Start, f.End, dur, root, !f.Inferred)
		if root {
			var client Entity
			id := int32(-1)
			if es == nil {
				client = clientEdge(s.Nodes[f.Node].Name, string(nodes[f.Node][1:]))
			} else {
				buf = appendClientEdge(buf[:0], s.Nodes[f.Node].Name, string(nodes[f.Node][1:]))
				client, id = es.of(buf)
			}
			emit(client, id, o, f.Start, f.End, -1, false, false)
		}
	}
	for i := range s.Edges {
		e := &s.Edges[i]
		if e.InProgress || e.End == 0 || e.Type != "" || e.From < 0 || e.To < 0 || e.From >= len(s.Nodes) || e.To >= len(s.Nodes) {
			continue
		}
		var edge Entity
		id := int32(-1)
		if es == nil {
			edge = edgeEntity(string(nodes[e.From][1:]), string(nodes[e.To][1:]))
		} else {
			buf = appendEdgeEntity(buf[:0], string(nodes[e.From][1:]), string(nodes[e.To][1:]))
			edge, id = es.of(buf)
		}
		emit(edge, id, outcomeOf(e.Fault, e.Error, e.Throttle), e.Start, e.End, -1, false, false)
	}
	es.keep(buf)
}

var (
	scratchStats = sync.Pool{New: func() any { return new(Stats) }}
	scratchNodes = sync.Pool{New: func() any { return new(nodeEntities) }}
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
