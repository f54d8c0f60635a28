// Package fieldcodec is a compact, fast binary encoding of Go structs that
// covers every exported field by reflection, so a field added to a stored
// type is stored without anyone touching the codec. It exists because trace
// summaries are decoded by the hundred thousand per search: JSON, CBOR and
// msgpack spend most of that time on field-name matching and reflection,
// while this codec compiles a plan per type once and decodes through it.
//
// Fields are keyed by name (the json tag name when there is one), so data
// written before a field was added or removed still decodes: unknown keys
// are skipped, missing ones stay zero. Renaming a field's key loses its
// stored values, and so does changing its type to one of another wire type
// (a type change within one wire type needs a new key). Zero values are omitted; nil and empty slices and maps are
// told apart, as JSON tells them apart.
//
// Wire format. A struct is a run of fields; a field is
// uvarint(len(key)<<3|wire), the key, then the value. Wire types: varint
// (signed ints zigzag-encoded, unsigned ints, bools), fixed64 (float64),
// fixed32 (float32), and bytes (uvarint length then payload) for strings,
// structs, slices, maps, pointers to those and interfaces. A slice's payload
// is uvarint(count) then its elements without keys; a map's is the count
// then key, value pairs. An interface holds nil, a string, a float64, a bool
// or an int64, tagged with one byte. The packed form (Codec.Packed) writes
// strings as uvarint(len<<1|packed) then the bytes, or, with packed set,
// the string's lower-case hex digits two to a byte (or, escaped, in forms
// other writers produce: escapedStr), and heads the fields of struct types
// given numbers (Number) by uvarint(number<<3|wire).
package fieldcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 3
	// wirePackedString heads a string field of the packed form, whose
	// length prefix (uvarint(len<<1|hex)) is not a byte count: a reader
	// without the field must know it to skip it.
	wirePackedString = 4
)

// Codec encodes and decodes values of type T.
type Codec[T any] struct {
	plan   *structPlan
	packed bool
}

// Packed is the codec of T in the packed form: every string is stored as
// uvarint(len<<1|packed), and a string of an even number of lower-case hex
// digits (segment ids, trace ids' random part) as half as many bytes, with
// packed set. Ids are most of a trace summary's bytes, and block compressors
// store hex text in ~1.4 bytes per byte of binary. The packed form is not
// the plain one: callers tell them apart by a version of their own.
func (c *Codec[T]) Packed() *Codec[T] { return &Codec[T]{plan: c.plan, packed: true} }

// New compiles the plan of T, a struct type. It fails when T has an
// exported field of a kind the codec cannot store (channels, functions,
// complex numbers), so a test that calls New catches such a field at once.
func New[T any]() (*Codec[T], error) {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("fieldcodec: %s is not a struct", t)
	}
	p, err := planStruct(t, map[reflect.Type]*structPlan{})
	if err != nil {
		return nil, err
	}
	return &Codec[T]{plan: p}, nil
}

// Append appends the encoding of *v to dst.
func (c *Codec[T]) Append(dst []byte, v *T) ([]byte, error) {
	e := encoder{buf: dst, packed: c.packed}
	c.plan.encodeFields(&e, unsafe.Pointer(v))
	return e.buf, e.err
}

// Decode sets *v, which should be zero, from b. Strings in *v share one
// copy of b, so *v does not keep b itself alive or depend on it.
func (c *Codec[T]) Decode(b []byte, v *T) error {
	d := decoder{s: string(b), packed: c.packed}
	c.plan.decodeFields(&d, unsafe.Pointer(v), len(d.s))
	return d.err
}

// field is one struct field of a plan.
type field struct {
	key    string
	header []byte // uvarint(len(key)<<3|wire) + key
	// numHeader is uvarint(number<<3|wire), the header of the packed form
	// when the struct type has field numbers (Number).
	numHeader []byte
	numWire   int // the wire type in numHeader
	offset    uintptr
	v         *valuePlan
}

type structPlan struct {
	typ    reflect.Type
	fields []field
	byKey  map[string]int
	// byNum maps a field number to its field index (-1: none); nil when
	// the type has no field numbers.
	byNum []int
}

var (
	numbersMu sync.Mutex
	numbers   = map[reflect.Type][]string{}
)

// Number gives the fields of struct type T numbers for the packed form:
// the field keyed keys[i] is number i+1, and the packed form heads it with
// uvarint(number<<3|wire) instead of its key. Numbers are a schema: a new
// field's key is appended, a removed field's key stays in place (or is
// replaced by "-") so that its number is never reused. Every exported field
// of T must have a number, or New fails. Call it before New for any type
// that holds T, once per program (package initialisation): a type's numbers
// decide how packed data of it reads, so a type that gains numbers later
// needs a new form of its own (its callers' version byte).
func Number[T any](keys ...string) {
	numbersMu.Lock()
	defer numbersMu.Unlock()
	numbers[reflect.TypeFor[T]()] = keys
}

// Numbered reports whether struct type t has field numbers.
func Numbered(t reflect.Type) bool {
	numbersMu.Lock()
	defer numbersMu.Unlock()
	_, ok := numbers[t]
	return ok
}

// numberFields sets the field numbers of sp from the registry.
func (sp *structPlan) numberFields() error {
	numbersMu.Lock()
	keys, ok := numbers[sp.typ]
	numbersMu.Unlock()
	if !ok {
		return nil
	}
	sp.byNum = make([]int, len(keys)+1)
	for i := range sp.byNum {
		sp.byNum[i] = -1
	}
	for n, k := range keys {
		if i, ok := sp.byKey[k]; ok && k != "-" {
			sp.byNum[n+1] = i
			f := &sp.fields[i]
			f.numWire = f.v.wire
			if f.v.typ.Kind() == reflect.String {
				f.numWire = wirePackedString
			}
			f.numHeader = binary.AppendUvarint(nil, uint64(n+1)<<3|uint64(f.numWire))
		}
	}
	for _, f := range sp.fields {
		if f.numHeader == nil {
			return fmt.Errorf("fieldcodec: %s: field %q has no number (fieldcodec.Number)", sp.typ, f.key)
		}
	}
	return nil
}

// valuePlan encodes and decodes one type's values at a pointer.
type valuePlan struct {
	typ  reflect.Type
	wire int
	// isZero reports whether the value is omitted as a struct field.
	isZero func(p unsafe.Pointer) bool
	// enc appends the value's payload (length-prefixed for wireBytes).
	enc func(e *encoder, p unsafe.Pointer)
	// dec reads the value's payload into p.
	dec func(d *decoder, p unsafe.Pointer)
}

var (
	planMu    sync.Mutex
	planCache = map[reflect.Type]*valuePlan{}
)

func planStruct(t reflect.Type, seen map[reflect.Type]*structPlan) (*structPlan, error) {
	if p, ok := seen[t]; ok {
		return p, nil
	}
	sp := &structPlan{typ: t, byKey: map[string]int{}}
	seen[t] = sp
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		key := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			if name != "" {
				key = name
			}
		}
		if _, dup := sp.byKey[key]; dup {
			return nil, fmt.Errorf("fieldcodec: %s has two fields keyed %q", t, key)
		}
		vp, err := planValue(f.Type, seen)
		if err != nil {
			return nil, fmt.Errorf("fieldcodec: %s.%s: %w", t, f.Name, err)
		}
		h := binary.AppendUvarint(nil, uint64(len(key))<<3|uint64(vp.wire))
		sp.byKey[key] = len(sp.fields)
		sp.fields = append(sp.fields, field{key: key, header: append(h, key...), offset: f.Offset, v: vp})
	}
	if err := sp.numberFields(); err != nil {
		return nil, err
	}
	return sp, nil
}

func (sp *structPlan) encodeFields(e *encoder, p unsafe.Pointer) {
	for i := range sp.fields {
		f := &sp.fields[i]
		fp := unsafe.Add(p, f.offset)
		if f.v.isZero(fp) {
			continue
		}
		if e.packed && sp.byNum != nil {
			e.buf = append(e.buf, f.numHeader...)
		} else {
			e.buf = append(e.buf, f.header...)
		}
		f.v.enc(e, fp)
	}
}

// decodeFields reads fields up to position end. Fields come in plan order
// when the writer had the same type, so the fields after the last one found
// are tried before the key map.
func (sp *structPlan) decodeFields(d *decoder, p unsafe.Pointer, end int) {
	if d.packed && sp.byNum != nil {
		sp.decodeNumbered(d, p, end)
		return
	}
	next := 0
	for d.err == nil && d.pos < end {
		h := d.uvarint()
		n := int(h >> 3)
		wire := int(h & 7)
		if n > end-d.pos {
			d.fail("field key overruns its struct")
			return
		}
		key := d.s[d.pos : d.pos+n]
		d.pos += n
		i := -1
		for j := next; j < len(sp.fields); j++ { // zero fields were omitted: look ahead
			if sp.fields[j].key == key {
				i = j
				break
			}
		}
		if i < 0 {
			if j, ok := sp.byKey[key]; ok {
				i = j
			}
		}
		if i < 0 || sp.fields[i].v.wire != wire {
			d.skip(wire) // a field this build does not have, or whose type changed
			continue
		}
		f := &sp.fields[i]
		f.v.dec(d, unsafe.Add(p, f.offset))
		next = i + 1
	}
	if d.err == nil && d.pos != end {
		d.fail("struct overruns its length")
	}
}

// decodeNumbered reads fields headed by numbers up to position end.
func (sp *structPlan) decodeNumbered(d *decoder, p unsafe.Pointer, end int) {
	for d.err == nil && d.pos < end {
		h := d.uvarint()
		n, wire := h>>3, int(h&7)
		i := -1
		if n < uint64(len(sp.byNum)) {
			i = sp.byNum[n]
		}
		if i < 0 || sp.fields[i].numWire != wire {
			d.skip(wire) // a field this build does not have, or whose type changed
			continue
		}
		f := &sp.fields[i]
		f.v.dec(d, unsafe.Add(p, f.offset))
	}
	if d.err == nil && d.pos != end {
		d.fail("struct overruns its length")
	}
}

func planValue(t reflect.Type, seen map[reflect.Type]*structPlan) (*valuePlan, error) {
	planMu.Lock()
	if vp, ok := planCache[t]; ok {
		planMu.Unlock()
		return vp, nil
	}
	planMu.Unlock()
	vp, err := buildValue(t, seen)
	if err != nil {
		return nil, err
	}
	planMu.Lock()
	planCache[t] = vp
	planMu.Unlock()
	return vp, nil
}

func buildValue(t reflect.Type, seen map[reflect.Type]*structPlan) (*valuePlan, error) {
	vp := &valuePlan{typ: t}
	switch t.Kind() {
	case reflect.Bool:
		vp.wire = wireVarint
		vp.isZero = func(p unsafe.Pointer) bool { return !*(*bool)(p) }
		vp.enc = func(e *encoder, p unsafe.Pointer) {
			b := byte(0)
			if *(*bool)(p) {
				b = 1
			}
			e.buf = append(e.buf, b)
		}
		vp.dec = func(d *decoder, p unsafe.Pointer) { *(*bool)(p) = d.uvarint() != 0 }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		vp.wire = wireVarint
		get, set := intAccess(t)
		vp.isZero = func(p unsafe.Pointer) bool { return get(p) == 0 }
		vp.enc = func(e *encoder, p unsafe.Pointer) { e.buf = binary.AppendVarint(e.buf, get(p)) }
		vp.dec = func(d *decoder, p unsafe.Pointer) { set(p, d.varint()) }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		vp.wire = wireVarint
		get, set := uintAccess(t)
		vp.isZero = func(p unsafe.Pointer) bool { return get(p) == 0 }
		vp.enc = func(e *encoder, p unsafe.Pointer) { e.buf = binary.AppendUvarint(e.buf, get(p)) }
		vp.dec = func(d *decoder, p unsafe.Pointer) { set(p, d.uvarint()) }
	case reflect.Float64:
		vp.wire = wireFixed64
		vp.isZero = func(p unsafe.Pointer) bool { return math.Float64bits(*(*float64)(p)) == 0 }
		vp.enc = func(e *encoder, p unsafe.Pointer) {
			e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(*(*float64)(p)))
		}
		vp.dec = func(d *decoder, p unsafe.Pointer) { *(*float64)(p) = math.Float64frombits(d.fixed64()) }
	case reflect.Float32:
		vp.wire = wireFixed32
		vp.isZero = func(p unsafe.Pointer) bool { return math.Float32bits(*(*float32)(p)) == 0 }
		vp.enc = func(e *encoder, p unsafe.Pointer) {
			e.buf = binary.LittleEndian.AppendUint32(e.buf, math.Float32bits(*(*float32)(p)))
		}
		vp.dec = func(d *decoder, p unsafe.Pointer) { *(*float32)(p) = math.Float32frombits(d.fixed32()) }
	case reflect.String:
		vp.wire = wireBytes
		vp.isZero = func(p unsafe.Pointer) bool { return len(*(*string)(p)) == 0 }
		vp.enc = func(e *encoder, p unsafe.Pointer) { e.str(*(*string)(p)) }
		if t == reflect.TypeFor[string]() {
			vp.dec = func(d *decoder, p unsafe.Pointer) { *(*string)(p) = d.str() }
		} else {
			vp.dec = func(d *decoder, p unsafe.Pointer) { reflect.NewAt(t, p).Elem().SetString(d.str()) }
		}
	case reflect.Struct:
		sp, err := planStruct(t, seen)
		if err != nil {
			return nil, err
		}
		vp.wire = wireBytes
		size := t.Size()
		vp.isZero = func(p unsafe.Pointer) bool { return isZeroMem(p, size) }
		vp.enc = func(e *encoder, p unsafe.Pointer) {
			e.nested(func() { sp.encodeFields(e, p) })
		}
		vp.dec = func(d *decoder, p unsafe.Pointer) {
			n := d.length()
			sp.decodeFields(d, p, d.pos+n)
		}
	case reflect.Pointer:
		return pointerPlan(vp, t, seen)
	case reflect.Slice:
		return slicePlan(vp, t, seen)
	case reflect.Array:
		return arrayPlan(vp, t, seen)
	case reflect.Map:
		return mapPlan(vp, t, seen)
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return nil, fmt.Errorf("interface type %s has methods; only any is stored", t)
		}
		vp.wire = wireBytes
		vp.isZero = func(p unsafe.Pointer) bool { return *(*any)(p) == nil }
		vp.enc = func(e *encoder, p unsafe.Pointer) { e.nested(func() { e.anyValue(*(*any)(p)) }) }
		vp.dec = func(d *decoder, p unsafe.Pointer) {
			n := d.length()
			end := d.pos + n
			*(*any)(p) = d.anyValue()
			if d.err == nil && d.pos != end {
				d.fail("interface value overruns its length")
			}
		}
	default:
		return nil, fmt.Errorf("%s values cannot be stored", t.Kind())
	}
	return vp, nil
}

func isZeroMem(p unsafe.Pointer, size uintptr) bool {
	b := unsafe.Slice((*byte)(p), size)
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

func intAccess(t reflect.Type) (func(unsafe.Pointer) int64, func(unsafe.Pointer, int64)) {
	switch t.Size() {
	case 1:
		return func(p unsafe.Pointer) int64 { return int64(*(*int8)(p)) }, func(p unsafe.Pointer, v int64) { *(*int8)(p) = int8(v) }
	case 2:
		return func(p unsafe.Pointer) int64 { return int64(*(*int16)(p)) }, func(p unsafe.Pointer, v int64) { *(*int16)(p) = int16(v) }
	case 4:
		return func(p unsafe.Pointer) int64 { return int64(*(*int32)(p)) }, func(p unsafe.Pointer, v int64) { *(*int32)(p) = int32(v) }
	}
	return func(p unsafe.Pointer) int64 { return *(*int64)(p) }, func(p unsafe.Pointer, v int64) { *(*int64)(p) = v }
}

func uintAccess(t reflect.Type) (func(unsafe.Pointer) uint64, func(unsafe.Pointer, uint64)) {
	switch t.Size() {
	case 1:
		return func(p unsafe.Pointer) uint64 { return uint64(*(*uint8)(p)) }, func(p unsafe.Pointer, v uint64) { *(*uint8)(p) = uint8(v) }
	case 2:
		return func(p unsafe.Pointer) uint64 { return uint64(*(*uint16)(p)) }, func(p unsafe.Pointer, v uint64) { *(*uint16)(p) = uint16(v) }
	case 4:
		return func(p unsafe.Pointer) uint64 { return uint64(*(*uint32)(p)) }, func(p unsafe.Pointer, v uint64) { *(*uint32)(p) = uint32(v) }
	}
	return func(p unsafe.Pointer) uint64 { return *(*uint64)(p) }, func(p unsafe.Pointer, v uint64) { *(*uint64)(p) = v }
}

// pointerPlan stores a non-nil pointer as its target, length-prefixed.
func pointerPlan(vp *valuePlan, t reflect.Type, seen map[reflect.Type]*structPlan) (*valuePlan, error) {
	elem := t.Elem()
	var ep *valuePlan
	var err error
	if elem.Kind() == reflect.Struct {
		// Recursive types (a struct holding a pointer to itself) resolve
		// through seen; their value plan is built lazily.
		sp, err := planStruct(elem, seen)
		if err != nil {
			return nil, err
		}
		ep = &valuePlan{typ: elem, wire: wireBytes,
			enc: func(e *encoder, p unsafe.Pointer) { e.nested(func() { sp.encodeFields(e, p) }) },
			dec: func(d *decoder, p unsafe.Pointer) { n := d.length(); sp.decodeFields(d, p, d.pos+n) }}
	} else if ep, err = planValue(elem, seen); err != nil {
		return nil, err
	}
	vp.wire = wireBytes
	vp.isZero = func(p unsafe.Pointer) bool { return *(*unsafe.Pointer)(p) == nil }
	vp.enc = func(e *encoder, p unsafe.Pointer) {
		e.nested(func() { ep.enc(e, *(*unsafe.Pointer)(p)) })
	}
	vp.dec = func(d *decoder, p unsafe.Pointer) {
		n := d.length()
		end := d.pos + n
		target := reflect.New(elem).UnsafePointer()
		ep.dec(d, target)
		if d.err == nil && d.pos != end {
			d.fail("pointer target overruns its length")
		}
		*(*unsafe.Pointer)(p) = target
	}
	return vp, nil
}

type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

func slicePlan(vp *valuePlan, t reflect.Type, seen map[reflect.Type]*structPlan) (*valuePlan, error) {
	elem := t.Elem()
	vp.wire = wireBytes
	vp.isZero = func(p unsafe.Pointer) bool { return (*sliceHeader)(p).data == nil }
	if elem.Kind() == reflect.Uint8 {
		vp.enc = func(e *encoder, p unsafe.Pointer) {
			b := *(*[]byte)(p)
			e.buf = binary.AppendUvarint(e.buf, uint64(len(b)))
			e.buf = append(e.buf, b...)
		}
		vp.dec = func(d *decoder, p unsafe.Pointer) {
			s := d.bytes()
			reflect.NewAt(t, p).Elem().SetBytes(append(make([]byte, 0, len(s)), s...))
		}
		return vp, nil
	}
	ep, err := elemPlan(elem, seen)
	if err != nil {
		return nil, err
	}
	size := elem.Size()
	vp.enc = func(e *encoder, p unsafe.Pointer) {
		h := (*sliceHeader)(p)
		e.nested(func() {
			e.buf = binary.AppendUvarint(e.buf, uint64(h.len))
			for i := 0; i < h.len; i++ {
				ep.enc(e, unsafe.Add(h.data, uintptr(i)*size))
			}
		})
	}
	vp.dec = func(d *decoder, p unsafe.Pointer) {
		n := d.length()
		end := d.pos + n
		count, ok := d.count(end)
		if !ok {
			d.fail("slice count exceeds its bytes")
			return
		}
		s := reflect.MakeSlice(t, count, count)
		base := s.UnsafePointer()
		for i := 0; i < count && d.err == nil; i++ {
			ep.dec(d, unsafe.Add(base, uintptr(i)*size))
		}
		if d.err == nil && d.pos != end {
			d.fail("slice overruns its length")
		}
		*(*sliceHeader)(p) = sliceHeader{data: base, len: count, cap: count}
		if base == nil { // zero-sized elements or count 0: keep it non-nil
			reflect.NewAt(t, p).Elem().Set(s)
		}
	}
	return vp, nil
}

func arrayPlan(vp *valuePlan, t reflect.Type, seen map[reflect.Type]*structPlan) (*valuePlan, error) {
	elem := t.Elem()
	ep, err := elemPlan(elem, seen)
	if err != nil {
		return nil, err
	}
	size, n, total := elem.Size(), t.Len(), t.Size()
	vp.wire = wireBytes
	vp.isZero = func(p unsafe.Pointer) bool { return isZeroMem(p, total) }
	vp.enc = func(e *encoder, p unsafe.Pointer) {
		e.nested(func() {
			for i := 0; i < n; i++ {
				ep.enc(e, unsafe.Add(p, uintptr(i)*size))
			}
		})
	}
	vp.dec = func(d *decoder, p unsafe.Pointer) {
		l := d.length()
		end := d.pos + l
		for i := 0; i < n && d.err == nil && d.pos < end; i++ {
			ep.dec(d, unsafe.Add(p, uintptr(i)*size))
		}
		if d.err == nil && d.pos != end {
			d.fail("array overruns its length")
		}
	}
	return vp, nil
}

func mapPlan(vp *valuePlan, t reflect.Type, seen map[reflect.Type]*structPlan) (*valuePlan, error) {
	kp, err := elemPlan(t.Key(), seen)
	if err != nil {
		return nil, err
	}
	ep, err := elemPlan(t.Elem(), seen)
	if err != nil {
		return nil, err
	}
	vp.wire = wireBytes
	vp.isZero = func(p unsafe.Pointer) bool { return *(*unsafe.Pointer)(p) == nil }
	vp.enc = func(e *encoder, p unsafe.Pointer) {
		m := reflect.NewAt(t, p).Elem()
		e.nested(func() {
			e.buf = binary.AppendUvarint(e.buf, uint64(m.Len()))
			k := reflect.New(t.Key()).Elem()
			v := reflect.New(t.Elem()).Elem()
			it := m.MapRange()
			for it.Next() {
				k.SetIterKey(it)
				v.SetIterValue(it)
				kp.enc(e, k.Addr().UnsafePointer())
				ep.enc(e, v.Addr().UnsafePointer())
			}
		})
	}
	vp.dec = func(d *decoder, p unsafe.Pointer) {
		n := d.length()
		end := d.pos + n
		count, ok := d.count(end)
		if !ok {
			d.fail("map count exceeds its bytes")
			return
		}
		m := reflect.MakeMapWithSize(t, count)
		for i := 0; i < count && d.err == nil; i++ {
			k := reflect.New(t.Key())
			v := reflect.New(t.Elem())
			kp.dec(d, k.UnsafePointer())
			ep.dec(d, v.UnsafePointer())
			m.SetMapIndex(k.Elem(), v.Elem())
		}
		if d.err == nil && d.pos != end {
			d.fail("map overruns its length")
		}
		reflect.NewAt(t, p).Elem().Set(m)
	}
	return vp, nil
}

// elemPlan is the plan of a slice element, array element or map key/value:
// like a field value, but always written (elements have no key to omit).
func elemPlan(t reflect.Type, seen map[reflect.Type]*structPlan) (*valuePlan, error) {
	if t.Kind() == reflect.Struct {
		sp, err := planStruct(t, seen)
		if err != nil {
			return nil, err
		}
		return &valuePlan{typ: t, wire: wireBytes,
			enc: func(e *encoder, p unsafe.Pointer) { e.nested(func() { sp.encodeFields(e, p) }) },
			dec: func(d *decoder, p unsafe.Pointer) { n := d.length(); sp.decodeFields(d, p, d.pos+n) }}, nil
	}
	return planValue(t, seen)
}

type encoder struct {
	buf    []byte
	err    error
	packed bool
}

// str appends a string value: length and bytes, or in the packed form
// uvarint(len<<1|packed) and the bytes or their packed hex digits.
func (e *encoder) str(s string) {
	if !e.packed {
		e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
		e.buf = append(e.buf, s...)
		return
	}
	if len(s) > 0 && len(s)%2 == 0 {
		// Pack while checking; a non-hex digit rolls back.
		at := len(e.buf)
		e.buf = binary.AppendUvarint(e.buf, uint64(len(s))<<1|1)
		for i := 0; i < len(s); i += 2 {
			hi, lo := hexValue[s[i]], hexValue[s[i+1]]
			if hi|lo > 15 {
				e.buf = e.buf[:at]
				goto plain
			}
			e.buf = append(e.buf, hi<<4|lo)
		}
		return
	}
plain:
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s))<<1)
	e.buf = append(e.buf, s...)
}

// hexValue is the value of a lower-case hex digit, 0xff for other bytes.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// nested writes body's output behind its uvarint length. One byte is
// reserved for the length, which fits nested values under 128 bytes; longer
// ones shift their bytes right.
func (e *encoder) nested(body func()) {
	at := len(e.buf)
	e.buf = append(e.buf, 0)
	body()
	n := len(e.buf) - at - 1
	if n < 0x80 {
		e.buf[at] = byte(n)
		return
	}
	var lb [binary.MaxVarintLen64]byte
	l := binary.PutUvarint(lb[:], uint64(n))
	e.buf = append(e.buf, lb[:l-1]...)
	copy(e.buf[at+l:], e.buf[at+1:at+1+n])
	copy(e.buf[at:], lb[:l])
}

// Interface value tags.
const (
	anyNil    = 'z'
	anyString = 's'
	anyFloat  = 'f'
	anyTrue   = 't'
	anyFalse  = 'b'
	anyInt    = 'i'
)

func (e *encoder) anyValue(v any) {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, anyNil)
	case string:
		e.buf = append(e.buf, anyString)
		e.buf = binary.AppendUvarint(e.buf, uint64(len(x)))
		e.buf = append(e.buf, x...)
	case float64:
		e.buf = append(e.buf, anyFloat)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(x))
	case bool:
		if x {
			e.buf = append(e.buf, anyTrue)
		} else {
			e.buf = append(e.buf, anyFalse)
		}
	case int64:
		e.buf = append(e.buf, anyInt)
		e.buf = binary.AppendVarint(e.buf, x)
	case int:
		e.buf = append(e.buf, anyInt)
		e.buf = binary.AppendVarint(e.buf, int64(x))
	default:
		if e.err == nil {
			e.err = fmt.Errorf("fieldcodec: interface value of type %T cannot be stored (only nil, string, float64, bool, int)", v)
		}
		e.buf = append(e.buf, anyNil)
	}
}

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("fieldcodec: corrupt data")

type decoder struct {
	s      string
	pos    int
	err    error
	packed bool
	// arena holds unpacked hex strings, many to an allocation.
	arena []byte
}

// str reads a string value written by encoder.str.
func (d *decoder) str() string {
	if !d.packed {
		return d.bytes()
	}
	return d.packedStr()
}

// Escaped packed strings: a header of 1 (an empty hex string, which the
// encoder never writes) is followed by a kind byte and the string in a
// form that only writers of their own produce (trace's compact summaries):
//
//	'x': uvarint(len), uvarint(p), p bytes, then the len-p lower-case hex
//	    digits that end the string two to a byte (an odd last one in the
//	    high nibble, the low one 0): instance ids, ARNs ending in an id.
//	'4': 4 bytes, the string being their IPv4 dotted-decimal form.
const (
	escapedString = 1
	escapeHexTail = 'x'
	escapeIPv4    = '4'
)

func (d *decoder) packedStr() string {
	h := d.uvarint()
	if h == escapedString {
		return d.escapedStr()
	}
	if h&1 == 0 {
		n := h >> 1
		if n > uint64(len(d.s)-d.pos) {
			d.fail("length exceeds the data")
			return ""
		}
		if n == 0 {
			// "" itself, not an empty slice of d.s, whose data
			// pointer would make a struct holding it non-zero in memory,
			// which encoders test to omit a struct field: a decoded value
			// would then encode to other bytes than what decoding those
			// reads back (FuzzDecodeCompactSummary).
			return ""
		}
		s := d.s[d.pos : d.pos+int(n)]
		d.pos += int(n)
		return s
	}
	n := h >> 1
	if n == 0 || n%2 != 0 || n/2 > uint64(len(d.s)-d.pos) {
		d.fail("packed hex string is empty, odd or exceeds the data")
		return ""
	}
	const digits = "0123456789abcdef"
	if int(n) > cap(d.arena)-len(d.arena) {
		d.arena = make([]byte, 0, max(int(n), 512))
	}
	at := len(d.arena)
	for _, b := range []byte(d.s[d.pos : d.pos+int(n/2)]) {
		d.arena = append(d.arena, digits[b>>4], digits[b&15])
	}
	d.pos += int(n / 2)
	return unsafe.String(&d.arena[at], int(n))
}

// AppendEscapedString appends s as an escaped packed string (a packed
// string's header and body) when one of the escaped forms holds it in
// fewer bytes than the packed form would; ok is false, and b unchanged,
// when none does. Only readers of this build read them: a format that
// writes them is a format of its own.
func AppendEscapedString(b []byte, s string) (_ []byte, ok bool) {
	if len(s) < 7 {
		return b, false
	}
	if ip, ok := parseIPv4(s); ok {
		return append(append(b, escapedString, escapeIPv4), ip[:]...), true
	}
	t := len(s)
	for t > 0 && hexValue[s[t-1]] < 16 {
		t--
	}
	digits := len(s) - t
	// The hex form's header and lengths take 3 to 5 bytes; digits an even
	// number, every one of them (t == 0), the plain hex form holds.
	if digits < 8 || t == 0 && digits%2 == 0 {
		return b, false
	}
	b = binary.AppendUvarint(append(b, escapedString, escapeHexTail), uint64(len(s)))
	b = append(binary.AppendUvarint(b, uint64(t)), s[:t]...)
	for i := t; i < len(s); i += 2 {
		c := hexValue[s[i]] << 4
		if i+1 < len(s) {
			c |= hexValue[s[i+1]]
		}
		b = append(b, c)
	}
	return b, true
}

// parseIPv4 reads s if it is an IPv4 address written as the escaped form
// writes it back: four decimal numbers up to 255, no leading zeros.
func parseIPv4(s string) (ip [4]byte, ok bool) {
	if len(s) > 15 {
		return ip, false
	}
	i := 0
	for k := range 4 {
		if k > 0 {
			if i >= len(s) || s[i] != '.' {
				return ip, false
			}
			i++
		}
		start, v := i, 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && i-start < 3 {
			v = v*10 + int(s[i]-'0')
			i++
		}
		if i == start || v > 255 || s[start] == '0' && i-start > 1 {
			return ip, false
		}
		ip[k] = byte(v)
	}
	return ip, i == len(s)
}

func (d *decoder) escapedStr() string {
	if d.pos >= len(d.s) {
		d.fail("escaped string is cut short")
		return ""
	}
	kind := d.s[d.pos]
	d.pos++
	switch kind {
	case escapeIPv4:
		if len(d.s)-d.pos < 4 {
			d.fail("IPv4 string is cut short")
			return ""
		}
		b := d.s[d.pos : d.pos+4]
		d.pos += 4
		at := d.grow(15)
		d.arena = append(d.arena, decimal[b[0]]...)
		for i := 1; i < 4; i++ {
			d.arena = append(append(d.arena, '.'), decimal[b[i]]...)
		}
		return unsafe.String(&d.arena[at], len(d.arena)-at)
	case escapeHexTail:
		n, p := d.uvarint(), d.uvarint()
		rest := uint64(len(d.s) - d.pos)
		// (n-p)/2 + (n-p)%2: (n-p+1)/2 overflows for n-p = 2^64-1.
		if d.err != nil || p >= n || p > rest || (n-p)/2+(n-p)%2 > rest-p {
			d.fail("hex-tailed string is empty or exceeds the data")
			return ""
		}
		digits := n - p
		packed := d.s[d.pos+int(p) : d.pos+int(p+(digits+1)/2)]
		if digits%2 == 1 && packed[len(packed)-1]&15 != 0 {
			d.fail("hex-tailed string has an odd digit's low nibble set")
			return ""
		}
		at := d.grow(int(n))
		d.arena = append(d.arena, d.s[d.pos:d.pos+int(p)]...)
		const hex = "0123456789abcdef"
		for i := range len(packed) {
			d.arena = append(d.arena, hex[packed[i]>>4], hex[packed[i]&15])
		}
		d.arena = d.arena[:at+int(n)] // an odd count's pad digit
		d.pos += int(p) + len(packed)
		return unsafe.String(&d.arena[at], int(n))
	}
	d.fail(fmt.Sprintf("unknown escaped string kind %q", kind))
	return ""
}

// decimal is the decimal form of each byte value.
var decimal = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// grow makes room for n more bytes in the arena; it returns where they go.
func (d *decoder) grow(n int) int {
	if n > cap(d.arena)-len(d.arena) {
		d.arena = make([]byte, 0, max(n, 512))
	}
	return len(d.arena)
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d: %s", ErrCorrupt, d.pos, msg)
	}
	d.pos = len(d.s)
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if d.pos >= len(d.s) {
			d.fail("truncated varint")
			return 0
		}
		c := d.s[d.pos]
		d.pos++
		if c < 0x80 {
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.fail("varint too long")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) fixed64() uint64 {
	if len(d.s)-d.pos < 8 {
		d.fail("truncated fixed64")
		return 0
	}
	s := d.s[d.pos : d.pos+8]
	d.pos += 8
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func (d *decoder) fixed32() uint32 {
	if len(d.s)-d.pos < 4 {
		d.fail("truncated fixed32")
		return 0
	}
	s := d.s[d.pos : d.pos+4]
	d.pos += 4
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// length reads a length prefix and checks it against the remaining bytes.
func (d *decoder) length() int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.pos) {
		d.fail("length exceeds the data")
		return 0
	}
	return int(n)
}

// count reads an element count of a collection ending at end: at most
// the bytes left before end, as every element takes one at least. (A
// count past int's range, converted, was negative and made a slice of it.)
func (d *decoder) count(end int) (int, bool) {
	c := d.uvarint()
	if d.err != nil || d.pos > end || c > uint64(end-d.pos) {
		return 0, false
	}
	return int(c), true
}

func (d *decoder) bytes() string {
	n := d.length()
	if n == 0 {
		return "" // not an empty slice of d.s (packedStr says why)
	}
	s := d.s[d.pos : d.pos+n]
	d.pos += n
	return s
}

func (d *decoder) skip(wire int) {
	switch wire {
	case wireVarint:
		d.uvarint()
	case wireFixed64:
		d.fixed64()
	case wireFixed32:
		d.fixed32()
	case wireBytes:
		d.pos += d.length()
	case wirePackedString:
		d.packedStr()
	default:
		d.fail(fmt.Sprintf("unknown wire type %d", wire))
	}
}

func (d *decoder) anyValue() any {
	if d.pos >= len(d.s) {
		d.fail("truncated interface value")
		return nil
	}
	tag := d.s[d.pos]
	d.pos++
	switch tag {
	case anyNil:
		return nil
	case anyString:
		return d.bytes()
	case anyFloat:
		return math.Float64frombits(d.fixed64())
	case anyTrue:
		return true
	case anyFalse:
		return false
	case anyInt:
		return d.varint()
	}
	d.fail(fmt.Sprintf("unknown interface tag %q", tag))
	return nil
}
