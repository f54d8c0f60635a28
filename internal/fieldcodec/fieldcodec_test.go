package fieldcodec_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/fieldcodec"
	"github.com/roentgen-tracing/roentgen/internal/fieldcodec/fill"
)

type inner struct {
	Name  string   `json:"n"`
	Tags  []string `json:"t,omitempty"`
	Score *float64 `json:"s,omitempty"`
}

type kitchen struct {
	S      string `json:"s"`
	I      int
	I8     int8
	I32    int32
	U      uint
	U16    uint16
	F      float64
	F32    float32
	B      bool
	In     inner
	Ptr    *inner
	List   []inner
	Ints   []int
	Bytes  []byte
	Arr    [3]int
	Map    map[string]inner
	Any    any
	Anys   []any
	Nested [][]string
	Skip   string `json:"-"`
	hidden int
}

// roundTrip encodes and decodes in in both forms, failing when the two
// results differ, and returns the packed form's.
func roundTrip[T any](t *testing.T, in *T) *T {
	t.Helper()
	c, err := fieldcodec.New[T]()
	if err != nil {
		t.Fatal(err)
	}
	var outs [2]*T
	for i, c := range []*fieldcodec.Codec[T]{c, c.Packed()} {
		b, err := c.Append(nil, in)
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = new(T)
		if err := c.Decode(b, outs[i]); err != nil {
			t.Fatalf("decode (form %d): %v", i, err)
		}
	}
	if !reflect.DeepEqual(outs[0], outs[1]) {
		t.Fatalf("the plain and packed forms decode differently:\n %+v\n %+v", outs[0], outs[1])
	}
	return outs[1]
}

// The packed form stores lower-case hex digits in half the bytes and every
// other string as it is.
func TestPackedHexStrings(t *testing.T) {
	type ids struct {
		IDs []string          `json:"i"`
		M   map[string]string `json:"m"`
		One string            `json:"o"`
	}
	in := &ids{
		IDs: []string{"", "0", "ab", "abc", "ABCD", "0g", "1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad8", "é"},
		M:   map[string]string{"deadbeef": "cafe", "x": "00"},
		One: "0123456789abcdef0123456789abcdef",
	}
	if out := roundTrip(t, in); !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v, want %+v", out, in)
	}
	c, _ := fieldcodec.New[ids]()
	id := &ids{One: "0123456789abcdef0123456789abcdef"}
	plain, _ := c.Append(nil, id)
	packed, _ := c.Packed().Append(nil, id)
	if len(plain)-len(packed) != 16 {
		t.Fatalf("a 32-digit id took %d bytes packed, %d plain; want 16 fewer", len(packed), len(plain))
	}
}

func TestRoundTripEveryKind(t *testing.T) {
	for seed := range 20 {
		in := new(kitchen)
		f := &fill.Filler{}
		for range seed {
			f.Fill(new(inner)) // shift the values and interface kinds
		}
		f.Fill(in)
		in.Skip = ""
		if out := roundTrip(t, in); !reflect.DeepEqual(in, out) {
			t.Fatalf("round trip changed the value:\n in  %+v\n out %+v", in, out)
		}
	}
}

func TestZeroNilAndEmpty(t *testing.T) {
	in := &kitchen{List: []inner{}, Map: map[string]inner{}, Ints: nil, Anys: []any{nil, "x", -0.0, false}}
	out := roundTrip(t, in)
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v, want %+v", out, in)
	}
	if out.List == nil || out.Map == nil || out.Ints != nil {
		t.Fatalf("nil and empty not told apart: %#v %#v %#v", out.List, out.Map, out.Ints)
	}
	c, _ := fieldcodec.New[kitchen]()
	if b, _ := c.Append(nil, &kitchen{}); len(b) != 0 {
		t.Fatalf("zero value encodes to %d bytes, want 0", len(b))
	}
}

func TestLongNestedValues(t *testing.T) {
	in := &kitchen{In: inner{Name: string(make([]byte, 70000))}}
	for i := range 300 {
		in.List = append(in.List, inner{Name: "n", Tags: []string{string(rune('a' + i%26))}})
	}
	if out := roundTrip(t, in); !reflect.DeepEqual(in, out) {
		t.Fatal("long values changed")
	}
}

// Data written by an older or newer build decodes: fields the reader lacks
// are skipped, fields the writer lacked stay zero.
func TestSchemaEvolution(t *testing.T) {
	type v1 struct {
		A string `json:"a"`
		B []int  `json:"b"`
		C inner  `json:"c"`
		D bool   `json:"d"`
	}
	type v2 struct {
		D   bool   `json:"d"`
		New string `json:"new"`
		A   string `json:"a"`
		C   inner  `json:"c"`
		B   int    `json:"b"` // wire type changed: old values are dropped
	}
	c1, _ := fieldcodec.New[v1]()
	c2, _ := fieldcodec.New[v2]()
	b, _ := c1.Append(nil, &v1{A: "x", B: []int{1, 2}, C: inner{Name: "in"}, D: true})
	var got v2
	if err := c2.Decode(b, &got); err != nil {
		t.Fatal(err)
	}
	if want := (v2{D: true, A: "x", C: inner{Name: "in"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestUnsupportedTypes(t *testing.T) {
	type bad struct{ C chan int }
	if _, err := fieldcodec.New[bad](); err == nil {
		t.Fatal("a channel field was accepted")
	}
	c, _ := fieldcodec.New[kitchen]()
	if _, err := c.Append(nil, &kitchen{Any: []int{1}}); err == nil {
		t.Fatal("an interface holding a slice was encoded")
	}
}

func TestCorruptInputFails(t *testing.T) {
	c, _ := fieldcodec.New[kitchen]()
	in := new(kitchen)
	(&fill.Filler{}).Fill(in)
	b, _ := c.Append(nil, in)
	for cut := 1; cut < len(b); cut += 7 {
		err := c.Decode(b[:cut], new(kitchen))
		if err != nil && !errors.Is(err, fieldcodec.ErrCorrupt) {
			t.Fatalf("cut at %d: error %v does not wrap ErrCorrupt", cut, err)
		}
	}
	if err := c.Decode([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, new(kitchen)); err == nil {
		t.Fatal("garbage decoded without error")
	}
}

func FuzzDecode(f *testing.F) { fuzzDecode(f, false) }

func FuzzDecodePacked(f *testing.F) { fuzzDecode(f, true) }

func fuzzDecode(f *testing.F, packed bool) {
	c, _ := fieldcodec.New[kitchen]()
	if packed {
		c = c.Packed()
	}
	in := new(kitchen)
	(&fill.Filler{}).Fill(in)
	in.S, in.In.Name = "53995c3f42cd8ad8", "abc"
	b, _ := c.Append(nil, in)
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 's', 0x05})
	if packed { // escaped strings
		for _, s := range []string{"i-04f1657260a129b7c", "10.0.247.3"} {
			b, _ := fieldcodec.AppendEscapedString([]byte{0x0a, 's'}, s)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out kitchen
		if err := c.Decode(data, &out); err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to the same value.
		again, err := c.Append(nil, &out)
		if err != nil {
			t.Fatal(err)
		}
		var out2 kitchen
		if err := c.Decode(again, &out2); err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
	})
}

type numV1 struct {
	A  string   `json:"a"`
	B  []inner  `json:"b"`
	ID string   `json:"id"`
	X  *float64 `json:"x"`
}

type numV2 struct { // numV1 a build later: B removed, C added
	C  int      `json:"c"`
	A  string   `json:"a"`
	ID string   `json:"id"`
	X  *float64 `json:"x"`
}

type numMissing struct {
	A string `json:"a"`
	B string `json:"b"`
}

// strV1 a build later loses its string B and its string C becomes a number.
type strV1 struct {
	A  string `json:"a"`
	B  string `json:"b"`
	C  string `json:"c"`
	ID string `json:"id"`
}

type strV2 struct {
	A  string `json:"a"`
	C  int    `json:"c"`
	ID string `json:"id"`
}

func init() {
	fieldcodec.Number[strV1]("a", "b", "c", "id")
	fieldcodec.Number[strV2]("a", "-", "c", "id")
	fieldcodec.Number[numV1]("a", "b", "id", "x")
	fieldcodec.Number[numV2]("a", "-", "id", "x", "c")
	fieldcodec.Number[numMissing]("a")
}

// The packed form heads numbered types' fields by number: no keys are
// written, and data of an earlier schema reads as keyed data does.
func TestNumberedFields(t *testing.T) {
	x := 2.5
	in := &numV1{A: "first-field-value", B: []inner{{Name: "n", Tags: []string{"t"}}}, ID: "53995c3f42cd8ad8", X: &x}
	if out := roundTrip(t, in); !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v, want %+v", out, in)
	}
	c1, _ := fieldcodec.New[numV1]()
	b, err := c1.Packed().Append(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"\x01a", "\x02id", "\x01x"} {
		if strings.Contains(string(b), key) {
			t.Fatalf("the packed form holds the key %q: % x", key, b)
		}
	}
	c2, err := fieldcodec.New[numV2]()
	if err != nil {
		t.Fatal(err)
	}
	var got numV2
	if err := c2.Packed().Decode(b, &got); err != nil {
		t.Fatal(err)
	}
	if want := (numV2{A: in.A, ID: in.ID, X: &x}); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := fieldcodec.New[numMissing](); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("a field without a number: err %v, want one naming it", err)
	}
	if !fieldcodec.Numbered(reflect.TypeFor[numV1]()) || fieldcodec.Numbered(reflect.TypeFor[inner]()) {
		t.Fatal("Numbered does not report the registry")
	}
}

// TestNumberedStringFieldsAreSkipped: a reader skips a string field it no
// longer has, or whose type changed, in the packed form, hex-packed or not,
// and reads the fields after it.
func TestNumberedStringFieldsAreSkipped(t *testing.T) {
	c1, _ := fieldcodec.New[strV1]()
	c2, err := fieldcodec.New[strV2]()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []strV1{
		{A: "a", B: "not hex, and longer than its packed length", C: "53995c3f42cd8ad8", ID: "0123456789abcdef"},
		{A: "a", B: "53995c3f42cd8ad853995c3f42cd8ad8", C: "plain text value", ID: "id-1"},
	} {
		b, err := c1.Packed().Append(nil, &in)
		if err != nil {
			t.Fatal(err)
		}
		var got strV2
		if err := c2.Packed().Decode(b, &got); err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		if want := (strV2{A: in.A, ID: in.ID}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}
}
