package xray

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/roentgen-tracing/roentgen/xray/strategy/exception"
)

// The segment encoder writes JSON by hand into pooled buffers: no
// reflection and no allocation for the fields the SDK itself fills. Values
// of annotations, metadata and aws that are not plain JSON types go through
// encoding/json.

// docKind says how a (sub)segment is written.
type docKind int

const (
	docRoot        docKind = iota // a segment
	docEmbedded                   // inside its parent's subsegments
	docIndependent                // a subsegment sent on its own (type "subsegment")
)

// appendDoc writes s. children: whether to embed its subsegments. parentID is
// used for independent subsegments. The caller holds s's lock (or owns s);
// children are locked here.
func appendDoc(b []byte, s *Segment, kind docKind, parentID string, children bool) []byte {
	root := s.ParentSegment
	if root == nil {
		root = s
	}
	b = append(b, '{')
	if kind == docRoot {
		b = appendKey(b, "trace_id", true)
		b = appendString(b, s.TraceID)
	} else {
		b = appendKey(b, "trace_id", true)
		b = appendString(b, root.TraceID)
	}
	b = appendKey(b, "id", false)
	b = appendString(b, s.ID)
	b = appendKey(b, "name", false)
	b = appendString(b, s.Name)
	b = appendKey(b, "start_time", false)
	b = appendTime(b, s.StartTime)
	if s.EndTime > 0 && !s.InProgress {
		b = appendKey(b, "end_time", false)
		b = appendTime(b, s.EndTime)
	} else {
		b = append(b, `,"in_progress":true`...)
	}
	pid := s.ParentID
	if kind == docIndependent {
		pid = parentID
	}
	if pid != "" {
		b = appendKey(b, "parent_id", false)
		b = appendString(b, pid)
	}
	if s.Fault {
		b = append(b, `,"fault":true`...)
	}
	if s.Error {
		b = append(b, `,"error":true`...)
	}
	if s.Throttle {
		b = append(b, `,"throttle":true`...)
	}
	if s.Cause != nil {
		b = appendKey(b, "cause", false)
		b = appendCause(b, s.Cause)
	}
	if s.ResourceARN != "" {
		b = appendKey(b, "resource_arn", false)
		b = appendString(b, s.ResourceARN)
	}
	if s.Origin != "" {
		b = appendKey(b, "origin", false)
		b = appendString(b, s.Origin)
	}
	if kind == docIndependent || s.Type != "" {
		b = append(b, `,"type":"subsegment"`...)
	}
	if s.Namespace != "" {
		b = appendKey(b, "namespace", false)
		b = appendString(b, s.Namespace)
	}
	if s.User != "" {
		b = appendKey(b, "user", false)
		b = appendString(b, s.User)
	}
	if len(s.PrecursorIDs) > 0 {
		b = append(b, `,"precursor_ids":[`...)
		for i, id := range s.PrecursorIDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, id)
		}
		b = append(b, ']')
	}
	if s.HTTP != nil {
		b = appendHTTP(b, s.HTTP)
	}
	b = appendAWS(b, s, kind == docRoot)
	if kind == docRoot {
		b = appendService(b, s)
	}
	if s.SQL != nil {
		b = appendSQL(b, s.SQL)
	}
	if len(s.Annotations) > 0 {
		b = appendKey(b, "annotations", false)
		b = appendObject(b, s.Annotations)
	}
	if len(s.Metadata) > 0 {
		b = appendKey(b, "metadata", false)
		b = appendMetadata(b, s.Metadata)
	}
	if children && len(s.rawSubsegments) > 0 {
		b = append(b, `,"subsegments":[`...)
		first := true
		for _, c := range s.rawSubsegments {
			c.Lock()
			if !c.Dummy {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = appendDoc(b, c, docEmbedded, "", true)
			}
			c.Unlock()
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendKey(b []byte, k string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

// appendTime writes epoch seconds as the shortest decimal that reads back
// as the same float64 (µs precision and better).
func appendTime(b []byte, t float64) []byte {
	return strconv.AppendFloat(b, t, 'f', -1, 64)
}

func appendHTTP(b []byte, h *HTTPData) []byte {
	b = append(b, `,"http":{`...)
	n := len(b)
	if r := h.Request; r != nil {
		b = append(b, `"request":{`...)
		m := len(b)
		b = optString(b, "method", r.Method, m)
		b = optString(b, "url", r.URL, m)
		b = optString(b, "client_ip", r.ClientIP, m)
		b = optString(b, "user_agent", r.UserAgent, m)
		if r.XForwardedFor {
			b = optComma(b, m)
			b = append(b, `"x_forwarded_for":true`...)
		}
		if r.Traced {
			b = optComma(b, m)
			b = append(b, `"traced":true`...)
		}
		b = append(b, '}')
	}
	if r := h.Response; r != nil {
		b = optComma(b, n)
		b = append(b, `"response":{`...)
		m := len(b)
		if r.Status != 0 {
			b = append(b, `"status":`...)
			b = strconv.AppendInt(b, int64(r.Status), 10)
		}
		if r.ContentLength != 0 {
			b = optComma(b, m)
			b = append(b, `"content_length":`...)
			b = strconv.AppendInt(b, int64(r.ContentLength), 10)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// optComma writes a comma unless b has grown nothing since start.
func optComma(b []byte, start int) []byte {
	if len(b) > start {
		return append(b, ',')
	}
	return b
}

func optString(b []byte, k, v string, start int) []byte {
	if v == "" {
		return b
	}
	b = optComma(b, start)
	b = append(b, '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendSQL(b []byte, q *SQLData) []byte {
	b = append(b, `,"sql":{`...)
	m := len(b)
	b = optString(b, "connection_string", q.ConnectionString, m)
	b = optString(b, "url", q.URL, m)
	b = optString(b, "database_type", q.DatabaseType, m)
	b = optString(b, "database_version", q.DatabaseVersion, m)
	b = optString(b, "driver_version", q.DriverVersion, m)
	b = optString(b, "user", q.User, m)
	b = optString(b, "preparation", q.Preparation, m)
	b = optString(b, "sanitized_query", q.SanitizedQuery, m)
	return append(b, '}')
}

// appendAWS writes aws: the map's entries and, on segments, aws.xray (the
// SDK and the sampling rule) and the plugins' entries unless the map has them.
func appendAWS(b []byte, s *Segment, root bool) []byte {
	if len(s.AWS) == 0 && !root {
		return b
	}
	b = append(b, `,"aws":{`...)
	m := len(b)
	b = appendMembers(b, s.AWS, m)
	if root {
		for _, p := range pluginAWS() {
			if _, ok := s.AWS[p.Key]; !ok {
				b = optComma(b, m)
				b = append(b, p.JSON...)
			}
		}
		if _, ok := s.AWS["xray"]; !ok {
			b = optComma(b, m)
			b = append(b, `"xray":{"sdk_version":"`+SDKVersion+`","sdk":"`+SDKType+`"`...)
			if s.ruleName != nil {
				b = append(b, `,"sampling_rule_name":`...)
				b = appendString(b, *s.ruleName)
			}
			b = append(b, '}')
		}
	}
	return append(b, '}')
}

func appendService(b []byte, s *Segment) []byte {
	var sd ServiceData
	if s.Service != nil {
		sd = *s.Service
	}
	if sd.Version == "" && s.Configuration != nil {
		sd.Version = s.Configuration.ServiceVersion
	}
	if sd.RuntimeVersion == "" {
		sd.RuntimeVersion = runtimeVersion
	}
	if sd.Runtime == "" {
		sd.Runtime = runtimeName
	}
	b = append(b, `,"service":{`...)
	m := len(b)
	b = optString(b, "version", sd.Version, m)
	b = optString(b, "runtime_version", sd.RuntimeVersion, m)
	b = optString(b, "runtime", sd.Runtime, m)
	return append(b, '}')
}

func appendCause(b []byte, c *CauseData) []byte {
	b = append(b, '{')
	m := len(b)
	b = optString(b, "working_directory", c.WorkingDirectory, m)
	if len(c.Paths) > 0 {
		b = optComma(b, m)
		b = append(b, `"paths":[`...)
		for i, p := range c.Paths {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, p)
		}
		b = append(b, ']')
	}
	if len(c.Exceptions) > 0 {
		b = optComma(b, m)
		b = append(b, `"exceptions":[`...)
		for i := range c.Exceptions {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendException(b, &c.Exceptions[i])
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendException(b []byte, e *exception.Exception) []byte {
	b = append(b, '{')
	m := len(b)
	b = optString(b, "id", e.ID, m)
	b = optString(b, "type", e.Type, m)
	b = optString(b, "message", e.Message, m)
	if e.Remote {
		b = optComma(b, m)
		b = append(b, `"remote":true`...)
	}
	if len(e.Stack) > 0 {
		b = optComma(b, m)
		b = append(b, `"stack":[`...)
		for i, f := range e.Stack {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			n := len(b)
			b = optString(b, "path", f.Path, n)
			if f.Line != 0 {
				b = optComma(b, n)
				b = append(b, `"line":`...)
				b = strconv.AppendInt(b, int64(f.Line), 10)
			}
			b = optString(b, "label", f.Label, n)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendMetadata(b []byte, md map[string]map[string]interface{}) []byte {
	b = append(b, '{')
	var stack [8]string
	keys := sortedKeys(stack[:0], md)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendObject(b, md[k])
	}
	return append(b, '}')
}

func appendObject(b []byte, m map[string]interface{}) []byte {
	b = append(b, '{')
	b = appendMembers(b, m, len(b))
	return append(b, '}')
}

// appendMembers writes m's members in key order (stable output, as
// encoding/json gives).
func appendMembers(b []byte, m map[string]interface{}, start int) []byte {
	return appendMembersDepth(b, m, start, 0)
}

func appendMembersDepth(b []byte, m map[string]interface{}, start, depth int) []byte {
	if len(m) == 0 {
		return b
	}
	var stack [8]string
	keys := sortedKeys(stack[:0], m)
	for _, k := range keys {
		b = optComma(b, start)
		b = appendString(b, k)
		b = append(b, ':')
		b = appendValueDepth(b, m[k], depth)
	}
	return b
}

func sortedKeys[V any](keys []string, m map[string]V) []string {
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) <= 8 {
		for i := 1; i < len(keys); i++ {
			for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
				keys[j], keys[j-1] = keys[j-1], keys[j]
			}
		}
	} else {
		sort.Strings(keys)
	}
	return keys
}

// appendValue writes any value: plain JSON types by hand, the rest through
// encoding/json (null when it cannot be encoded, so one bad value never loses
// the segment).
func appendValue(b []byte, v interface{}) []byte { return appendValueDepth(b, v, 0) }

// maxDepth bounds the hand-written recursion; deeper values (or cyclic
// maps) go to encoding/json, which reports cycles instead of overflowing
// the stack.
const maxDepth = 64

func appendValueDepth(b []byte, v interface{}, depth int) []byte {
	if depth > maxDepth {
		return appendJSON(b, v)
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case float64:
		return appendFloat(b, x, 64)
	case float32:
		return appendFloat(b, float64(x), 32)
	case json.Number:
		if x == "" {
			return append(b, '0')
		}
		return append(b, x...)
	case map[string]interface{}:
		b = append(b, '{')
		b = appendMembersDepth(b, x, len(b), depth+1)
		return append(b, '}')
	case map[string]string:
		b = append(b, '{')
		var stack [8]string
		for i, k := range sortedKeys(stack[:0], x) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, x[k])
		}
		return append(b, '}')
	case []interface{}:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValueDepth(b, e, depth+1)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		return append(b, ']')
	case SDK:
		b = append(b, '{')
		m := len(b)
		b = optString(b, "sdk_version", x.Version, m)
		b = optString(b, "sdk", x.Type, m)
		b = optString(b, "sampling_rule_name", x.RuleName, m)
		return append(b, '}')
	}
	return appendJSON(b, v)
}

func appendJSON(b []byte, v interface{}) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

// appendFloat formats like encoding/json; NaN and ±Inf, which JSON cannot
// hold, become null.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	fmt := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		fmt = 'e'
	}
	b = strconv.AppendFloat(b, f, fmt, -1, bits)
	if fmt == 'e' {
		// 1e-07 -> 1e-7, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&15])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// MarshalJSON writes the (sub)segment as its document, subsegments embedded,
// so custom emitters can json.Marshal it as with aws-xray-sdk-go. It does not
// lock s (the SDK calls emitters with s locked); it locks subsegments.
func (seg *Segment) MarshalJSON() ([]byte, error) {
	return seg.AppendJSON(make([]byte, 0, 1024)), nil
}

// AppendJSON appends the document MarshalJSON returns to b, so that a
// custom emitter can reuse its buffers. Locking as MarshalJSON.
func (seg *Segment) AppendJSON(b []byte) []byte {
	kind := docEmbedded
	switch {
	case seg.parent == nil:
		kind = docRoot
	case seg.Type == "subsegment":
		kind = docIndependent
	}
	return appendDoc(b, seg, kind, seg.ParentID, true)
}
