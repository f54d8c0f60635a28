package trace

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// Summary is everything the server knows about a trace without reading its
// documents again: the TraceSummary of the API (§6.5) plus the per-node and
// per-edge facts that filter expressions and the service graph need. It is
// recomputed whenever a document of the trace arrives and stored beside it.
type Summary struct {
	TraceID string `json:"id"`
	// Epoch orders and partitions traces: the trace id's epoch, or the first
	// segment's start for ids whose epoch part is not a time (W3C ids).
	Epoch        int64   `json:"ep"`
	StartTime    float64 `json:"st"`
	EndTime      float64 `json:"et"`
	Duration     float64 `json:"du"`
	ResponseTime float64 `json:"rt"`
	HasFault     bool    `json:"hf,omitempty"`
	HasError     bool    `json:"he,omitempty"`
	HasThrottle  bool    `json:"ht,omitempty"`
	// RootOK: the entry point segment answered without error, fault or throttle.
	RootOK    bool `json:"ok,omitempty"`
	IsPartial bool `json:"pa,omitempty"`
	HTTP      HTTP `json:"http"`
	// EntryPoint indexes Nodes; -1 when the trace has no segment yet.
	EntryPoint        int             `json:"ep_node"`
	Nodes             []Node          `json:"nodes,omitempty"`
	Edges             []Edge          `json:"edges,omitempty"`
	Segments          []SegmentFact   `json:"segs,omitempty"`
	Annotations       []Annotation    `json:"ann,omitempty"`
	Users             []User          `json:"users,omitempty"`
	Exceptions        []ExceptionFact `json:"exc,omitempty"`
	ResourceARNs      []string        `json:"arns,omitempty"`
	InstanceIDs       []string        `json:"iids,omitempty"`
	AvailabilityZones []string        `json:"azs,omitempty"`
	// Root causes (§6.5), filled by the root-cause analysis.
	FaultRootCauses        []RootCause `json:"frc,omitempty"`
	ErrorRootCauses        []RootCause `json:"erc,omitempty"`
	ResponseTimeRootCauses []RootCause `json:"rrc,omitempty"`
	Revision               int         `json:"rev"`
	// UpdatedAt is when the server last changed the trace (epoch seconds).
	UpdatedAt    float64 `json:"up"`
	SegmentCount int     `json:"n"`
	Bytes        int     `json:"b"`
	// LimitExceeded marks a trace over the per-trace size limit.
	LimitExceeded bool `json:"lx,omitempty"`
}

// HTTP is the request/response data of a segment as summaries report it.
type HTTP struct {
	URL       string `json:"u,omitempty"`
	Method    string `json:"m,omitempty"`
	UserAgent string `json:"ua,omitempty"`
	ClientIP  string `json:"ip,omitempty"`
	Status    int    `json:"s,omitempty"`
}

// Node is a service-graph node seen in this trace.
type Node struct {
	NodeID
	Names    []string `json:"names,omitempty"`
	Root     bool     `json:"root,omitempty"`
	Inferred bool     `json:"inf,omitempty"`
}

// SegmentFact is one segment (real or inferred) of a node: what node-scoped
// filter keywords (`service("x") { fault }`) test. It holds no segment id:
// nothing that reads summaries needs one, and the random ids were a fifth
// of a stored summary (BatchGetTraces reads them from the documents).
type SegmentFact struct {
	Node       int     `json:"n"`
	Root       bool    `json:"r,omitempty"`
	Inferred   bool    `json:"i,omitempty"`
	Fault      bool    `json:"f,omitempty"`
	Error      bool    `json:"e,omitempty"`
	Throttle   bool    `json:"t,omitempty"`
	InProgress bool    `json:"p,omitempty"`
	Start      float64 `json:"st"`
	End        float64 `json:"et,omitempty"`
	HTTP       HTTP    `json:"h"`
}

// ResponseTime is end - start, 0 while in progress.
func (f SegmentFact) ResponseTime() float64 {
	if f.InProgress || f.End == 0 {
		return 0
	}
	return f.End - f.Start
}

// Edge is one call from node From to node To, described by the caller's
// subsegment (or, for the client edge, by the root segment). Like
// SegmentFact it holds no id of the subsegment.
type Edge struct {
	From       int     `json:"f"`
	To         int     `json:"t"`
	Fault      bool    `json:"fa,omitempty"`
	Error      bool    `json:"er,omitempty"`
	Throttle   bool    `json:"th,omitempty"`
	InProgress bool    `json:"p,omitempty"`
	Start      float64 `json:"st"`
	End        float64 `json:"et,omitempty"`
	HTTP       HTTP    `json:"h"`
	// Type is "" for a request edge and "link" for an asynchronous link.
	Type string `json:"ty,omitempty"`
}

// ResponseTime is end - start, 0 while in progress.
func (e Edge) ResponseTime() float64 {
	if e.InProgress || e.End == 0 {
		return 0
	}
	return e.End - e.Start
}

// Annotation is one distinct annotation value and the nodes that set it.
type Annotation struct {
	Key string `json:"k"`
	// Value is a string, float64 or bool.
	Value any   `json:"v"`
	Nodes []int `json:"n,omitempty"`
}

// User is one distinct `user` value and the nodes that set it.
type User struct {
	Name  string `json:"u"`
	Nodes []int  `json:"n,omitempty"`
}

// ExceptionFact is an exception recorded anywhere in the trace.
type ExceptionFact struct {
	Node    int    `json:"n"`
	Type    string `json:"t,omitempty"`
	Message string `json:"m,omitempty"`
	Remote  bool   `json:"r,omitempty"`
}

// RootCause is one element of FaultRootCauses, ErrorRootCauses or
// ResponseTimeRootCauses, in the API's own shape.
type RootCause struct {
	Services        []RootCauseService `json:"Services"`
	ClientImpacting bool               `json:"ClientImpacting"`
}

type RootCauseService struct {
	Name       string            `json:"Name"`
	Names      []string          `json:"Names"`
	Type       string            `json:"Type,omitempty"`
	AccountId  string            `json:"AccountId,omitempty"`
	EntityPath []RootCauseEntity `json:"EntityPath"`
	Inferred   bool              `json:"Inferred"`
}

type RootCauseEntity struct {
	Name       string               `json:"Name"`
	Exceptions []RootCauseException `json:"Exceptions,omitempty"`
	Remote     bool                 `json:"Remote"`
	// Coverage is set for response-time root causes only.
	Coverage *float64 `json:"Coverage,omitempty"`
}

type RootCauseException struct {
	Name    string `json:"Name"`
	Message string `json:"Message"`
}

// MaxIndexedAnnotations is X-Ray's limit on annotation keys per trace.
const MaxIndexedAnnotations = 50

// Summarize derives the summary of an assembled trace. prev is the summary
// stored before this change (nil for a new trace); now is the ingest time.
func Summarize(tr *Tree, prev *Summary, now float64) *Summary {
	b := builders.Get().(*builder)
	defer b.release()
	return b.summarize(tr, prev, now)
}

// SummarizeTrace is Summarize(Assemble(t), prev, now) for a caller that
// needs only the summary: the tree is assembled into one kept for reuse
// (its maps and slices were ~5% of the bytes single-segment ingest
// allocated).
func SummarizeTrace(t *Trace, prev *Summary, now float64) *Summary {
	b := builders.Get().(*builder)
	defer b.release()
	n := 0
	for _, d := range t.Docs {
		n += countTree(d)
	}
	tr := &b.tree
	if tr.ByID == nil {
		tr.Children = make(map[string][]*segment.Segment, n)
		tr.ByID = make(map[string]*segment.Segment, n)
		tr.CalledBy = map[string][]*segment.Segment{}
	}
	if tr.Segments == nil {
		tr.Segments = make([]*segment.Segment, 0, len(t.Docs))
	}
	tr.assemble(t, n, false)
	return b.summarize(tr, prev, now)
}

func (b *builder) summarize(tr *Tree, prev *Summary, now float64) *Summary {
	b.tr = tr
	b.infs = tr.appendInferences(b.infsBuf[:0], false)
	if cap(b.infs) > cap(b.infsBuf) {
		b.infsBuf = b.infs[:0] // grown: kept for the next trace
	}
	// The call tree and the response-time cause's path come first: the
	// path's length sizes a single-segment summary's block.
	roots := b.callTree()
	entry, rtEnd := responsePath(roots)
	b.s = b.newSummary(rtEnd)
	s := b.s
	s.TraceID, s.EntryPoint, s.UpdatedAt = tr.Trace.ID, -1, now
	if prev != nil {
		s.Revision = prev.Revision + 1
		s.Epoch = prev.Epoch
	}
	b.segments()
	b.infer()
	if len(s.Edges) == 0 {
		s.Edges = nil // preallocated for none
	}
	b.entryPoint()
	b.timesAndFlags()
	b.rootCauses(roots, entry, rtEnd)
	if s.Epoch == 0 {
		s.Epoch = EpochOf(tr.Trace.ID, s.StartTime)
	}
	s.Bytes = tr.Trace.Bytes()
	s.SegmentCount = len(tr.Trace.Docs)
	return s
}

type builder struct {
	tr *Tree
	s  *Summary
	// nodeIdx is keyed by NodeID.Key, annIdx by key \x00 valueKey. Both
	// are built only for summaries with many nodes or annotations; until
	// then lookups compare s.Nodes, and s.Annotations, in turn.
	nodeIdx map[string]int
	// nodeNUL: a node's name, type or account contains \x00, so that
	// comparing fields is not the same as comparing keys.
	nodeNUL bool
	annIdx  map[string]int
	userIdx map[string]int
	// annKeys are the distinct keys of s.Annotations.
	annKeys    []string
	annKeysBuf [8]string
	pairsBuf   [8]annPair
	// infs caches the tree's Inferences: infer and callTree both need them.
	infs []Inference
	// Scratch space, reused across calls.
	buf []byte
	// pairs are a (sub)segment's annotations, sorted by key.
	pairs []annPair
	// names and ints are the arrays oneName and oneInt cut from: the
	// summary's, never reused.
	names []string
	ints  []int
	// tree is SummarizeTrace's, emptied by release.
	tree Tree
	// callTree's scratch: its entities, its visited ids and its inferences
	// by subsegment id (for many inferences), emptied by release.
	slab     []entity
	kids     []*entity
	roots    []*entity
	seen     map[string]bool
	infBySub map[string]*Inference
	// bySub is infBySub while it holds this trace's inferences, else nil.
	bySub map[string]*Inference
	// infsBuf is the array infs is kept in, emptied by release.
	infsBuf []Inference
	// core is the block of a single-segment summary (nil for others),
	// whose arrays its lists start in.
	core *singleCore
	// causes are the block's arrays for the response-time cause.
	causes causeArrays
}

// A summary of one segment and at most one inferred callee (the
// single-segment trace: most of them) is cut, with the arrays its lists
// start in, from one block: eleven allocations, made apart, were a tenth
// of the CPU such a summary took. The block comes in four sizes, by
// whether there is a callee and how long the response-time cause's path
// is (known before the summary is, from the call tree): one size for all
// was 1792 bytes, ~400 more than the usual summary needed, and left its
// users, EC2 ids and annotations' node lists to allocations of their own.
// A list that outgrows its array is copied out as append does; the block
// lives exactly as long as its summary.
//
// singleCore is what every size holds.
type singleCore struct {
	s     Summary
	ann   [3]Annotation
	ints  [4]int
	users [1]User
	arns  [1]string
	iids  [1]string
	azs   [1]string
}

// oneNode: the segment's node and fact, no edge (1176 bytes with a short
// cause, size class 1280).
type oneNode struct {
	nodes [1]Node
	segs  [1]SegmentFact
	names [1]string
}

// twoNodes: the segment's and its callee's (1504 bytes with a short cause,
// size class 1536).
type twoNodes struct {
	nodes [2]Node
	segs  [2]SegmentFact
	edges [1]Edge
	names [2]string
}

// shortCause holds a response-time cause of one entity, longCause one of
// up to three entities in up to two services (the segment, its subsegment
// and the callee that subsegment called): with it the block is 1424 bytes
// (one node, size class 1536) or 1752 (two, 1792).
type shortCause struct {
	rt    [1]RootCause
	svcs  [1]RootCauseService
	names [1]string
	ents  [1]RootCauseEntity
	covs  [1]float64
}

type longCause struct {
	rt    [1]RootCause
	svcs  [2]RootCauseService
	names [2]string
	ents  [3]RootCauseEntity
	covs  [3]float64
}

// singleBlock allocates the block of a single-segment summary: its core,
// its nodes' arrays (N) and its response-time cause's (K), in one object
// of exactly their size.
func singleBlock[N, K any]() (*singleCore, *N, *K) {
	blk := new(struct {
		c singleCore
		n N
		k K
	})
	return &blk.c, &blk.n, &blk.k
}

func (a *shortCause) arrays() causeArrays {
	return causeArrays{a.rt[:], a.svcs[:], a.names[:], a.ents[:], a.covs[:]}
}

func (a *longCause) arrays() causeArrays {
	return causeArrays{a.rt[:], a.svcs[:], a.names[:], a.ents[:], a.covs[:]}
}

// newSummary returns an empty summary for b.tr, whose inferences b.infs
// holds and whose response-time cause ends at rtEnd (nil: none), in a
// block when the trace has one segment, else with the arrays of that
// cause when they fit those of a block.
func (b *builder) newSummary(rtEnd *entity) *Summary {
	tr := b.tr
	svcs, ents := pathShape(rtEnd)
	long := (svcs > 1 || ents > 1) && svcs <= 2 && ents <= 3 // longer: allocated apart
	if len(tr.Segments) != 1 || len(b.infs) > 1 {
		return b.plainSummary(rtEnd != nil && svcs <= 2 && ents <= 3, long)
	}
	edges := 1 - len(tr.Roots) + len(b.infs)
	var nodes []Node
	var segs []SegmentFact
	var names []string
	if len(b.infs) == 0 && edges == 0 {
		var n *oneNode
		if long {
			c, nn, k := singleBlock[oneNode, longCause]()
			b.core, n, b.causes = c, nn, k.arrays()
		} else {
			c, nn, k := singleBlock[oneNode, shortCause]()
			b.core, n, b.causes = c, nn, k.arrays()
		}
		nodes, segs, names = n.nodes[:0], n.segs[:0], n.names[:0]
	} else {
		var n *twoNodes
		if long {
			c, nn, k := singleBlock[twoNodes, longCause]()
			b.core, n, b.causes = c, nn, k.arrays()
		} else {
			c, nn, k := singleBlock[twoNodes, shortCause]()
			b.core, n, b.causes = c, nn, k.arrays()
		}
		nodes, segs, names = n.nodes[:0], n.segs[:0:1+len(b.infs)], n.names[:0]
		if edges == 1 {
			b.core.s.Edges = n.edges[:0]
		}
	}
	s := &b.core.s
	s.Nodes, s.Segments = nodes, segs
	b.names, b.ints = names, b.core.ints[:0]
	return s
}

// plainSummary is an empty summary of several segments, with the arrays
// of its response-time cause if fits (five allocations of their own,
// which were a fifth of those of a ~4-segment summary).
func (b *builder) plainSummary(fits, long bool) *Summary {
	switch {
	case !fits:
		return &Summary{}
	case long:
		blk := new(struct {
			s Summary
			k longCause
		})
		b.causes = blk.k.arrays()
		return &blk.s
	}
	blk := new(struct {
		s Summary
		k shortCause
	})
	b.causes = blk.k.arrays()
	return &blk.s
}

// pathShape counts the services and entities of the path from the entry
// point down to e, as causeIn cuts them.
func pathShape(e *entity) (svcs, ents int) {
	for x := e; x != nil; x = x.parent {
		ents++
		if newService(x) {
			svcs++
		}
	}
	return svcs, ents
}

// builders are reused from summary to summary: allocated per trace, a
// builder was ~3% of the bytes single-segment ingest allocated.
var builders = sync.Pool{New: func() any { return new(builder) }}

// release returns b to builders as a new one, keeping only its byte
// buffers, whose contents no summary refers to (map keys are copies), and
// its emptied scratch: nothing a summary holds points into them, and
// nothing in them keeps a document alive.
func (b *builder) release() {
	buf := b.buf[:0]
	if cap(buf) > 64<<10 {
		buf = nil // a huge trace's
	}
	b.tree.reset()
	bigSeen := len(b.seen) > maxReusedTree // a map keeps its size once cleared
	// Only what this trace used is cleared (the rest was cleared before):
	// clearing whole arrays, and rewriting the whole builder, cost a fifth
	// of a single-segment summary in write barriers.
	clear(b.slab)
	clearFew(b.kids)
	clearFew(b.roots)
	clear(b.infs)
	clear(b.seen)
	clear(b.infBySub)
	if b.pairs != nil {
		clear(b.pairsBuf[:])
		clear(b.annKeysBuf[:])
	}
	slab, kids, roots, seen, infBySub, infs := b.slab[:0], b.kids[:0], b.roots[:0], b.seen, b.infBySub, b.infsBuf[:0]
	if cap(slab) > maxReusedTree || cap(kids) > maxReusedTree || bigSeen || cap(infs) > maxReusedTree {
		slab, kids, roots, seen, infBySub, infs = nil, nil, nil, nil, nil, nil
	}
	b.tr, b.s = nil, nil
	b.nodeIdx, b.nodeNUL, b.annIdx, b.userIdx = nil, false, nil, nil
	b.annKeys, b.buf, b.pairs = nil, buf, nil
	b.infs, b.names, b.ints, b.bySub, b.core, b.causes = nil, nil, nil, nil, nil, causeArrays{}
	b.slab, b.kids, b.roots, b.seen, b.infBySub, b.infsBuf = slab, kids, roots, seen, infBySub, infs
	builders.Put(b)
}

// nodeKey is id.Key() in b.buf, for map lookups that do not allocate.
func (b *builder) nodeKey(id NodeID) []byte {
	b.buf = append(append(append(append(append(b.buf[:0], id.Name...), 0), id.Type...), 0), id.AccountID...)
	return b.buf
}

// maxLinear is how many nodes or annotations a summary collects before
// their lookups switch from a linear search to a map.
const maxLinear = 16

// lookupNode finds the index of a node already in the summary: the first
// one with the same Key.
func (b *builder) lookupNode(id NodeID) (int, bool) { return b.lookupNodeNUL(id, hasNUL(id)) }

// lookupNodeNUL is lookupNode for an id of which nul is hasNUL.
func (b *builder) lookupNodeNUL(id NodeID, nul bool) (int, bool) {
	if b.nodeIdx == nil {
		if !b.nodeNUL && !nul && len(b.s.Nodes) <= maxLinear {
			// Without \x00 in any part, keys are equal iff all parts are.
			for i := range b.s.Nodes {
				if b.s.Nodes[i].NodeID == id {
					return i, true
				}
			}
			return 0, false
		}
		b.nodeIdx = make(map[string]int, 2*len(b.s.Nodes)+1)
		for i := range b.s.Nodes {
			k := b.s.Nodes[i].Key()
			if _, dup := b.nodeIdx[k]; !dup {
				b.nodeIdx[k] = i
			}
		}
	}
	i, ok := b.nodeIdx[string(b.nodeKey(id))]
	return i, ok
}

// oneName is []string{name} cut from one array per summary, as a window of
// capacity 1 so that appending to it copies: one allocation for all of a
// summary's nodes' Names.
func (b *builder) oneName(name string) []string {
	if len(b.names) == cap(b.names) {
		b.names = make([]string, 0, max(cap(b.s.Nodes), 4))
	}
	b.names = append(b.names, name)
	n := len(b.names)
	return b.names[n-1 : n : n]
}

// oneInt is []int{v} cut, as oneName's, from one array per summary.
func (b *builder) oneInt(v int) []int {
	if len(b.ints) == cap(b.ints) {
		b.ints = make([]int, 0, 8)
	}
	b.ints = append(b.ints, v)
	n := len(b.ints)
	return b.ints[n-1 : n : n]
}

func hasNUL(id NodeID) bool {
	return strings.IndexByte(id.Name, 0) >= 0 || strings.IndexByte(id.Type, 0) >= 0 || strings.IndexByte(id.AccountID, 0) >= 0
}

func (b *builder) node(id NodeID, inferred bool) int {
	nul := hasNUL(id)
	if i, ok := b.lookupNodeNUL(id, nul); ok {
		return i
	}
	if b.s.Nodes == nil {
		// Every node is a segment's or an inferred callee's.
		b.s.Nodes = make([]Node, 0, len(b.tr.Segments)+len(b.infs))
	}
	b.s.Nodes = append(b.s.Nodes, Node{NodeID: id, Names: b.oneName(id.Name), Inferred: inferred})
	i := len(b.s.Nodes) - 1
	if nul {
		b.nodeNUL = true
	}
	if b.nodeIdx != nil {
		b.nodeIdx[id.Key()] = i
	}
	return i
}

// lookupAnnotation finds the annotation with key k and a value whose
// valueKey is v's: while there are few, by comparing them in turn (building
// key \x00 valueKey for each, numbers formatted, was a tenth of a
// summary's CPU), then by a map of those strings.
func (b *builder) lookupAnnotation(k string, v any) (int, bool) {
	anns := b.s.Annotations
	if b.annIdx == nil {
		if len(anns) <= maxLinear {
			for i := range anns {
				if anns[i].Key == k && sameValueKey(anns[i].Value, v) {
					return i, true
				}
			}
			return 0, false
		}
		b.annIdx = make(map[string]int, 2*len(anns))
		for i := range anns {
			b.buf = appendValueKey(append(append(b.buf[:0], anns[i].Key...), 0), anns[i].Value)
			if _, dup := b.annIdx[string(b.buf)]; !dup {
				b.annIdx[string(b.buf)] = i
			}
		}
	}
	b.buf = appendValueKey(append(append(b.buf[:0], k...), 0), v)
	i, ok := b.annIdx[string(b.buf)]
	return i, ok
}

// addAnnotationKey records annotation i (the last), whose key \x00
// valueKey lookupAnnotation left in b.buf when it used the map.
func (b *builder) addAnnotationKey(i int) {
	if b.annIdx != nil {
		b.annIdx[string(b.buf)] = i
	}
}

// sameValueKey reports whether appendValueKey writes the same for a and b.
func sameValueKey(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		if !ok {
			return false
		}
		if x != x || y != y { // NaN: all format as "NaN"
			return x != x && y != y
		}
		return x == y && math.Signbit(x) == math.Signbit(y) // "0" is not "-0"
	}
	switch b.(type) {
	case string, bool, float64:
		return false
	}
	return true // both "?"
}

func httpOf(x *segment.Segment) HTTP {
	var h HTTP
	if x.HTTP == nil {
		return h
	}
	if r := x.HTTP.Request; r != nil {
		h.URL, h.Method, h.UserAgent, h.ClientIP = r.URL, r.Method, r.UserAgent, r.ClientIP
	}
	if r := x.HTTP.Response; r != nil {
		h.Status = r.Status
	}
	return h
}

func factOf(x *segment.Segment, node int) SegmentFact {
	return SegmentFact{
		Node: node, Inferred: x.Inferred,
		Fault: x.Fault, Error: x.Error, Throttle: x.Throttle, InProgress: x.InProgress,
		Start: x.StartTime, End: x.EndTime, HTTP: httpOf(x),
	}
}

// segments records each real segment as a node and collects the trace-wide
// facts of every (sub)segment below it.
func (b *builder) segments() {
	tr, s := b.tr, b.s
	var roots map[string]bool // only for traces with many roots
	if len(tr.Roots) > 8 {
		roots = make(map[string]bool, len(tr.Roots))
		for _, r := range tr.Roots {
			roots[r.ID] = true
		}
	}
	var arns, iids, azs []string // the block's arrays for them
	if c := b.core; c != nil {
		arns, iids, azs = c.arns[:], c.iids[:], c.azs[:]
	}
	if len(tr.Segments) > 0 && s.Segments == nil {
		s.Segments = make([]SegmentFact, 0, len(tr.Segments)+len(b.infs))
	}
	if n := len(tr.Segments) - len(tr.Roots) + len(b.infs); n > 0 && s.Edges == nil {
		s.Edges = make([]Edge, 0, n)
	}
	for _, seg := range tr.Segments {
		n := b.node(NodeOf(seg), false)
		f := factOf(seg, n)
		if roots != nil {
			f.Root = roots[seg.ID]
		} else {
			f.Root = isRoot(tr.Roots, seg.ID)
		}
		if f.Root {
			s.Nodes[n].Root = true
		}
		s.Segments = append(s.Segments, f)
		if seg.ResourceARN != "" {
			s.ResourceARNs = b.addPerSegment(s.ResourceARNs, seg.ResourceARN, arns)
		}
		if a := seg.AWS; a != nil && a.EC2 != nil {
			if a.EC2.InstanceID != "" {
				s.InstanceIDs = b.addPerSegment(s.InstanceIDs, a.EC2.InstanceID, iids)
			}
			if a.EC2.AvailabilityZone != "" {
				s.AvailabilityZones = b.addPerSegment(s.AvailabilityZones, a.EC2.AvailabilityZone, azs)
			}
		}
		// One walk does both: collect touches annotations, users and
		// exceptions only, the edges part nodes and edges only.
		tr.Walk(seg, func(x, _ *segment.Segment) {
			b.collect(x, n)
			if x == seg {
				return
			}
			// Calls from this segment to instrumented callees are edges.
			for _, callee := range tr.CalledBy[x.ID] {
				b.s.Edges = append(b.s.Edges, edgeOf(x, n, b.node(NodeOf(callee), false)))
			}
		})
	}
	for _, o := range tr.Orphans {
		tr.Walk(o, func(x, _ *segment.Segment) { b.collect(x, -1) })
	}
}

func isRoot(roots []*segment.Segment, id string) bool {
	for _, r := range roots {
		if r.ID == id {
			return true
		}
	}
	return false
}

func edgeOf(x *segment.Segment, from, to int) Edge {
	return Edge{
		From: from, To: to,
		Fault: x.Fault, Error: x.Error, Throttle: x.Throttle, InProgress: x.InProgress,
		Start: x.StartTime, End: x.EndTime, HTTP: httpOf(x),
	}
}

// collect gathers annotations, users and exceptions of one (sub)segment
// owned by node n (-1: owner unknown).
func (b *builder) collect(x *segment.Segment, n int) {
	s := b.s
	if len(x.Annotations) > 0 {
		if b.pairs == nil {
			b.pairs = b.pairsBuf[:0]
			b.annKeys = b.annKeysBuf[:0]
			n := min(len(x.Annotations)*len(b.tr.Segments), MaxIndexedAnnotations)
			if b.core != nil && n <= len(b.core.ann) {
				s.Annotations = b.core.ann[:0:n]
			} else {
				s.Annotations = make([]Annotation, 0, n)
			}
		}
		// Keys and values together: looking each sorted key up again was
		// a fifth of collect's time.
		pairs := b.pairs[:0]
		for k, v := range x.Annotations {
			pairs = append(pairs, annPair{k, v})
		}
		sortPairs(pairs)
		b.pairs = pairs
		for _, p := range pairs {
			k, v := p.k, p.v
			i, ok := b.lookupAnnotation(k, v)
			if !ok {
				// A new value of a key already indexed is fine; a new key
				// only below the limit.
				if !slices.Contains(b.annKeys, k) {
					if len(b.annKeys) >= MaxIndexedAnnotations {
						continue
					}
					b.annKeys = append(b.annKeys, k)
				}
				s.Annotations = append(s.Annotations, Annotation{Key: k, Value: v})
				i = len(s.Annotations) - 1
				b.addAnnotationKey(i)
			}
			if n >= 0 {
				s.Annotations[i].Nodes = b.addNode(s.Annotations[i].Nodes, n)
			}
		}
	}
	if x.User != "" {
		i, ok := b.userIndex(x.User)
		if !ok {
			if s.Users == nil && b.core != nil {
				s.Users = b.core.users[:0]
			}
			s.Users = append(s.Users, User{Name: x.User})
			i = len(s.Users) - 1
			if b.userIdx != nil {
				b.userIdx[x.User] = i
			}
		}
		if n >= 0 {
			s.Users[i].Nodes = b.addNode(s.Users[i].Nodes, n)
		}
	}
	if x.Cause != nil {
		for _, e := range x.Cause.Exceptions {
			s.Exceptions = append(s.Exceptions, ExceptionFact{Node: n, Type: e.Type, Message: e.Message, Remote: e.Remote})
		}
	}
}

// annPair is one annotation of a (sub)segment.
type annPair struct {
	k string
	v any
}

// sortPairs sorts annotations by key (distinct: a map's), few of them by
// insertion, as slices.Sort does below 12 elements but without its
// generic dispatch, which cost as much as the sorting for two or three.
func sortPairs(p []annPair) {
	if len(p) > 12 {
		slices.SortFunc(p, func(a, b annPair) int { return strings.Compare(a.k, b.k) })
		return
	}
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j].k < p[j-1].k; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// userIndex finds a user already in the summary: by a linear search while
// there are few, then by a map.
func (b *builder) userIndex(name string) (int, bool) {
	if b.userIdx != nil {
		i, ok := b.userIdx[name]
		return i, ok
	}
	for i, u := range b.s.Users {
		if u.Name == name {
			return i, true
		}
	}
	if len(b.s.Users) >= 8 {
		b.userIdx = make(map[string]int, 2*len(b.s.Users))
		for i, u := range b.s.Users {
			if _, dup := b.userIdx[u.Name]; !dup {
				b.userIdx[u.Name] = i
			}
		}
	}
	return 0, false
}

// appendValueKey appends the typed string form of an annotation value:
// "s" string, "btrue"/"bfalse", "n" number (formatNumber), "?" otherwise.
func appendValueKey(dst []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(append(dst, 's'), x...)
	case bool:
		if x {
			return append(dst, "btrue"...)
		}
		return append(dst, "bfalse"...)
	case float64:
		return strconv.AppendFloat(append(dst, 'n'), x, 'g', -1, 64)
	}
	return append(dst, '?')
}

func (b *builder) entryPoint() {
	s := b.s
	var best *SegmentFact
	for i := range s.Segments {
		f := &s.Segments[i]
		if f.Root && !f.Inferred && (best == nil || f.Start < best.Start) {
			best = f
		}
	}
	if best == nil {
		return
	}
	s.EntryPoint = best.Node
	s.HTTP = best.HTTP
	s.HasFault, s.HasError = best.Fault, best.Error
	s.HasThrottle = best.Throttle
	s.RootOK = !best.Fault && !best.Error && !best.Throttle
	s.ResponseTime = best.ResponseTime()
}

func (b *builder) timesAndFlags() {
	s, tr := b.s, b.tr
	start, end := math.Inf(1), 0.0
	for _, d := range tr.Trace.Docs {
		b.times(d, &start, &end)
	}
	if math.IsInf(start, 1) {
		start = 0
	}
	s.StartTime, s.EndTime = start, end
	if end > start {
		s.Duration = end - start
	}
}

// times folds x and every subsegment embedded below it into the trace's
// start, end, partial and throttle flags.
func (b *builder) times(x *segment.Segment, start, end *float64) {
	s := b.s
	if x.StartTime > 0 && x.StartTime < *start {
		*start = x.StartTime
	}
	if !x.InProgress && x.EndTime > *end {
		*end = x.EndTime
	}
	if x.InProgress {
		s.IsPartial = true
	}
	if x.Throttle {
		s.HasThrottle = true
	}
	// A traced downstream call whose callee never reported.
	if (x.Traced || (x.HTTP != nil && x.HTTP.Request != nil && x.HTTP.Request.Traced)) && len(b.tr.CalledBy[x.ID]) == 0 {
		s.IsPartial = true
	}
	for _, c := range x.Subsegments {
		b.times(c, start, end)
	}
}

// addPerSegment is addUnique for a list of at most one value per
// segment, started in spare (a block's array) or with room for up to 8
// values: grown from one, they took three allocations for four segments.
func (b *builder) addPerSegment(list []string, v string, spare []string) []string {
	if list == nil {
		if spare != nil {
			list = spare[:0]
		} else {
			list = make([]string, 0, min(len(b.tr.Segments), 8))
		}
	}
	return addUnique(list, v)
}

func addUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// addNode is addUniqueInt whose first element comes from oneInt.
func (b *builder) addNode(list []int, n int) []int {
	if list == nil {
		return b.oneInt(n)
	}
	return addUniqueInt(list, n)
}

func addUniqueInt(list []int, v int) []int {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// EpochOf picks the time a trace is filed under: the epoch in its id, as
// X-Ray ids carry the time of the original request, unless the id's epoch
// part is not a time at all (W3C ids converted from OpenTelemetry are
// random there), which shows as an epoch far from the trace's first start.
func EpochOf(traceID string, start float64) int64 {
	ep, ok := segment.TraceEpoch(traceID)
	return EpochFrom(ep, ok, start)
}

// EpochFrom is EpochOf of a trace id whose epoch part segment.TraceEpoch
// has read already (idEpoch, ok), for a caller that needs both.
func EpochFrom(idEpoch int64, ok bool, start float64) int64 {
	if ok && (start == 0 || math.Abs(float64(idEpoch)-start) <= 86400) {
		return idEpoch
	}
	return int64(start)
}
