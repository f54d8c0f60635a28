package trace

import (
	"fmt"
	"hash/fnv"
	"reflect"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// A builder kept in the pool must hold no document alive: its tree and its
// call-tree scratch are emptied when it is released.
func TestReleasedBuilderHoldsNoDocument(t *testing.T) {
	docs := []string{
		`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"a000000000000001","name":"api","start_time":100,"end_time":100.5,
		  "subsegments":[{"id":"a000000000000002","name":"DynamoDB","namespace":"aws","start_time":100.1,"end_time":100.2,"aws":{"table_name":"users"}},
		  {"id":"a000000000000003","name":"backend","namespace":"remote","start_time":100.2,"end_time":100.4}]}`,
		`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"b000000000000001","parent_id":"a000000000000003","name":"backend","start_time":100.21,"end_time":100.39}`,
		`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"c000000000000001","type":"subsegment","parent_id":"ffffffffffffffff","name":"orphan","start_time":100.3,"end_time":100.35}`,
	}
	tr := &Trace{ID: "1-5759e988-bd862e3fe1be46a994272793"}
	for _, d := range docs {
		segs, err := segment.Parse([]byte(d), segment.Options{SkipTraceEpoch: true, Stored: true})
		if err != nil {
			t.Fatal(err)
		}
		tr.Put(segs...)
	}
	b := new(builder)
	b.tree = Tree{Children: map[string][]*segment.Segment{}, ByID: map[string]*segment.Segment{}, CalledBy: map[string][]*segment.Segment{}}
	b.tree.assemble(tr, 5, false)
	if s := b.summarize(&b.tree, nil, 1); len(s.Nodes) != 3 || len(b.tree.Orphans) != 1 {
		t.Fatalf("the trace was not summarised as expected: %d nodes, %d orphans", len(s.Nodes), len(b.tree.Orphans))
	}
	if len(b.slab) == 0 && cap(b.slab) == 0 {
		t.Fatal("callTree kept no entities in the builder: the test checks nothing")
	}
	b.release()
	if b.tree.Trace != nil || len(b.tree.ByID)+len(b.tree.Children)+len(b.tree.CalledBy)+len(b.seen)+len(b.infBySub) != 0 {
		t.Fatal("a released builder's maps still hold (sub)segments")
	}
	for _, l := range [][]*segment.Segment{b.tree.Segments[:cap(b.tree.Segments)], b.tree.Roots[:cap(b.tree.Roots)], b.tree.Orphans[:cap(b.tree.Orphans)]} {
		for _, x := range l {
			if x != nil {
				t.Fatal("a released builder's tree still holds a segment")
			}
		}
	}
	for _, e := range b.slab[:cap(b.slab)] {
		if e.x != nil || e.parent != nil || e.children != nil {
			t.Fatal("a released builder's entities still hold a segment")
		}
	}
}

// inferredID is FNV-1a of "inferred:" and the id in 16 hex digits: the ids
// of inferred segments BatchGetTraces returned before must not change.
func TestInferredIDIsFNV(t *testing.T) {
	for _, id := range []string{"", "a", "a000000000000002", "0000000000000000", strings.Repeat("xyz\x00", 50)} {
		h := fnv.New64a()
		h.Write([]byte("inferred:" + id))
		want := fmt.Sprintf("%016x", h.Sum64())
		if got := inferredID(id); got != want {
			t.Errorf("inferredID(%q) = %s, want %s", id, got, want)
		}
	}
}

// release resets the builder field by field: every field it does not keep
// for the next trace must come back zero (a field added later and not
// reset would carry one trace's state into the next), and those it keeps
// empty.
func TestReleaseResetsEveryField(t *testing.T) {
	kept := map[string]bool{"buf": true, "annArena": true, "annEnds": true, "tree": true,
		"slab": true, "kids": true, "roots": true, "seen": true, "infBySub": true, "infsBuf": true}
	b := new(builder)
	for _, tr := range []*Trace{bigTrace(t, 1), bigTrace(t, 2)} {
		b.tree = Tree{Children: map[string][]*segment.Segment{}, ByID: map[string]*segment.Segment{}, CalledBy: map[string][]*segment.Segment{}}
		b.tree.assemble(tr, 100, false)
		b.summarize(&b.tree, nil, 1)
		b.release()
		v := reflect.ValueOf(b).Elem()
		for i := range v.NumField() {
			f, name := v.Field(i), v.Type().Field(i).Name
			switch {
			case !kept[name]:
				if !f.IsZero() {
					t.Errorf("field %s is not reset by release", name)
				}
			case f.Kind() == reflect.Slice || f.Kind() == reflect.Map:
				if f.Len() != 0 {
					t.Errorf("kept field %s is not emptied by release", name)
				}
			}
		}
	}
}

// bigTrace is one segment calling 30 services, 20 of them through
// DynamoDB and SQL calls (inferred), with 20 annotations and a user.
func bigTrace(t *testing.T, seed int) *Trace {
	t.Helper()
	var subs, ann []string
	for i := range 30 {
		ns, extra := "remote", ""
		if i%3 == 1 {
			ns, extra = "aws", fmt.Sprintf(`,"aws":{"table_name":"t%d"}`, i)
		}
		subs = append(subs, fmt.Sprintf(`{"id":"%016x","name":"DynamoDB%d","namespace":%q,"start_time":100.1,"end_time":100.2%s,"fault":%v}`, i+100, i, ns, extra, i%5 == 0))
	}
	for i := range 20 {
		ann = append(ann, fmt.Sprintf(`"k%d":%d`, i, i*seed))
	}
	doc := fmt.Sprintf(`{"trace_id":"1-5759e988-bd862e3fe1be46a99427279%d","id":"a00000000000000%d","name":"api","start_time":100,"end_time":100.5,"user":"u","annotations":{%s},"subsegments":[%s]}`,
		seed, seed, strings.Join(ann, ","), strings.Join(subs, ","))
	segs, err := segment.Parse([]byte(doc), segment.Options{SkipTraceEpoch: true, Stored: true})
	if err != nil {
		t.Fatal(err)
	}
	tr := &Trace{ID: segs[0].TraceID}
	tr.Put(segs...)
	return tr
}
