package storetest

import (
	"context"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

func annotated(id string, epoch int64, svc string, ann map[string]any) *trace.Summary {
	s := Summary(id, epoch)
	s.Nodes[0].Name = svc
	for k, v := range ann {
		s.Annotations = append(s.Annotations, trace.Annotation{Key: k, Value: v, Nodes: []int{0}})
	}
	return s
}

func annTerm(k string, v any) store.Term {
	if f, ok := v.(float64); ok {
		return store.Term{Field: store.FieldAnnNumber, Value: store.AnnotationNumberValue(k, f)}
	}
	return store.Term{Field: store.FieldAnnValue, Value: k + "\x00" + store.AnnotationValueKey(v)}
}

func svcTerm(name string) store.Term { return store.Term{Field: store.FieldService, Value: name} }

func testTerms(t *testing.T, h *Harness) {
	ctx := context.Background()

	t.Run("AnyOfSelectsAndOrders", func(t *testing.T) {
		s := h.New(t)
		a := TraceID(Base+10, 1)
		b := TraceID(Base+4000, 2) // another partition
		c := TraceID(Base+20, 3)
		d := TraceID(Base+4000, 4)
		Put(t, s, annotated(a, Base+10, "front", map[string]any{"tier": "gold"}))
		Put(t, s, annotated(b, Base+4000, "back", map[string]any{"tier": "gold", "n": 3.0}))
		Put(t, s, annotated(c, Base+20, "back", map[string]any{"tier": "silver"}))
		Put(t, s, annotated(d, Base+4000, "front", map[string]any{"ok": true}))
		win := store.SummaryQuery{From: Base, To: Base + 8000}

		cases := []struct {
			name  string
			terms []store.Term
			want  []string
		}{
			{"one value", []store.Term{annTerm("tier", "gold")}, []string{b, a}},
			{"service", []store.Term{svcTerm("back")}, []string{b, c}},
			{"union, each trace once", []store.Term{svcTerm("back"), annTerm("tier", "gold")}, []string{b, c, a}},
			{"typed values", []store.Term{annTerm("n", 3.0)}, []string{b}},
			{"string is not number", []store.Term{annTerm("n", "3")}, nil},
			{"bool", []store.Term{annTerm("ok", true)}, []string{d}},
			{"key set", []store.Term{{Field: store.FieldAnnKey, Value: "tier"}}, []string{b, c, a}},
			{"unknown", []store.Term{svcTerm("nobody")}, nil},
		}
		for _, tc := range cases {
			q := win
			q.AnyOf = tc.terms
			if got := Collect(t, s, q); !equalIDs(got, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}
		q := win
		q.From, q.To = Base+15, Base+4000
		q.AnyOf = []store.Term{svcTerm("back"), svcTerm("front")}
		if got := Collect(t, s, q); !equalIDs(got, []string{c}) {
			t.Errorf("bounded window [Base+15, Base+4000): got %v, want [%s]", got, c)
		}
	})

	t.Run("TermsFollowTheSummary", func(t *testing.T) {
		s := h.New(t)
		id := TraceID(Base+30, 1)
		v1 := annotated(id, Base+30, "svc", map[string]any{"state": "pending"})
		Put(t, s, v1)
		v2 := annotated(id, Base+30, "svc", map[string]any{"state": "done"})
		v2.Revision = 1
		v2.HasFault = true
		if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: Base + 30, Summary: v2, Previous: v1}}); err != nil {
			t.Fatal(err)
		}
		win := store.SummaryQuery{From: Base, To: Base + 100}
		for _, tc := range []struct {
			term store.Term
			want bool
		}{
			{annTerm("state", "pending"), false},
			{annTerm("state", "done"), true},
			{svcTerm("svc"), true},
			{store.Term{Field: store.FieldFlag, Value: "fault"}, true},
		} {
			q := win
			q.AnyOf = []store.Term{tc.term}
			got := Collect(t, s, q)
			if (len(got) == 1) != tc.want || len(got) > 1 {
				t.Errorf("term %q: got %v, want found=%v", tc.term, got, tc.want)
			}
		}
	})

	t.Run("ManyTermsSameTrace", func(t *testing.T) {
		s := h.New(t)
		var ids []string
		for i := range 30 {
			ep := Base + int64(i)*300
			id := TraceID(ep, i)
			ann := map[string]any{"i": float64(i), "even": i%2 == 0, "tag": "t"}
			Put(t, s, annotated(id, ep, "svc", ann))
			ids = append([]string{id}, ids...)
		}
		q := store.SummaryQuery{From: Base, To: Base + 30*300,
			AnyOf: []store.Term{annTerm("tag", "t"), annTerm("even", true), annTerm("even", false), svcTerm("svc")}}
		if got := Collect(t, s, q); !equalIDs(got, ids) {
			t.Errorf("got %d ids %v\nwant %d %v", len(got), got, len(ids), ids)
		}
		if got := page(t, s, q, 4); !equalIDs(got, ids) {
			t.Errorf("paged: got %v", got)
		}
	})
	t.Run("OneSecondManyTraces", func(t *testing.T) {
		// Traces of one second, stored by several applies in mixed order,
		// some under both terms: each found once, newest first, in pages
		// that end and resume inside the second.
		s := h.New(t)
		var ups [3][]store.TraceUpdate
		var ids []string
		for i := range 40 {
			id := TraceID(Base+50, 1000-i*7)
			ann := map[string]any{"tag": "t"}
			if i%3 == 0 {
				ann["odd"] = true
			}
			ups[i%3] = append(ups[i%3], store.TraceUpdate{TraceID: id, Epoch: Base + 50, Summary: annotated(id, Base+50, "svc", ann)})
			ids = append(ids, id) // ids fall with i
		}
		Put(t, s, annotated(TraceID(Base+49, 1), Base+49, "svc", map[string]any{"tag": "t"}))
		ids = append(ids, TraceID(Base+49, 1))
		for _, u := range ups {
			if err := s.Apply(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		q := store.SummaryQuery{From: Base, To: Base + 100, AnyOf: []store.Term{annTerm("odd", true), annTerm("tag", "t")}}
		if got := Collect(t, s, q); !equalIDs(got, ids) {
			t.Errorf("got %v\nwant %v", got, ids)
		}
		for _, size := range []int{1, 6, 40} {
			if got := page(t, s, q, size); !equalIDs(got, ids) {
				t.Errorf("pages of %d: got %v", size, got)
			}
		}
	})

	t.Run("TermLostAndRegained", func(t *testing.T) {
		s := h.New(t)
		id := TraceID(Base+30, 1)
		prev := annotated(id, Base+30, "svc", map[string]any{"state": "open"})
		Put(t, s, prev)
		for rev, state := range []string{"closed", "open", "open"} {
			next := annotated(id, Base+30, "svc", map[string]any{"state": state})
			next.Revision = rev + 1
			if err := s.Apply(ctx, []store.TraceUpdate{{TraceID: id, Epoch: Base + 30, Summary: next, Previous: prev}}); err != nil {
				t.Fatal(err)
			}
			prev = next
		}
		q := store.SummaryQuery{From: Base, To: Base + 100, AnyOf: []store.Term{annTerm("state", "open")}}
		if got := Collect(t, s, q); !equalIDs(got, []string{id}) {
			t.Errorf("got %v, want [%s] once", got, id)
		}
		q.AnyOf = []store.Term{annTerm("state", "closed")}
		if got := Collect(t, s, q); len(got) != 0 {
			t.Errorf("a lost term still finds %v", got)
		}
	})
}
