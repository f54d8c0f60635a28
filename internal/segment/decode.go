package segment

import (
	"math"
	"math/bits"
	"unsafe"

	"github.com/roentgen-tracing/roentgen/internal/jsonword"
)

// The schema decoder: a hand-written reader of segment documents, member
// by member, that fills Segment as goccy/go-json (DecodeNoCopyString)
// does, at a fraction of its instructions (goccy's reflection-driven
// decoders, its copy of the input, a call per value). Whatever it does not
// handle exactly (see scanner; also a duplicate member, a key in another
// letter case, a value of another type, a nested annotation value) makes
// decodeFast return false, and parseOne decodes the document with goccy
// from scratch, so the result is always goccy's; decode_test.go holds it
// to that over fixtures, generated load, edge cases and a fuzz target.

// decodeFast fills s (zero but for Raw) from doc, or returns false. With
// blk, s is blk.seg, and its http, aws and service objects go in blk.
func decodeFast(doc []byte, s *Segment, blk *docBlock) bool {
	ok, _ := decodeClean(doc, s, blk)
	return ok
}

// decodeClean is decodeFast that also reports clean: every annotation read
// is one cleanAnnotations keeps.
func decodeClean(doc []byte, s *Segment, blk *docBlock) (ok, clean bool) {
	sc := scanner{b: doc}
	if !sc.segment(s, blk, 0) {
		return false, false
	}
	return sc.ws() == 0 && sc.i == len(doc), !sc.unclean
}

// once sets a member's bit in seen, and reports false for a duplicate,
// whose merging into the first (for objects, maps) is goccy's business.
func once(seen *uint64, bit uint) bool {
	if *seen&(1<<bit) != 0 {
		return false
	}
	*seen |= 1 << bit
	return true
}

// Scalar members: null leaves the field as it is, as with goccy and
// encoding/json (it is zero: members are not repeated).
func (s *scanner) strField(p *string) bool {
	// The common string, plain ASCII, is read here; any other (escapes,
	// non-ASCII, null, whitespace before it) by str.
	b, i := s.b, s.i
	if i < len(b) && b[i] == '"' {
		i++
		start := i
		for ; i+8 <= len(b); i += 8 {
			if m := jsonword.Special(load64(b, i)); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto stop
			}
		}
		for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i]-0x20 < 0x60 {
			i++
		}
	stop:
		if i < len(b) && b[i] == '"' {
			if i > start {
				*p = unsafe.String(&b[start], i-start)
			}
			s.i = i + 1
			return true
		}
	}
	if s.ws() == 'n' {
		return s.literal("null")
	}
	v, ok := s.str()
	*p = v
	return ok
}

func (s *scanner) boolField(p *bool) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	v, ok := s.boolean()
	*p = v
	return ok
}

func (s *scanner) floatField(p *float64) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	v, ok := s.number()
	*p = v
	return ok
}

func (s *scanner) intField(p *int) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	v, ok := s.integer()
	*p = int(v)
	return ok
}

func (s *scanner) int64Field(p *int64) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	v, ok := s.integer()
	*p = v
	return ok
}

// strings reads an array of strings; [] is an empty slice, not nil.
func (s *scanner) strings(p *[]string) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.openArray() {
		return false
	}
	out := []string{}
	done, ok := s.firstElem()
	for ; ok && !done; done, ok = s.nextElem() {
		v, ok := s.str()
		if !ok {
			return false
		}
		out = append(out, v)
	}
	*p = out
	return ok
}

// scalars reads a map of scalar values as goccy decodes map[string]any:
// float64, string, bool or nil; a nested value is left to goccy.
func (s *scanner) scalars(p *map[string]any) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	m := map[string]any{}
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		if !plainKey(k) {
			return false
		}
		var v any
		switch s.ws() {
		case '"':
			x, ok := s.str()
			if !ok {
				return false
			}
			v = x
		case 't', 'f':
			x, ok := s.boolean()
			if !ok {
				return false
			}
			v = x
		case 'n':
			if !s.literal("null") {
				return false
			}
			s.unclean = true
		default:
			x, ok := s.number()
			if !ok {
				return false
			}
			v = boxFloat(x)
		}
		// Keys refer to the document, as goccy's (DecodeNoCopyString) do.
		key := ""
		if len(k) > 0 {
			key = unsafe.String(&k[0], len(k))
		}
		if len(k) == 0 || len(k) > maxAnnotationKey {
			s.unclean = true
		}
		m[key] = v
	}
	*p = m
	return ok
}

// smallFloats are the whole numbers below 1024 as interface values, made
// once: an annotation such as a count or a status code then takes no
// allocation of its own (as the runtime does for small integers).
var smallFloats = func() (t [1024]any) {
	for i := range t {
		t[i] = float64(i)
	}
	return t
}()

// boxFloat is x as an interface value, one of smallFloats when it can be
// (not -0, whose bits differ).
func boxFloat(x float64) any {
	if i := int(x); i >= 0 && i < len(smallFloats) && float64(i) == x && !math.Signbit(x) {
		return smallFloats[i]
	}
	return x
}

// segment reads a (sub)segment into x, and its http, aws and service
// objects into top unless it is nil.
func (s *scanner) segment(x *Segment, top *docBlock, depth int) bool {
	if depth > maxScanDepth || !s.open() {
		return false
	}
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "trace_id":
			ok = once(&seen, 0) && s.strField(&x.TraceID)
		case "id":
			ok = once(&seen, 1) && s.strField(&x.ID)
		case "parent_id":
			ok = once(&seen, 2) && s.strField(&x.ParentID)
		case "name":
			ok = once(&seen, 3) && s.strField(&x.Name)
		case "type":
			ok = once(&seen, 4) && s.strField(&x.Type)
		case "namespace":
			ok = once(&seen, 5) && s.strField(&x.Namespace)
		case "origin":
			ok = once(&seen, 6) && s.strField(&x.Origin)
		case "user":
			ok = once(&seen, 7) && s.strField(&x.User)
		case "resource_arn":
			ok = once(&seen, 8) && s.strField(&x.ResourceARN)
		case "start_time":
			ok = once(&seen, 9) && s.floatField(&x.StartTime)
		case "end_time":
			ok = once(&seen, 10) && s.floatField(&x.EndTime)
		case "in_progress":
			ok = once(&seen, 11) && s.boolField(&x.InProgress)
		case "error":
			ok = once(&seen, 12) && s.boolField(&x.Error)
		case "throttle":
			ok = once(&seen, 13) && s.boolField(&x.Throttle)
		case "fault":
			ok = once(&seen, 14) && s.boolField(&x.Fault)
		case "traced":
			ok = once(&seen, 15) && s.boolField(&x.Traced)
		case "inferred":
			ok = once(&seen, 16) && s.boolField(&x.Inferred)
		case "http":
			ok = once(&seen, 17) && s.http(&x.HTTP, top.httpSlot(), depth+1)
		case "aws":
			ok = once(&seen, 18) && s.aws(&x.AWS, top, depth+1)
		case "sql":
			ok = once(&seen, 19) && s.sql(&x.SQL)
		case "cause":
			ok = once(&seen, 20) && s.cause(&x.Cause, depth+1)
		case "service":
			ok = once(&seen, 21) && s.service(&x.Service, top.serviceSlot())
		case "annotations":
			ok = once(&seen, 22) && s.scalars(&x.Annotations)
		case "metadata":
			// Metadata's UnmarshalJSON ignores the value.
			ok = once(&seen, 23) && s.skip(depth+1)
		case "subsegments":
			ok = once(&seen, 24) && s.subsegments(&x.Subsegments, depth+1)
		case "precursor_ids":
			ok = once(&seen, 25) && s.strings(&x.PrecursorIDs)
		case "links":
			ok = once(&seen, 26) && s.links(&x.Links, depth+1)
		default:
			ok = unknownKey(k) && s.skip(depth+1)
		}
		if !ok {
			return false
		}
	}
	return ok
}

func (s *scanner) subsegments(p *[]*Segment, depth int) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.openArray() {
		return false
	}
	// Gathered on the stack, then one slice of the right length; the
	// first in a block with room for the slice of one, the common case
	// (an allocation fewer).
	var buf [8]*Segment
	var first *subBlock
	out := buf[:0]
	done, ok := s.firstElem()
	for ; ok && !done; done, ok = s.nextElem() {
		var x *Segment
		if first == nil {
			first = new(subBlock)
			x = &first.seg
		} else {
			x = new(Segment)
		}
		if !s.segment(x, nil, depth+1) {
			return false
		}
		out = append(out, x)
	}
	if len(out) == 1 {
		first.one[0] = out[0]
		*p = first.one[:]
		return ok
	}
	*p = append(make([]*Segment, 0, len(out)), out...)
	return ok
}

// subBlock is a subsegment and the slice of its parent's subsegments
// when it is the only one.
type subBlock struct {
	one [1]*Segment
	seg Segment
}

// http reads an http object into blk, or a new block if it is nil.
func (s *scanner) http(p **HTTP, blk *httpBlock, depth int) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	if blk == nil {
		blk = new(httpBlock)
	}
	h := &blk.h
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "request":
			ok = once(&seen, 0) && s.request(&h.Request, &blk.req)
		case "response":
			ok = once(&seen, 1) && s.response(&h.Response, &blk.resp)
		default:
			ok = unknownKey(k) && s.skip(depth+1)
		}
		if !ok {
			return false
		}
	}
	*p = h
	return ok
}

// httpBlock is an http object with its request and response, one
// allocation where there were three.
type httpBlock struct {
	h    HTTP
	req  HTTPRequest
	resp HTTPResponse
}

// docBlock is a top-level segment with the objects every SDK's segments
// have (http, aws with the SDK's xray object, service), allocated before
// it is decoded: one allocation where there were four, 832 bytes and
// the runtime's 8-byte header in the 896-byte size class (the EC2 or ECS
// plugin's object does not fit, and has its own). A document without
// them leaves their 512 bytes unused.
type docBlock struct {
	seg  Segment
	http httpBlock
	aws  AWS
	xray XRaySDK
	svc  Service
}

func (b *docBlock) httpSlot() *httpBlock {
	if b == nil {
		return nil
	}
	return &b.http
}

func (b *docBlock) serviceSlot() *Service {
	if b == nil {
		return nil
	}
	return &b.svc
}

func (s *scanner) request(p **HTTPRequest, r *HTTPRequest) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "method":
			ok = once(&seen, 0) && s.strField(&r.Method)
		case "url":
			ok = once(&seen, 1) && s.strField(&r.URL)
		case "user_agent":
			ok = once(&seen, 2) && s.strField(&r.UserAgent)
		case "client_ip":
			ok = once(&seen, 3) && s.strField(&r.ClientIP)
		case "x_forwarded_for":
			ok = once(&seen, 4) && s.boolField(&r.XForwardedFor)
		case "traced":
			ok = once(&seen, 5) && s.boolField(&r.Traced)
		default:
			ok = unknownKey(k) && s.skip(2)
		}
		if !ok {
			return false
		}
	}
	*p = r
	return ok
}

func (s *scanner) response(p **HTTPResponse, r *HTTPResponse) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "status":
			ok = once(&seen, 0) && s.intField(&r.Status)
		case "content_length":
			ok = once(&seen, 1) && s.int64Field(&r.ContentLength)
		default:
			ok = unknownKey(k) && s.skip(2)
		}
		if !ok {
			return false
		}
	}
	*p = r
	return ok
}

func (s *scanner) sql(p **SQL) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	q := new(SQL)
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "url":
			ok = once(&seen, 0) && s.strField(&q.URL)
		case "connection_string":
			ok = once(&seen, 1) && s.strField(&q.ConnectionString)
		case "sanitized_query":
			ok = once(&seen, 2) && s.strField(&q.SanitizedQuery)
		case "database_type":
			ok = once(&seen, 3) && s.strField(&q.DatabaseType)
		case "database_version":
			ok = once(&seen, 4) && s.strField(&q.DatabaseVersion)
		case "driver_version":
			ok = once(&seen, 5) && s.strField(&q.DriverVersion)
		case "user":
			ok = once(&seen, 6) && s.strField(&q.User)
		case "preparation":
			ok = once(&seen, 7) && s.strField(&q.Preparation)
		default:
			ok = unknownKey(k) && s.skip(2)
		}
		if !ok {
			return false
		}
	}
	*p = q
	return ok
}

func (s *scanner) service(p **Service, v *Service) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	if v == nil {
		v = new(Service)
	}
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "version":
			ok = once(&seen, 0) && s.strField(&v.Version)
		case "runtime":
			ok = once(&seen, 1) && s.strField(&v.Runtime)
		case "runtime_version":
			ok = once(&seen, 2) && s.strField(&v.RuntimeVersion)
		default:
			ok = unknownKey(k) && s.skip(2)
		}
		if !ok {
			return false
		}
	}
	*p = v
	return ok
}

func (s *scanner) links(p *[]Link, depth int) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.openArray() {
		return false
	}
	out := []Link{}
	done, ok := s.firstElem()
	for ; ok && !done; done, ok = s.nextElem() {
		var l Link
		if !s.open() {
			return false
		}
		var seen uint64
		k, done, ok := s.firstKey()
		for ; ok && !done; k, done, ok = s.nextKey() {
			switch string(k) {
			case "trace_id":
				ok = once(&seen, 0) && s.strField(&l.TraceID)
			case "id":
				ok = once(&seen, 1) && s.strField(&l.ID)
			case "attributes":
				ok = once(&seen, 2) && s.scalars(&l.Attributes)
			default:
				ok = unknownKey(k) && s.skip(depth+2)
			}
			if !ok {
				return false
			}
		}
		if !ok {
			return false
		}
		out = append(out, l)
	}
	*p = out
	return ok
}
