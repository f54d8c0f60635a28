package trace

import (
	"math"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// Root-cause analysis (spec §6.5; docs/service-graph.md "Root causes").
// X-Ray does not publish its algorithm; these are Roentgen's rules:
//
//   - The call tree spans services: below a (sub)segment are its
//     subsegments, the segments whose parent_id names it (the callee's own
//     segments), and the inferred segment of a downstream call.
//   - A fault (error) root cause is an entity flagged fault (error or
//     throttle) none of whose descendants is flagged the same way: the
//     deepest place the failure was seen. One RootCause per such entity.
//   - A response-time root cause starts at the entry segment and follows the
//     longest child while it covers at least half of its parent's time; the
//     entity where that stops is responsible. Coverage is an entity's
//     duration divided by the entry segment's response time.
//   - Services lists every service on the path from the entry point down to
//     the responsible entity; each service's EntityPath runs from its segment
//     down to the subsegment that called the next service (or to the
//     responsible entity).
//   - ClientImpacting: the entry segment itself carries the fault (error),
//     so the client saw it; for response time, always true.
//   - Exceptions are the entity's own `cause.exceptions` ({Name: type,
//     Message}); Remote marks subsegments that are downstream calls.

// maxRootCauses bounds each list so that a trace failing everywhere keeps a
// small summary.
const maxRootCauses = 10

// entity is one node of the cross-service call tree.
type entity struct {
	x        *segment.Segment
	inf      *Inference // set for an inferred segment (x is the caller's subsegment)
	parent   *entity
	children []*entity
	// service is the id of the segment owning the entity; for an inferred
	// segment (a leaf) it is unset, and newService compares the inferred
	// segment's id instead.
	service string
	node    NodeID
}

func (e *entity) name() string { return e.x.Name }

func (e *entity) duration() float64 {
	if e.x.InProgress || e.x.EndTime == 0 {
		return 0
	}
	return e.x.EndTime - e.x.StartTime
}

func (b *builder) callTree() []*entity {
	tr := b.tr
	infs := b.infs // set by summarize
	// A few inferences are found by a scan, more by a map (the builder's,
	// empty when it comes back from the pool).
	b.bySub = nil
	if len(infs) > maxLinear {
		if b.infBySub == nil {
			b.infBySub = make(map[string]*Inference, len(infs))
		}
		b.bySub = b.infBySub
		for i := range infs {
			b.bySub[infs[i].Sub.ID] = &infs[i]
		}
	}
	if b.seen == nil && !tr.distinct {
		b.seen = make(map[string]bool, tr.ids())
	}
	// Every id is built at most once, so one array holds all entities
	// (their addresses stay put: it never grows); the builder keeps it,
	// and the arrays below, for the next trace.
	if need := tr.ids() + len(infs); cap(b.slab) < need {
		b.slab = make([]entity, 0, need)
	}
	b.slab = b.slab[:0]
	b.kids = b.kids[:0]
	roots := b.roots[:0]
	for _, r := range tr.Roots {
		if !b.saw(r.ID) {
			roots = append(roots, b.build(r, nil, r, 0))
		}
	}
	b.roots = roots
	return roots
}

// inferenceOf is the inference of the call made by subsegment id, or nil.
func (b *builder) inferenceOf(id string) *Inference {
	if b.bySub != nil {
		return b.bySub[id]
	}
	// The last one, as the map's later assignments win.
	for i := len(b.infs) - 1; i >= 0; i-- {
		if b.infs[i].Sub.ID == id {
			return &b.infs[i]
		}
	}
	return nil
}

// saw reports whether the call tree has an entity of that id already:
// never, when ids are distinct (Tree.distinct).
func (b *builder) saw(id string) bool { return !b.tr.distinct && b.seen[id] }

func (b *builder) newEntity(e entity) *entity {
	if len(b.slab) == cap(b.slab) {
		p := new(entity) // not &e: e would be allocated on every call
		*p = e
		return p
	}
	b.slab = append(b.slab, e)
	return &b.slab[len(b.slab)-1]
}

// children is an empty list with room for n children, cut from one array
// per trace.
func (b *builder) children(n int) []*entity {
	if len(b.kids)+n > cap(b.kids) {
		// Lists cut so far keep the old array.
		b.kids = make([]*entity, 0, max(2*cap(b.kids), n, 16))
	}
	l := len(b.kids)
	b.kids = b.kids[:l+n]
	return b.kids[l : l : l+n]
}

// build makes the entity of x (below parent, owned by segment seg) and of
// everything below it.
func (b *builder) build(x *segment.Segment, parent *entity, seg *segment.Segment, depth int) *entity {
	tr := b.tr
	if !tr.distinct {
		b.seen[x.ID] = true
	}
	e := b.newEntity(entity{x: x, parent: parent, service: seg.ID, node: NodeOf(seg)})
	if depth > 200 {
		return e
	}
	kids, callees, inf := tr.childrenOf(x), tr.CalledBy[x.ID], b.inferenceOf(x.ID)
	// Room for the inferred callee too: a leaf call's list, appended to
	// from nil, was an allocation per inference.
	if n := len(kids) + len(callees) + boolInt(inf != nil); n > 0 {
		e.children = b.children(n)
	}
	for _, c := range kids {
		if !b.saw(c.ID) {
			e.children = append(e.children, b.build(c, e, seg, depth+1))
		}
	}
	for _, c := range callees {
		if !b.saw(c.ID) {
			e.children = append(e.children, b.build(c, e, c, depth+1))
		}
	}
	if inf != nil {
		e.children = append(e.children, b.newEntity(entity{x: x, inf: inf, parent: e, node: inf.Node}))
	}
	return e
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// responsePath finds the entry entity (the earliest root: entryPoint's
// choice) and the one the response-time root cause ends at (nil: none). It
// starts at the entry segment and follows the longest child while it
// covers at least half of its parent's time.
func responsePath(roots []*entity) (entry, end *entity) {
	if len(roots) == 0 {
		return nil, nil
	}
	entry = roots[0]
	for _, r := range roots[1:] {
		if r.x.StartTime < entry.x.StartTime {
			entry = r
		}
	}
	if entry.duration() <= 0 {
		return entry, nil
	}
	e := entry
	for {
		var longest *entity
		for _, c := range e.children {
			if longest == nil || c.duration() > longest.duration() {
				longest = c
			}
		}
		if longest == nil || longest.duration() < e.duration()/2 || longest.duration() == 0 {
			break
		}
		e = longest
	}
	return entry, e
}

// rootCauses fills the root causes from the call tree's roots, whose entry
// and response-time path's end responsePath found.
func (b *builder) rootCauses(roots []*entity, entry, end *entity) {
	s := b.s
	if len(roots) == 0 {
		return
	}
	isFault := func(e *entity) bool { return e.x.Fault }
	isError := func(e *entity) bool { return e.x.Error || e.x.Throttle }
	for _, r := range roots {
		s.FaultRootCauses = appendCauses(s.FaultRootCauses, r, isFault, entry.x.Fault && r == entry)
		s.ErrorRootCauses = appendCauses(s.ErrorRootCauses, r, isError, (entry.x.Error || entry.x.Throttle) && r == entry)
	}
	if end != nil {
		rt := entry.duration()
		// The coverages of the path, in one array.
		covs := b.causes.covs[:0]
		rc := causeIn(&b.causes, end, func(x *entity) RootCauseEntity {
			if len(covs) == cap(covs) {
				covs = make([]float64, 0, 8)
			}
			covs = append(covs, math.Round(x.duration()/rt*1e4)/1e4)
			return RootCauseEntity{Name: x.name(), Remote: isRemote(x), Coverage: &covs[len(covs)-1]}
		})
		rc.ClientImpacting = true
		if b.causes.rt != nil {
			b.causes.rt[0] = rc
			s.ResponseTimeRootCauses = b.causes.rt
		} else {
			s.ResponseTimeRootCauses = []RootCause{rc}
		}
	}
}

// appendCauses adds a root cause for every deepest flagged entity below r.
func appendCauses(list []RootCause, r *entity, flagged func(*entity) bool, clientImpacting bool) []RootCause {
	var visit func(e *entity) bool
	visit = func(e *entity) bool {
		below := false
		for _, c := range e.children {
			if visit(c) {
				below = true
			}
		}
		if flagged(e) && !below && len(list) < maxRootCauses {
			rc := causeOf(e, func(x *entity) RootCauseEntity {
				return RootCauseEntity{Name: x.name(), Remote: isRemote(x), Exceptions: exceptionsOf(x.x)}
			})
			rc.ClientImpacting = clientImpacting
			list = append(list, rc)
		}
		return below || flagged(e)
	}
	visit(r)
	return list
}

// causeOf describes the path from the entry point to e, service by service.
// The path's services, their names and entities are each cut from one
// array (capacity-limited windows, so appending to one copies): grown
// entity by entity they were most of a summary's allocations.
func causeOf(e *entity, describe func(*entity) RootCauseEntity) RootCause {
	return causeIn(nil, e, describe)
}

// causeArrays are the arrays a short response-time root cause is cut from,
// allocated with its summary (shortCause, longCause).
type causeArrays struct {
	rt    []RootCause
	svcs  []RootCauseService
	names []string
	ents  []RootCauseEntity
	covs  []float64
}

// causeIn is causeOf in a's arrays when the path fits them (a may be nil).
func causeIn(a *causeArrays, e *entity, describe func(*entity) RootCauseEntity) RootCause {
	var pathBuf [8]*entity
	path := pathBuf[:0]
	for x := e; x != nil; x = x.parent {
		path = append(path, x)
	}
	nsvc := 0
	for i := len(path) - 1; i >= 0; i-- {
		if newService(path[i]) {
			nsvc++
		}
	}
	var rc RootCause
	var names []string
	var ents []RootCauseEntity
	if a != nil && nsvc <= len(a.svcs) && len(path) <= len(a.ents) {
		rc.Services, names, ents = a.svcs[:0:nsvc], a.names[:nsvc:nsvc], a.ents[:len(path):len(path)]
	} else {
		rc.Services = make([]RootCauseService, 0, nsvc)
		names = make([]string, nsvc)
		ents = make([]RootCauseEntity, len(path))
	}
	start := 0 // of the current service's entities in ents
	for i := len(path) - 1; i >= 0; i-- {
		x := path[i]
		k := len(path) - 1 - i
		if newService(x) {
			if n := len(rc.Services); n > 0 {
				rc.Services[n-1].EntityPath = ents[start:k:k]
			}
			start = k
			names[len(rc.Services)] = x.node.Name
			j := len(rc.Services)
			rc.Services = append(rc.Services, RootCauseService{
				Name: x.node.Name, Names: names[j : j+1 : j+1], Type: x.node.Type,
				AccountId: x.node.AccountID, Inferred: x.inf != nil,
			})
		}
		ents[k] = describe(x)
	}
	rc.Services[len(rc.Services)-1].EntityPath = ents[start:len(path):len(path)]
	return rc
}

func isRemote(e *entity) bool {
	if e.inf != nil || e.x.IsIndependentSubsegment() && e.parent == nil {
		return false
	}
	if newService(e) {
		return false // a segment
	}
	return isCall(e.x)
}

// newService reports whether e starts a service on its path: it has no
// parent, or a parent of another service (an inferred segment's id, which
// summaries do not make, compared with its parent's).
func newService(e *entity) bool {
	switch {
	case e.parent == nil:
		return true
	case e.inf != nil:
		return !e.inf.idIs(e.parent.service)
	}
	return e.parent.service != e.service
}

func exceptionsOf(x *segment.Segment) []RootCauseException {
	if x.Cause == nil {
		return nil
	}
	var out []RootCauseException
	for _, ex := range x.Cause.Exceptions {
		out = append(out, RootCauseException{Name: ex.Type, Message: ex.Message})
	}
	return out
}
