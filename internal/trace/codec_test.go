package trace

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/fieldcodec"
	"github.com/roentgen-tracing/roentgen/internal/fieldcodec/fill"
)

// Every field of Summary, including ones added after this test, survives
// the stored form: the filler sets all of them by reflection.
func TestSummaryCodecKeepsEveryField(t *testing.T) {
	for seed := range 10 {
		f := &fill.Filler{}
		for range seed {
			f.Fill(new(HTTP))
		}
		in := new(Summary)
		f.Fill(in)
		b, err := EncodeSummary(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := DecodeSummary(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, out) {
			ij, _ := json.Marshal(in)
			oj, _ := json.Marshal(out)
			t.Fatalf("round trip changed the summary:\n in  %s\n out %s", ij, oj)
		}
	}
}

// Summaries stored as JSON or in the keyed form by earlier builds still
// decode.
func TestDecodeSummaryReadsJSON(t *testing.T) {
	in := &Summary{TraceID: "1-5759e988-bd862e3fe1be46a994272793", Epoch: 1465510280, EntryPoint: 0,
		Nodes: []Node{{NodeID: NodeID{Name: "web"}, Root: true}}, Annotations: []Annotation{{Key: "k", Value: "v", Nodes: []int{0}}}}
	b, _ := json.Marshal(in)
	out, err := DecodeSummary(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v, want %+v", out, in)
	}
	// The keyed binary form (format 0x01, before ids were packed).
	keyed, err := summaryCodec.Append([]byte{summaryKeyed}, in)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := DecodeSummary(keyed); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("keyed form: got %+v, %v; want %+v", out, err, in)
	}
	if _, err := DecodeSummary([]byte{0x7f, 1, 2}); err == nil {
		t.Fatal("an unknown format decoded")
	}
}

// Every struct type a summary holds has field numbers: one added without
// them would be stored keyed inside the packed form, and numbering it
// later would misread what was stored.
func TestEverySummaryTypeIsNumbered(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(ty.Elem())
		case reflect.Map:
			walk(ty.Key())
			walk(ty.Elem())
		case reflect.Struct:
			if seen[ty] {
				return
			}
			seen[ty] = true
			if !fieldcodec.Numbered(ty) {
				t.Errorf("%s has no field numbers: add it to numberSummaryFields", ty)
			}
			for i := range ty.NumField() {
				if ty.Field(i).IsExported() {
					walk(ty.Field(i).Type)
				}
			}
		}
	}
	walk(reflect.TypeFor[Summary]())
}

// A summary stored under its trace id leaves the id out and reads back
// whole with it; stored under another id, or read by DecodeSummary, it
// keeps its own.
func TestSummaryUnderItsTraceID(t *testing.T) {
	in := &Summary{TraceID: "1-5759e988-bd862e3fe1be46a994272793", Epoch: 1465510280, EntryPoint: -1}
	under, err := AppendSummaryUnder(nil, in, in.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := EncodeSummary(in)
	if len(plain)-len(under) < 17 {
		t.Fatalf("stored under its id: %d bytes, %d with it", len(under), len(plain))
	}
	if out, err := DecodeSummaryUnder(under, in.TraceID); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v, %v; want %+v", out, err, in)
	}
	other, _ := AppendSummaryUnder(nil, in, "1-00000000-000000000000000000000000")
	if out, err := DecodeSummaryUnder(other, "1-00000000-000000000000000000000000"); err != nil || out.TraceID != in.TraceID {
		t.Fatalf("stored under another id: %+v, %v", out, err)
	}
	if out, err := DecodeSummaryUnder(plain, "x"); err != nil || out.TraceID != in.TraceID {
		t.Fatalf("stored with its id, read under another: %+v, %v", out, err)
	}
}
