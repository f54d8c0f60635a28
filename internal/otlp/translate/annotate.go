package translate

import (
	"math"
	"slices"

	json "github.com/goccy/go-json"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// annotate puts the attributes that did not become typed fields into
// annotations (indexed, searchable) or metadata (kept, not indexed). Resource
// attributes go to the segment's metadata as otel.resource.<key>. Metadata
// is encoded here, once, as the segment model keeps it as raw JSON.
func (t *Translator) annotate(d *segment.Segment, a, ra *attrs, isSegment bool, _ pcommon.InstrumentationScope) error {
	perSpan := a.strs("aws.xray.annotations")
	// Both maps are made on first use, sized for what is left to place.
	var ann, meta map[string]any
	left := a.m.Len() - len(a.used)
	if isSegment {
		left += ra.m.Len()
	}
	for k, v := range a.m.All() {
		if a.isUsed(k) {
			continue
		}
		if len(ann) < MaxAnnotations && (t.indexAll || t.indexed[k] || slices.Contains(perSpan, k)) {
			if av, ok := annotationValue(v); ok {
				key := annotationKey(k)
				if _, dup := ann[key]; !dup {
					if ann == nil {
						ann = make(map[string]any, max(left, 1))
					}
					ann[key] = av
					continue
				}
			}
		}
		if meta == nil {
			meta = make(map[string]any, max(left, 1))
		}
		meta[k] = jsonValue(v, 0)
	}
	if isSegment {
		for k, v := range ra.m.All() {
			key := "otel.resource." + k
			if len(ann) < MaxAnnotations && t.indexed[key] {
				if av, ok := annotationValue(v); ok {
					if ann == nil {
						ann = make(map[string]any, max(left, 1))
					}
					ann[annotationKey(key)] = av
					continue
				}
			}
			if meta == nil {
				meta = make(map[string]any, max(left, 1))
			}
			meta[key] = jsonValue(v, 0)
		}
	}
	if len(ann) > 0 {
		d.Annotations = ann
	}
	if len(meta) > 0 {
		b, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		d.Metadata = map[string]json.RawMessage{"default": b}
	}
	return nil
}

// annotationValue is v as X-Ray can index it: a string, number or boolean.
func annotationValue(v pcommon.Value) (any, bool) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s := v.Str()
		if len(s) > 1000 {
			// X-Ray's limit on annotation values; cut on a rune boundary.
			cut := 1000
			for cut > 0 && s[cut]&0xC0 == 0x80 {
				cut--
			}
			s = s[:cut]
		}
		return s, true
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		return f, true
	case pcommon.ValueTypeBool:
		return v.Bool(), true
	}
	return nil, false
}

// annotationKey maps every character X-Ray does not allow in annotation
// keys (anything but ASCII letters, digits and _) to _, as the exporter does.
func annotationKey(k string) string {
	if k == "" {
		return "_"
	}
	if len(k) <= 500 && validAnnotationKey(k) {
		return k
	}
	b := []byte(k)
	if len(b) > 500 {
		b = b[:500]
	}
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

func validAnnotationKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
