package translate

import (
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// attrs reads a span's attributes by semantic-convention key and remembers
// which keys became typed segment fields, so that only the rest is copied
// into annotations and metadata.
type attrs struct {
	m    pcommon.Map
	used []string
}

// get returns the first of keys that is present and marks it used.
func (a *attrs) get(keys ...string) (pcommon.Value, bool) {
	for _, k := range keys {
		if v, ok := a.m.Get(k); ok {
			a.used = append(a.used, k)
			return v, true
		}
	}
	return pcommon.Value{}, false
}

// str returns the first present key's value as a string ("" if none).
func (a *attrs) str(keys ...string) string {
	v, ok := a.get(keys...)
	if !ok {
		return ""
	}
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return v.AsString()
}

// peek is str without marking the key used.
func (a *attrs) peek(key string) string {
	v, ok := a.m.Get(key)
	if !ok {
		return ""
	}
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return v.AsString()
}

// int returns the first present key's value as an integer; strings holding
// integers count, as some instrumentations send status codes as text.
func (a *attrs) int(keys ...string) (int64, bool) {
	v, ok := a.get(keys...)
	if !ok {
		return 0, false
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		d := v.Double()
		if math.IsNaN(d) || math.IsInf(d, 0) || d > math.MaxInt64 || d < math.MinInt64 {
			return 0, false
		}
		return int64(d), true
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseInt(v.Str(), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// strs returns a string or a slice of strings.
func (a *attrs) strs(keys ...string) []string {
	v, ok := a.get(keys...)
	if !ok {
		return nil
	}
	if v.Type() != pcommon.ValueTypeSlice {
		return []string{v.AsString()}
	}
	s := v.Slice()
	out := make([]string, 0, s.Len())
	for i := 0; i < s.Len(); i++ {
		out = append(out, s.At(i).AsString())
	}
	return out
}

func (a *attrs) isUsed(k string) bool {
	for _, u := range a.used {
		if u == k {
			return true
		}
	}
	return false
}

// maxDepth bounds nested maps and slices so that a hostile value cannot
// recurse without limit.
const maxDepth = 16

// jsonValue converts an attribute value into something encoding/json can
// always write: NaN and infinities become strings, bytes base64 (by json).
func jsonValue(v pcommon.Value, depth int) any {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str()
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		return jsonFloat(v.Double())
	case pcommon.ValueTypeBool:
		return v.Bool()
	case pcommon.ValueTypeBytes:
		return v.Bytes().AsRaw()
	case pcommon.ValueTypeMap:
		if depth >= maxDepth {
			return "(nested too deep)"
		}
		m := v.Map()
		out := make(map[string]any, m.Len())
		for k, x := range m.All() {
			out[k] = jsonValue(x, depth+1)
		}
		return out
	case pcommon.ValueTypeSlice:
		if depth >= maxDepth {
			return "(nested too deep)"
		}
		s := v.Slice()
		out := make([]any, s.Len())
		for i := range out {
			out[i] = jsonValue(s.At(i), depth+1)
		}
		return out
	}
	return nil
}

func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return f
}
