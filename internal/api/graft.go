package api

import (
	"bytes"
	"encoding/json"
	"sort"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Grafting independent subsegments for BatchGetTraces (spec §1.8, §6.1).
//
// SDKs send a subsegment on its own ("type":"subsegment", "parent_id") when
// they stream a large tree (Go past 20 subsegments, Python past its
// threshold, Node with threshold 0) or for async work. X-Ray answers such a
// trace as if the tree had been sent whole: each independent subsegment is
// placed in the "subsegments" of its parent, which may be a segment, a
// subsegment embedded in one, or another independent subsegment. One whose
// parent never arrived (or whose parents form a cycle) stays a top-level
// document, so that nothing sent is ever hidden.
//
// A grafted subsegment keeps its own members, "type", "trace_id" and
// "parent_id" included, so that a client can send the answer back as the
// original documents (the terminal client's import does).
//
// Documents untouched by grafting are returned byte for byte as received;
// those that gain subsegments are re-encoded.

// graftedSegments returns a trace's stored documents as BatchGetTraces
// shows them.
func graftedSegments(docs []store.Doc) []segmentOut {
	out := make([]segmentOut, 0, len(docs))
	if !anyIndependent(docs) {
		for _, d := range docs {
			out = append(out, segmentOut{Id: d.ID, Document: string(d.Raw)})
		}
		return out
	}
	nodes := make([]*graftDoc, len(docs))
	byID := map[string]*graftObj{}
	for i, d := range docs {
		g := &graftDoc{doc: d}
		nodes[i] = g
		if err := decodeNumbers(d.Raw, &g.root); err != nil || g.root == nil {
			continue // stored documents were validated; keep it as it is
		}
	}
	// Top-level documents first: an embedded subsegment with the id of an
	// independent one is its earlier version, replaced by it (adopt).
	for _, g := range nodes {
		if id, ok := g.root["id"].(string); ok && g.root != nil {
			byID[id] = &graftObj{obj: g.root, doc: g}
		}
	}
	for _, g := range nodes {
		if g.root == nil {
			continue
		}
		g.walk(func(o map[string]any) {
			if id, ok := o["id"].(string); ok {
				if _, dup := byID[id]; !dup {
					byID[id] = &graftObj{obj: o, doc: g}
				}
			}
		})
	}
	// Graft in start time order, so that siblings come out in time order.
	order := make([]*graftDoc, 0, len(nodes))
	for _, g := range nodes {
		if g.root != nil && g.root["type"] == "subsegment" {
			if _, ok := g.root["parent_id"].(string); ok {
				order = append(order, g)
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return startOf(order[i].root) < startOf(order[j].root) })
	for _, g := range order {
		p := byID[g.root["parent_id"].(string)]
		if p == nil || p.doc.top() == g {
			continue // orphan, or a cycle of parents: stays top-level
		}
		p.adopt(g.root)
		g.into = p.doc
		p.doc.top().changed = true
	}
	for _, g := range nodes {
		if g.into != nil {
			continue
		}
		doc := string(g.doc.Raw)
		if g.changed {
			if b, err := encodeNoEscape(g.root); err == nil {
				doc = string(b)
			}
		}
		out = append(out, segmentOut{Id: g.doc.ID, Document: doc})
	}
	return out
}

// anyIndependent lets the usual trace (no independent subsegments) skip
// decoding. "subsegment" as a whole string is a type; only a document that
// has one is looked at (Python marks embedded subsegments with it too).
func anyIndependent(docs []store.Doc) bool {
	for _, d := range docs {
		if !bytes.Contains(d.Raw, []byte(`"subsegment"`)) {
			continue
		}
		var h struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(d.Raw, &h) == nil && h.Type == "subsegment" {
			return true
		}
	}
	return false
}

type graftDoc struct {
	doc     store.Doc
	root    map[string]any
	into    *graftDoc // the document it was grafted into
	changed bool
}

// top is the top-level document g ended up in.
func (g *graftDoc) top() *graftDoc {
	for n := 0; g.into != nil && n < 1<<20; n++ {
		g = g.into
	}
	return g
}

func (g *graftDoc) walk(fn func(map[string]any)) {
	var walk func(o map[string]any)
	walk = func(o map[string]any) {
		fn(o)
		subs, _ := o["subsegments"].([]any)
		for _, s := range subs {
			if m, ok := s.(map[string]any); ok {
				walk(m)
			}
		}
	}
	walk(g.root)
}

type graftObj struct {
	obj map[string]any
	doc *graftDoc
}

// adopt places child under o. A subsegment embedded with the same id is an
// earlier version of it (sent in progress with its parent), so the
// independent one replaces it.
func (o *graftObj) adopt(child map[string]any) {
	subs, _ := o.obj["subsegments"].([]any)
	id, _ := child["id"].(string)
	for i, s := range subs {
		if m, ok := s.(map[string]any); ok && m["id"] == id && id != "" {
			subs[i] = child
			return
		}
	}
	o.obj["subsegments"] = append(subs, child)
}

func startOf(o map[string]any) float64 {
	if n, ok := o["start_time"].(json.Number); ok {
		f, _ := n.Float64()
		return f
	}
	return 0
}

// decodeNumbers decodes keeping numbers as written (json.Number), so that
// a re-encoded document keeps every digit of its timestamps.
func decodeNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// encodeNoEscape encodes without escaping <, > and &, as documents hold
// URLs and SQL.
func encodeNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
