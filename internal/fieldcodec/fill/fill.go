// Package fill sets every exported field of a value, recursively, to a
// distinct non-zero value. Codec tests use it to prove that a round trip
// keeps every field, including fields added after the test was written.
package fill

import (
	"fmt"
	"reflect"
	"strings"
)

// Filler hands out distinct values; the zero value is ready.
type Filler struct{ n int }

// Fill sets every exported field reachable from v (a pointer). Slices and
// maps get two elements; interfaces get a string, a float64 or a bool in turn.
func (f *Filler) Fill(v any) {
	f.value(reflect.ValueOf(v).Elem(), 0)
}

func (f *Filler) next() int { f.n++; return f.n }

func (f *Filler) value(v reflect.Value, depth int) {
	if depth > 6 {
		return // recursive types: stop somewhere
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.next()%100) - 50)
		if v.Int() == 0 {
			v.SetInt(-7)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(f.next()%200 + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.next()) + 0.25)
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d-%s", f.next(), strings.Repeat("x", f.n%5)))
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				f.value(v.Field(i), depth+1)
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.value(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			f.value(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			f.value(v.Index(i), depth+1)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			e := reflect.New(v.Type().Elem()).Elem()
			f.value(k, depth+1)
			f.value(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Interface:
		switch f.next() % 3 {
		case 0:
			v.Set(reflect.ValueOf(fmt.Sprintf("any%d", f.n)))
		case 1:
			v.Set(reflect.ValueOf(float64(f.n) + 0.5))
		default:
			v.Set(reflect.ValueOf(true))
		}
	}
}
