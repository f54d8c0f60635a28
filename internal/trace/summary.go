package trace

import (
	"math"
	"sort"

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
// filter keywords (`service("x") { fault }`) test.
type SegmentFact struct {
	Node       int     `json:"n"`
	ID         string  `json:"id"`
	Root       bool    `json:"r,omitempty"`
	Inferred   bool    `json:"i,omitempty"`
	Fault      bool    `json:"f,omitempty"`
	Error      bool    `json:"e,omitempty"`
	Throttle   bool    `json:"t,omitempty"`
	InProgress bool    `json:"p,omitempty"`
	Start      float64 `json:"st"`
	End        float64 `json:"et,omitempty"`
	HTTP       HTTP    `json:"h"`
	// Parent is, for an inferred segment, the caller's subsegment id.
	Parent string `json:"pa,omitempty"`
}

// ResponseTime is end - start, 0 while in progress.
func (f SegmentFact) ResponseTime() float64 {
	if f.InProgress || f.End == 0 {
		return 0
	}
	return f.End - f.Start
}

// Edge is one call from node From to node To, described by the caller's
// subsegment (or, for the client edge, by the root segment).
type Edge struct {
	From         int     `json:"f"`
	To           int     `json:"t"`
	SubsegmentID string  `json:"sid,omitempty"`
	Fault        bool    `json:"fa,omitempty"`
	Error        bool    `json:"er,omitempty"`
	Throttle     bool    `json:"th,omitempty"`
	InProgress   bool    `json:"p,omitempty"`
	Start        float64 `json:"st"`
	End          float64 `json:"et,omitempty"`
	HTTP         HTTP    `json:"h"`
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
	b := &builder{tr: tr, s: &Summary{TraceID: tr.Trace.ID, EntryPoint: -1, UpdatedAt: now}, nodeIdx: map[string]int{}}
	s := b.s
	if prev != nil {
		s.Revision = prev.Revision + 1
		s.Epoch = prev.Epoch
	}
	b.segments()
	b.infer()
	b.entryPoint()
	b.timesAndFlags()
	b.rootCauses()
	if s.Epoch == 0 {
		s.Epoch = epochOf(tr.Trace.ID, s.StartTime)
	}
	s.Bytes = tr.Trace.Bytes()
	s.SegmentCount = len(tr.Trace.Docs)
	return s
}

type builder struct {
	tr      *Tree
	s       *Summary
	nodeIdx map[string]int
	annIdx  map[string]int
	userIdx map[string]int
}

func (b *builder) node(id NodeID, inferred bool) int {
	k := id.Key()
	if i, ok := b.nodeIdx[k]; ok {
		return i
	}
	b.s.Nodes = append(b.s.Nodes, Node{NodeID: id, Names: []string{id.Name}, Inferred: inferred})
	b.nodeIdx[k] = len(b.s.Nodes) - 1
	return len(b.s.Nodes) - 1
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
		Node: node, ID: x.ID, Inferred: x.Inferred,
		Fault: x.Fault, Error: x.Error, Throttle: x.Throttle, InProgress: x.InProgress,
		Start: x.StartTime, End: x.EndTime, HTTP: httpOf(x),
	}
}

// segments records each real segment as a node and collects the trace-wide
// facts of every (sub)segment below it.
func (b *builder) segments() {
	tr, s := b.tr, b.s
	roots := map[string]bool{}
	for _, r := range tr.Roots {
		roots[r.ID] = true
	}
	for _, seg := range tr.Segments {
		n := b.node(NodeOf(seg), false)
		f := factOf(seg, n)
		f.Root = roots[seg.ID]
		if f.Root {
			s.Nodes[n].Root = true
		}
		s.Segments = append(s.Segments, f)
		if seg.ResourceARN != "" {
			s.ResourceARNs = addUnique(s.ResourceARNs, seg.ResourceARN)
		}
		if a := seg.AWS; a != nil && a.EC2 != nil {
			if a.EC2.InstanceID != "" {
				s.InstanceIDs = addUnique(s.InstanceIDs, a.EC2.InstanceID)
			}
			if a.EC2.AvailabilityZone != "" {
				s.AvailabilityZones = addUnique(s.AvailabilityZones, a.EC2.AvailabilityZone)
			}
		}
		tr.Walk(seg, func(x, _ *segment.Segment) { b.collect(x, n) })
		// Calls from this segment to instrumented callees are edges.
		tr.Walk(seg, func(x, _ *segment.Segment) {
			if x == seg {
				return
			}
			for _, callee := range tr.CalledBy[x.ID] {
				b.s.Edges = append(b.s.Edges, edgeOf(x, n, b.node(NodeOf(callee), false)))
			}
		})
	}
	for _, o := range tr.Orphans {
		tr.Walk(o, func(x, _ *segment.Segment) { b.collect(x, -1) })
	}
}

func edgeOf(x *segment.Segment, from, to int) Edge {
	return Edge{
		From: from, To: to, SubsegmentID: x.ID,
		Fault: x.Fault, Error: x.Error, Throttle: x.Throttle, InProgress: x.InProgress,
		Start: x.StartTime, End: x.EndTime, HTTP: httpOf(x),
	}
}

// collect gathers annotations, users and exceptions of one (sub)segment
// owned by node n (-1: owner unknown).
func (b *builder) collect(x *segment.Segment, n int) {
	s := b.s
	if len(x.Annotations) > 0 {
		if b.annIdx == nil {
			b.annIdx = map[string]int{}
		}
		keys := make([]string, 0, len(x.Annotations))
		for k := range x.Annotations {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := x.Annotations[k]
			ak := k + "\x00" + valueKey(v)
			i, ok := b.annIdx[ak]
			if !ok {
				if distinctKeys(s.Annotations, k) >= MaxIndexedAnnotations {
					continue
				}
				s.Annotations = append(s.Annotations, Annotation{Key: k, Value: v})
				i = len(s.Annotations) - 1
				b.annIdx[ak] = i
			}
			if n >= 0 {
				s.Annotations[i].Nodes = addUniqueInt(s.Annotations[i].Nodes, n)
			}
		}
	}
	if x.User != "" {
		if b.userIdx == nil {
			b.userIdx = map[string]int{}
		}
		i, ok := b.userIdx[x.User]
		if !ok {
			s.Users = append(s.Users, User{Name: x.User})
			i = len(s.Users) - 1
			b.userIdx[x.User] = i
		}
		if n >= 0 {
			s.Users[i].Nodes = addUniqueInt(s.Users[i].Nodes, n)
		}
	}
	if x.Cause != nil {
		for _, e := range x.Cause.Exceptions {
			s.Exceptions = append(s.Exceptions, ExceptionFact{Node: n, Type: e.Type, Message: e.Message, Remote: e.Remote})
		}
	}
}

func distinctKeys(anns []Annotation, k string) int {
	seen := map[string]bool{k: false}
	for _, a := range anns {
		seen[a.Key] = true
	}
	if seen[k] {
		return 0 // key already indexed: another value of it is fine
	}
	return len(seen) - 1
}

// ValueKey is a typed string form of an annotation value.
func valueKey(v any) string {
	switch x := v.(type) {
	case string:
		return "s" + x
	case bool:
		if x {
			return "btrue"
		}
		return "bfalse"
	case float64:
		return "n" + formatNumber(x)
	}
	return "?"
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
		d.Walk(func(x, _ *segment.Segment) {
			if x.StartTime > 0 && x.StartTime < start {
				start = x.StartTime
			}
			if !x.InProgress && x.EndTime > end {
				end = x.EndTime
			}
			if x.InProgress {
				s.IsPartial = true
			}
			if x.Throttle {
				s.HasThrottle = true
			}
			// A traced downstream call whose callee never reported.
			if (x.Traced || (x.HTTP != nil && x.HTTP.Request != nil && x.HTTP.Request.Traced)) && len(tr.CalledBy[x.ID]) == 0 {
				s.IsPartial = true
			}
		})
	}
	if math.IsInf(start, 1) {
		start = 0
	}
	s.StartTime, s.EndTime = start, end
	if end > start {
		s.Duration = end - start
	}
}

func addUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func addUniqueInt(list []int, v int) []int {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// epochOf picks the time a trace is filed under: the epoch in its id, as
// X-Ray ids carry the time of the original request, unless the id's epoch
// part is not a time at all (W3C ids converted from OpenTelemetry are
// random there), which shows as an epoch far from the trace's first start.
func epochOf(traceID string, start float64) int64 {
	ep, ok := segment.TraceEpoch(traceID)
	if ok && (start == 0 || math.Abs(float64(ep)-start) <= 86400) {
		return ep
	}
	return int64(start)
}
