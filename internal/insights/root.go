package insights

import (
	"sort"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Root causes. Faults travel upstream: when a database fails, the service
// calling it fails its own requests, and so do that service's callers. All
// of them are anomalous in the same minutes, but only the deepest one is
// the cause. An anomalous service A is explained by an anomalous service B
// it calls when A's failed calls to B (the edge A→B as A saw it) account
// for at least half of A's excess (its bad requests beyond its baseline):
// A's trouble is B's. Following explanations from service to service ends
// at a service whose trouble is its own: the root cause. Services whose
// chains end at it are the impacted ones, and the callers of the topmost of
// them (their users, for entry points) are the impacted clients.

// explainShare is the share of a service's excess that its failed calls to
// an anomalous callee must cover for the callee to explain it.
const explainShare = 0.5

// minExplain is the fewest failed calls that explain anything: one or two
// are noise whatever the share.
const minExplain = 3

// nodeEval is a service's minute: its counts and, when anomalous, in
// which categories and by how much.
type nodeEval struct {
	id     Service
	stats  graph.Stats
	pooled graph.Stats // the last PoolMinutes minutes, this one included
	cats   []string    // anomalous categories, FAULT first
	excess float64     // bad requests beyond the baselines of cats
}

// minute is one minute of a group's statistics.
type minute struct {
	nodes map[Service]*nodeEval
	edges map[[2]Service]*graph.Stats
	// pooledEdges are the edges over the last PoolMinutes: explanations
	// are judged on them, as one quiet minute holds too few calls.
	pooledEdges map[[2]Service]*graph.Stats
}

func bad(s *graph.Stats) int64 { return s.Fault + s.Throttle + s.ErrorOther }

// roots maps every anomalous service to its root cause: itself when its
// trouble is its own. The chain may pass through a service that is not
// anomalous by its own traffic (a quiet callee, or one whose other callers
// are fine): its failures still explain its callers'.
func (m *minute) roots() map[Service]Service {
	next := func(a Service) (Service, bool) {
		ev := m.nodes[a]
		if ev == nil {
			return Service{}, false
		}
		var best Service
		var bestBad int64 = -1
		for k, e := range m.pooledEdges {
			if k[0] != a || k[1] == a {
				continue
			}
			n := bad(e)
			if n < minExplain || float64(n) < explainShare*ev.excess {
				continue
			}
			if n > bestBad || n == bestBad && lessService(k[1], best) {
				best, bestBad = k[1], n
			}
		}
		return best, bestBad >= 0
	}
	out := map[Service]Service{}
	for a, ev := range m.nodes {
		if len(ev.cats) == 0 {
			continue
		}
		cur, seen := a, map[Service]bool{a: true}
		for {
			n, ok := next(cur)
			if !ok || seen[n] {
				break // its own trouble, or a cycle: stop where it closes
			}
			seen[n] = true
			cur = n
		}
		out[a] = cur
	}
	return out
}

// impact is what one root cause touches in a minute.
type impact struct {
	services []Service // the anomalous services it explains, root first
	clients  []Service // callers of the topmost of them
	client   Counts    // their requests into the topmost
	root     Counts
}

func countsOf(s *graph.Stats) Counts {
	if s == nil {
		return Counts{}
	}
	return Counts{Fault: s.Fault, OK: s.OK, Total: s.Total()}
}

// impactOf is the impact of root r given every service's root cause.
func (m *minute) impactOf(r Service, roots map[Service]Service) impact {
	in := map[Service]bool{r: true}
	for a, ra := range roots {
		if ra == r {
			in[a] = true
		}
	}
	var im impact
	if ev := m.nodes[r]; ev != nil {
		im.root = countsOf(&ev.stats)
	}
	for s := range in {
		im.services = append(im.services, s)
	}
	sort.Slice(im.services, func(i, j int) bool {
		a, b := im.services[i], im.services[j]
		if (a == r) != (b == r) {
			return a == r
		}
		var ea, eb float64
		if n := m.nodes[a]; n != nil {
			ea = n.excess
		}
		if n := m.nodes[b]; n != nil {
			eb = n.excess
		}
		if ea != eb {
			return ea > eb
		}
		return lessService(a, b)
	})
	// The topmost impacted services have no impacted caller; their
	// callers are the impacted clients.
	hasImpactedCaller := map[Service]bool{}
	for k := range m.edges {
		if in[k[0]] && in[k[1]] && k[0] != k[1] {
			hasImpactedCaller[k[1]] = true
		}
	}
	clients := map[Service]bool{}
	for k, e := range m.edges {
		if in[k[1]] && !hasImpactedCaller[k[1]] && !in[k[0]] {
			im.client.add(countsOf(e))
			clients[k[0]] = true
		}
	}
	for c := range clients {
		im.clients = append(im.clients, c)
	}
	sort.Slice(im.clients, func(i, j int) bool { return lessService(im.clients[i], im.clients[j]) })
	return im
}

func lessService(a, b Service) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	return a.AccountID < b.AccountID
}

func isClient(s Service) bool { return s.Type == trace.TypeClient }
