package filter

import (
	"math"
	"slices"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

func checkTerms(t *testing.T, e *Expr, labels []string, all map[string]*trace.Summary) {
	t.Helper()
	terms, also, ok := e.Narrowing()
	if !ok {
		return
	}
	for _, l := range labels {
		s := all[l]
		if !e.Match(s) {
			continue
		}
		for _, set := range append([]store.TermSet{terms}, also...) {
			if !slices.ContainsFunc(store.TermsOf(s), set.Has) {
				t.Fatalf("%s matches but carries none of the terms %q (narrowed to %q and %q)", l, set, terms, also)
			}
		}
	}
}

// An AND keeps its other narrowable operands, which a store intersects
// with the cheapest before it reads a summary; an OR keeps none.
func TestNarrowingKeepsTheOtherOperandsOfAnAND(t *testing.T) {
	svc := func(name string) store.TermSet {
		return store.TermSet{Terms: []store.Term{{Field: store.FieldService, Value: name}}}
	}
	slow := store.TermSet{Ranges: []store.TermRange{timeRange(store.FieldResponseTime, 3), timeRange(store.FieldDuration, 3)}}
	customer := store.TermSet{Terms: []store.Term{{Field: store.FieldAnnValue, Value: "customer\x00sc-42"}}}
	items := store.AnnotationNumberTerms("items", store.NumRange{Lo: 5, Hi: inf})
	fault := store.TermSet{Terms: []store.Term{{Field: store.FieldFlag, Value: "fault"}}}
	cases := []struct {
		expr  string
		first store.TermSet
		also  []store.TermSet
	}{
		{`duration > 3 AND service("x")`, slow, []store.TermSet{svc("x")}},
		{`service("x") AND duration > 3`, slow, []store.TermSet{svc("x")}},
		{`duration > 0.2 AND service("x")`, svc("x"), []store.TermSet{{Ranges: []store.TermRange{
			timeRange(store.FieldResponseTime, 0.2), timeRange(store.FieldDuration, 0.2)}}}},
		{`annotation.customer = "c-42" AND responsetime > 5 AND fault`, customer,
			[]store.TermSet{{Ranges: []store.TermRange{timeRange(store.FieldResponseTime, 5)}}, fault}},
		{`annotation.items > 5 AND service("x")`, svc("x"), []store.TermSet{items}},
		// Operands of nested ANDs are flattened; ties keep their order.
		{`(duration > 3 AND service("x")) AND user = "u"`, slow,
			[]store.TermSet{{Terms: []store.Term{{Field: store.FieldUser, Value: "u"}}}, svc("x")}},
		{`edge("a", "b") { responsetime > 5 }`, spanTerms(5), []store.TermSet{svc("a"), svc("b")}},
		{`service("x") { responsetime > 5 }`, spanTerms(5), []store.TermSet{svc("x")}},
		{`service("x") AND service("x")`, svc("x"), nil},
		// Never more than three further sets: each costs every candidate a lookup.
		{`user = "u" AND service("a") AND service("b") AND service("c") AND service("d")`,
			store.TermSet{Terms: []store.Term{{Field: store.FieldUser, Value: "u"}}}, []store.TermSet{svc("a"), svc("b"), svc("c")}},
		// An OR holds no conjunction for every match; a negation narrows nothing.
		{`(duration > 3 AND service("x")) OR fault`, store.TermSet{Terms: fault.Terms, Ranges: slow.Ranges}, nil},
		{`duration > 3 AND !service("x")`, slow, nil},
		{`responsetime > 1 AND service("x") OR responsetime < 1`, store.TermSet{}, nil},
	}
	for _, c := range cases {
		e, err := Parse(c.expr, Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		first, also, ok := e.Narrowing()
		if c.first.Empty() {
			if ok {
				t.Errorf("%s: narrowed to %q and %q, want a scan", c.expr, first, also)
			}
			continue
		}
		same := func(a, b store.TermSet) bool {
			return slices.Equal(a.Terms, b.Terms) && slices.Equal(a.Ranges, b.Ranges)
		}
		if !ok || !same(first, c.first) || !slices.EqualFunc(also, c.also, same) {
			t.Errorf("%s: narrowed to %q and %q (ok %v), want %q and %q", c.expr, first, also, ok, c.first, c.also)
		}
	}
}

var inf = math.Inf(1)

// spanTerms are the terms of a lower bound on a segment's or call's time.
func spanTerms(lo float64) store.TermSet {
	r := store.NumRange{Lo: lo, Hi: inf, LoIncl: true}
	var out store.TermSet
	for _, f := range []string{store.FieldResponseTime, store.FieldDuration, store.FieldSpanTime} {
		out.Ranges = append(out.Ranges, store.TimeTerms(f, r).Ranges...)
	}
	return out
}

func timeRange(f string, lo float64) store.TermRange {
	return store.TimeTerms(f, store.NumRange{Lo: lo, Hi: inf}).Ranges[0]
}

func TestTermsNarrowSelectiveExpressions(t *testing.T) {
	cases := []struct {
		expr string
		want any // []store.Term or store.TermSet; nil: cannot narrow
	}{
		{`annotation.customer = "c-42"`, []store.Term{{Field: store.FieldAnnValue, Value: "customer\x00sc-42"}}},
		{`annotation.items = 3`, []store.Term{{Field: store.FieldAnnNumber, Value: store.AnnotationNumberValue("items", 3)}}},
		{`annotation.items = -0`, []store.Term{{Field: store.FieldAnnNumber, Value: store.AnnotationNumberValue("items", 0)}}},
		{`annotation.vip = true`, []store.Term{{Field: store.FieldAnnValue, Value: "vip\x00btrue"}}},
		{`annotation.age > 29`, store.AnnotationNumberTerms("age", store.NumRange{Lo: 29, Hi: inf})},
		{`annotation.age != 29`, []store.Term{{Field: store.FieldAnnKey, Value: "age"}}},
		{`service("x") { fault }`, []store.Term{{Field: store.FieldServiceFlag, Value: "x\x00fault"}}},
		{`service("x")`, []store.Term{{Field: store.FieldService, Value: "x"}}},
		{`user = "u"`, []store.Term{{Field: store.FieldUser, Value: "u"}}},
		{`http.status = 503`, []store.Term{{Field: store.FieldHTTPStatus, Value: store.CodeValue(503)}}},
		{`http.status >= 500`, store.StatusTerms(store.NumRange{Lo: 500, Hi: inf, LoIncl: true})},
		{`http.status < 500`, nil},
		{`http.status = 200.5`, []store.Term{}}, // nothing can match
		{`http.status = 200.5 AND service("x")`, []store.Term{}},
		{`http.status = 200.5 OR service("x")`, []store.Term{{Field: store.FieldService, Value: "x"}}},
		{`responsetime > 5`, store.TimeTerms(store.FieldResponseTime, store.NumRange{Lo: 5, Hi: inf})},
		{`responsetime < 2`, nil},
		{`responsetime > 0.05`, nil},
		{`duration > 3 AND service("x")`, store.TermSet{Ranges: []store.TermRange{
			timeRange(store.FieldResponseTime, 3), timeRange(store.FieldDuration, 3)}}},
		{`duration > 0.2 AND service("x")`, []store.Term{{Field: store.FieldService, Value: "x"}}},
		{`service("x") { responsetime > 5 }`, spanTerms(5)},
		{`service("x") { responsetime < 5 }`, []store.Term{{Field: store.FieldService, Value: "x"}}},
		{`edge("a", "b") { responsetime >= 5 OR duration >= 5 }`, spanTerms(5)},
		{`responsetime > 0.5 AND !ok`, []store.Term{{Field: store.FieldFlag, Value: "fault"}, {Field: store.FieldFlag, Value: "error"}, {Field: store.FieldFlag, Value: "throttle"}, {Field: store.FieldFlag, Value: "noroot"}}},
		{`responsetime > 0.5 AND ok`, store.TermSet{Ranges: []store.TermRange{timeRange(store.FieldResponseTime, 0.5)}}},
		{`responsetime > 0.5 AND fault`, []store.Term{{Field: store.FieldFlag, Value: "fault"}}},
		{`fault OR error`, []store.Term{{Field: store.FieldFlag, Value: "fault"}, {Field: store.FieldFlag, Value: "error"}}},
		{`fault OR responsetime > 1`, store.TermSet{Terms: []store.Term{{Field: store.FieldFlag, Value: "fault"}},
			Ranges: []store.TermRange{timeRange(store.FieldResponseTime, 1)}}},
		{`fault OR responsetime < 1`, nil},
		{`!service("x")`, nil},
		{`user = "u" AND service("x")`, []store.Term{{Field: store.FieldUser, Value: "u"}}},
		{`http.status = 200 AND service("x")`, []store.Term{{Field: store.FieldService, Value: "x"}}},
		{`name = "n"`, []store.Term{{Field: store.FieldService, Value: "n"}, {Field: store.FieldException, Value: "n"}}},
		{`rootcause.fault.entity { last }`, []store.Term{{Field: store.FieldRootCause, Value: "fault"}}},
		// Untyped nodes carry no type term: found by FuzzParseAndMatch.
		{`type = ""`, nil},
		{`service(id(type: ""))`, nil},
		{`service(id(account.id: "")) AND user = "u"`, []store.Term{{Field: store.FieldUser, Value: "u"}}},
	}
	for _, c := range cases {
		e, err := Parse(c.expr, Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		got, ok := e.Terms()
		var want store.TermSet
		switch w := c.want.(type) {
		case nil:
			if ok {
				t.Errorf("%s: narrowed to %q, want a scan", c.expr, got)
			}
			continue
		case []store.Term:
			want.Terms = w
		case store.TermSet:
			want = w
		}
		if !ok || !slices.Equal(got.Terms, want.Terms) || !slices.Equal(got.Ranges, want.Ranges) {
			t.Errorf("%s: terms %q (ok %v), want %q", c.expr, got, ok, want)
		}
	}
}

// A trace whose entry point never reported is not ok, and the index finds it.
func TestNotOKFindsTracesWithoutEntryPoint(t *testing.T) {
	orphan := &trace.Summary{TraceID: "1-6b000000-000000000000000000000009", EntryPoint: -1}
	for _, expr := range []string{"!ok", "ok = false", "ok != true"} {
		e, err := Parse(expr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !e.Match(orphan) {
			t.Fatalf("%s does not match a trace without an entry point", expr)
		}
		checkTerms(t, e, []string{"orphan"}, map[string]*trace.Summary{"orphan": orphan})
	}
}
