package graph

import (
	"math"
	"sort"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Graph accumulates node and edge statistics and renders them as the API's
// Service list (spec §6.2, §6.3).
type Graph struct {
	nodes map[trace.NodeID]*node
	edges map[[2]trace.NodeID]*Stats
	// keep: edges drawn even without a completed call (GetTraceGraph).
	keep map[[2]trace.NodeID]bool
}

type node struct {
	Stats
	// seen: the node appeared in a trace (GetTraceGraph), even without a
	// completed request.
	real, root bool
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{nodes: map[trace.NodeID]*node{}, edges: map[[2]trace.NodeID]*Stats{}, keep: map[[2]trace.NodeID]bool{}}
}

// Add adds statistics of an entity.
func (g *Graph) Add(e Entity, s *Stats) {
	if e.IsEdge() {
		from, to, ok := e.Edge()
		if !ok {
			return
		}
		k := [2]trace.NodeID{from, to}
		if g.edges[k] == nil {
			g.edges[k] = &Stats{}
		}
		g.edges[k].Add(s, 1)
		return
	}
	g.node(e.Node()).Add(s, 1)
}

func (g *Graph) node(id trace.NodeID) *node {
	n := g.nodes[id]
	if n == nil {
		n = &node{}
		g.nodes[id] = n
	}
	return n
}

// AddTrace adds one trace: its statistics, and every node it has, so that a
// trace whose requests are still in progress still draws.
func (g *Graph) AddTrace(s *trace.Summary) {
	Contribute(s, 1, func(k Key, st *Stats) { g.Add(k.Entity, st) })
	for _, n := range s.Nodes {
		x := g.node(n.NodeID)
		x.real = x.real || !n.Inferred
		x.root = x.root || n.Root
		if n.Root && !n.Inferred {
			g.node(ClientOf(n.NodeID))
			g.keepEdge([2]trace.NodeID{ClientOf(n.NodeID), n.NodeID})
		}
	}
	for _, e := range s.Edges {
		if e.From >= 0 && e.To >= 0 && e.From < len(s.Nodes) && e.To < len(s.Nodes) && e.Type == "" {
			g.keepEdge([2]trace.NodeID{s.Nodes[e.From].NodeID, s.Nodes[e.To].NodeID})
		}
	}
}

func (g *Graph) keepEdge(k [2]trace.NodeID) {
	if g.edges[k] == nil {
		g.edges[k] = &Stats{}
	}
	g.keep[k] = true
}

// Service is a node in the API's shape.
type Service struct {
	ReferenceId           int
	Name                  string
	Names                 []string
	Root                  bool    `json:",omitempty"`
	AccountId             string  `json:",omitempty"`
	Type                  string  `json:",omitempty"`
	State                 string  `json:",omitempty"`
	StartTime             float64 `json:",omitempty"`
	EndTime               float64 `json:",omitempty"`
	Edges                 []Edge
	SummaryStatistics     *Summary `json:",omitempty"`
	DurationHistogram     []Entry  `json:",omitempty"`
	ResponseTimeHistogram []Entry  `json:",omitempty"`
}

// Edge is an edge in the API's shape.
type Edge struct {
	ReferenceId           int
	StartTime             float64 `json:",omitempty"`
	EndTime               float64 `json:",omitempty"`
	SummaryStatistics     Summary
	ResponseTimeHistogram []Entry
	Aliases               []Alias
	EdgeType              string `json:",omitempty"`
}

// Alias is another identity of an edge's target.
type Alias struct {
	Name  string
	Names []string
	Type  string
}

// Summary is ServiceStatistics / EdgeStatistics.
type Summary struct {
	OkCount           int64
	ErrorStatistics   ErrorStatistics
	FaultStatistics   FaultStatistics
	TotalCount        int64
	TotalResponseTime float64
}

type ErrorStatistics struct {
	ThrottleCount, OtherCount, TotalCount int64
}

type FaultStatistics struct {
	OtherCount, TotalCount int64
}

// SummaryOf renders statistics in the API's shape.
func SummaryOf(s *Stats) Summary {
	return Summary{
		OkCount:           s.OK,
		ErrorStatistics:   ErrorStatistics{ThrottleCount: s.Throttle, OtherCount: s.ErrorOther, TotalCount: s.Throttle + s.ErrorOther},
		FaultStatistics:   FaultStatistics{OtherCount: s.Fault, TotalCount: s.Fault},
		TotalCount:        s.Total(),
		TotalResponseTime: float64(s.ResponseMicros) / 1e6,
	}
}

// Services renders the graph. start and end (epoch seconds, 0: none) clamp
// the times reported for nodes and edges.
func (g *Graph) Services(start, end float64) []Service {
	out := map[trace.NodeID][][2]trace.NodeID{}
	for k, e := range g.edges {
		if e.Empty() && !g.keep[k] {
			continue
		}
		g.node(k[0])
		g.node(k[1])
		out[k[0]] = append(out[k[0]], k)
		if _, ok := out[k[1]]; !ok {
			out[k[1]] = nil // referenced
		}
	}
	ids := make([]trace.NodeID, 0, len(g.nodes))
	for id, n := range g.nodes {
		if _, ref := out[id]; n.Empty() && !n.real && !n.root && !ref {
			continue
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		if (a.Type == trace.TypeClient) != (b.Type == trace.TypeClient) {
			return a.Type == trace.TypeClient
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.AccountID < b.AccountID
	})
	ref := make(map[trace.NodeID]int, len(ids))
	for i, id := range ids {
		ref[id] = i
	}
	services := make([]Service, 0, len(ids))
	for i, id := range ids {
		n := g.nodes[id]
		svc := Service{ReferenceId: i, Name: id.Name, Names: []string{id.Name}, AccountId: id.AccountID, Type: id.Type, State: "unknown", Edges: []Edge{}}
		svc.StartTime, svc.EndTime = clamp(&n.Stats, start, end)
		if id.Type != trace.TypeClient {
			if n.Real > 0 || n.real {
				svc.State = "active"
			}
			svc.Root = n.Root > 0 || n.root
			sum := SummaryOf(&n.Stats)
			svc.SummaryStatistics = &sum
			svc.DurationHistogram = n.Duration.Entries()
			svc.ResponseTimeHistogram = n.Response.Entries()
		}
		for _, k := range out[id] {
			e := g.edges[k]
			ed := Edge{ReferenceId: ref[k[1]], SummaryStatistics: SummaryOf(e), ResponseTimeHistogram: e.Response.Entries(), Aliases: []Alias{}}
			ed.StartTime, ed.EndTime = clamp(e, start, end)
			svc.Edges = append(svc.Edges, ed)
		}
		sort.Slice(svc.Edges, func(a, b int) bool { return svc.Edges[a].ReferenceId < svc.Edges[b].ReferenceId })
		if svc.StartTime == 0 && len(svc.Edges) > 0 {
			svc.StartTime, svc.EndTime = svc.Edges[0].StartTime, svc.Edges[0].EndTime
		}
		services = append(services, svc)
	}
	return services
}

// clamp reports a record's first start and last end within [start, end].
func clamp(s *Stats, start, end float64) (float64, float64) {
	f, l := float64(s.First), float64(s.Last)
	if f == 0 && l == 0 {
		return 0, 0
	}
	if start > 0 {
		f = math.Max(f, start)
	}
	if end > 0 && l > end {
		l = end
	}
	if l < f {
		l = f
	}
	return f, l
}
