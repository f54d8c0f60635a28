package trace

import (
	"encoding/binary"
	"math"
	"slices"
	"unsafe"

	"github.com/roentgen-tracing/roentgen/internal/fieldcodec"
)

// appendPackedSummary appends fieldcodec's packed form of s (without the
// format byte) by hand: the reflective codec's per-field closures were
// ~5% of the server's CPU for single-segment traces. The bytes must equal
// packedSummaryCodec's exactly (codec_packed_test.go compares the two over
// every field); fieldcodec stays the decoder and the reference. omitID
// leaves out the trace id. ok is false for a value this encoder does not
// handle (an annotation value of an unexpected type): the caller then
// uses fieldcodec, which reports it.
//
// derived (derivedFields) names fields left out because the reader derives
// them: the bytes then equal fieldcodec's for s with those fields zero.
// With compactForm the times the compact form keeps apart (timeWriter.appendAll) are
// left out as well, and some strings escaped (pStrFieldAs).
func appendPackedSummary(b []byte, s *Summary, omitID bool, derived uint64) (_ []byte, ok bool) {
	if !omitID {
		b = pStrField(b, 1, s.TraceID)
	}
	if derived&deriveEpoch == 0 {
		b = pIntField(b, 2, int64(s.Epoch))
	}
	compact := derived&compactForm != 0
	if derived&deriveStart == 0 && !compact {
		b = pFloatField(b, 3, s.StartTime)
	}
	if derived&deriveEnd == 0 && !compact {
		b = pFloatField(b, 4, s.EndTime)
	}
	if derived&deriveDuration == 0 {
		b = pFloatField(b, 5, s.Duration)
	}
	if derived&deriveResponseTime == 0 {
		b = pFloatField(b, 6, s.ResponseTime)
	}
	b = pBoolField(b, 7, s.HasFault)
	b = pBoolField(b, 8, s.HasError)
	b = pBoolField(b, 9, s.HasThrottle)
	b = pBoolField(b, 10, s.RootOK)
	b = pBoolField(b, 11, s.IsPartial)
	if derived&deriveHTTP == 0 {
		b = pHTTPField(b, 12, &s.HTTP, compact)
	}
	b = pIntField(b, 13, int64(s.EntryPoint))
	if s.Nodes != nil {
		at := 0
		b, at = pBegin(pHeader(b, 14, wireBytes), len(s.Nodes))
		for i := range s.Nodes {
			b = pNode(b, &s.Nodes[i], derived&deriveNames != 0)
		}
		b = pEnd(b, at)
	}
	if s.Edges != nil {
		at := 0
		b, at = pBegin(pHeader(b, 15, wireBytes), len(s.Edges))
		for i := range s.Edges {
			b = pEdge(b, &s.Edges[i], compact)
		}
		b = pEnd(b, at)
	}
	if s.Segments != nil {
		at := 0
		b, at = pBegin(pHeader(b, 16, wireBytes), len(s.Segments))
		for i := range s.Segments {
			if f := &s.Segments[i]; f.Inferred && derived&deriveInferredFacts != 0 {
				b = pSegmentFact(b, &SegmentFact{Inferred: true}, false)
				continue
			}
			b = pSegmentFact(b, &s.Segments[i], compact)
		}
		b = pEnd(b, at)
	}
	if s.Annotations != nil {
		at := 0
		b, at = pBegin(pHeader(b, 17, wireBytes), len(s.Annotations))
		for i := range s.Annotations {
			if b, ok = pAnnotation(b, &s.Annotations[i]); !ok {
				return b, false
			}
		}
		b = pEnd(b, at)
	}
	if s.Users != nil {
		at := 0
		b, at = pBegin(pHeader(b, 18, wireBytes), len(s.Users))
		for i := range s.Users {
			u := &s.Users[i]
			at := 0
			b, at = pNested(b)
			b = pStrField(b, 1, u.Name)
			b = pIntsField(b, 2, u.Nodes)
			b = pEnd(b, at)
		}
		b = pEnd(b, at)
	}
	if s.Exceptions != nil {
		at := 0
		b, at = pBegin(pHeader(b, 19, wireBytes), len(s.Exceptions))
		for i := range s.Exceptions {
			x := &s.Exceptions[i]
			at := 0
			b, at = pNested(b)
			b = pIntField(b, 1, int64(x.Node))
			b = pStrField(b, 2, x.Type)
			b = pStrField(b, 3, x.Message)
			b = pBoolField(b, 4, x.Remote)
			b = pEnd(b, at)
		}
		b = pEnd(b, at)
	}
	b = pStringsFieldAs(b, 20, s.ResourceARNs, compact)
	b = pStringsFieldAs(b, 21, s.InstanceIDs, compact)
	b = pStringsField(b, 22, s.AvailabilityZones)
	b = pRootCausesField(b, 23, s.FaultRootCauses)
	b = pRootCausesField(b, 24, s.ErrorRootCauses)
	if derived&deriveResponseTimeRootCauses == 0 {
		b = pRootCausesField(b, 25, s.ResponseTimeRootCauses)
	}
	b = pIntField(b, 26, int64(s.Revision))
	if !compact {
		b = pFloatField(b, 27, s.UpdatedAt)
	}
	b = pIntField(b, 28, int64(s.SegmentCount))
	b = pIntField(b, 29, int64(s.Bytes))
	b = pBoolField(b, 30, s.LimitExceeded)
	return b, true
}

func pNode(b []byte, n *Node, deriveNames bool) []byte {
	b, at := pNested(b)
	if !zeroMem(&n.NodeID) {
		b = pNodeID(pHeader(b, 1, wireBytes), &n.NodeID)
	}
	if !deriveNames {
		b = pStringsField(b, 2, n.Names)
	}
	b = pBoolField(b, 3, n.Root)
	b = pBoolField(b, 4, n.Inferred)
	return pEnd(b, at)
}

func pNodeID(b []byte, id *NodeID) []byte {
	b, at := pNested(b)
	b = pStrField(b, 1, id.Name)
	b = pStrField(b, 2, id.Type)
	b = pStrField(b, 3, id.AccountID)
	return pEnd(b, at)
}

func pEdge(b []byte, e *Edge, compact bool) []byte {
	b, at := pNested(b)
	b = pIntField(b, 1, int64(e.From))
	b = pIntField(b, 2, int64(e.To))
	b = pBoolField(b, 4, e.Fault)
	b = pBoolField(b, 5, e.Error)
	b = pBoolField(b, 6, e.Throttle)
	b = pBoolField(b, 7, e.InProgress)
	if !compact {
		b = pFloatField(b, 8, e.Start)
		b = pFloatField(b, 9, e.End)
	}
	b = pHTTPField(b, 10, &e.HTTP, compact)
	b = pStrField(b, 11, e.Type)
	return pEnd(b, at)
}

func pSegmentFact(b []byte, f *SegmentFact, compact bool) []byte {
	b, at := pNested(b)
	b = pIntField(b, 1, int64(f.Node))
	b = pBoolField(b, 3, f.Root)
	b = pBoolField(b, 4, f.Inferred)
	b = pBoolField(b, 5, f.Fault)
	b = pBoolField(b, 6, f.Error)
	b = pBoolField(b, 7, f.Throttle)
	b = pBoolField(b, 8, f.InProgress)
	if !compact {
		b = pFloatField(b, 9, f.Start)
		b = pFloatField(b, 10, f.End)
	}
	b = pHTTPField(b, 11, &f.HTTP, compact)
	return pEnd(b, at)
}

// pHTTPField writes h unless its memory is all zero, fieldcodec's test for
// omitting a struct field (an empty string with a data pointer is not).
func pHTTPField(b []byte, num int, h *HTTP, compact bool) []byte {
	if zeroMem(h) {
		return b
	}
	b, at := pNested(pHeader(b, num, wireBytes))
	b = pStrField(b, 1, h.URL)
	b = pStrField(b, 2, h.Method)
	b = pStrField(b, 3, h.UserAgent)
	b = pStrFieldAs(b, 4, h.ClientIP, compact)
	b = pIntField(b, 5, int64(h.Status))
	return pEnd(b, at)
}

func pAnnotation(b []byte, a *Annotation) ([]byte, bool) {
	b, at := pNested(b)
	b = pStrField(b, 1, a.Key)
	if a.Value != nil {
		var vat int
		b, vat = pNested(pHeader(b, 2, wireBytes))
		switch v := a.Value.(type) {
		case string:
			b = append(b, 's')
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		case float64:
			b = binary.LittleEndian.AppendUint64(append(b, 'f'), math.Float64bits(v))
		case bool:
			if v {
				b = append(b, 't')
			} else {
				b = append(b, 'b')
			}
		case int64:
			b = binary.AppendVarint(append(b, 'i'), v)
		case int:
			b = binary.AppendVarint(append(b, 'i'), int64(v))
		default:
			return b, false
		}
		b = pEnd(b, vat)
	}
	b = pIntsField(b, 3, a.Nodes)
	return pEnd(b, at), true
}

func pRootCausesField(b []byte, num int, rcs []RootCause) []byte {
	if rcs == nil {
		return b
	}
	b, at := pBegin(pHeader(b, num, wireBytes), len(rcs))
	for i := range rcs {
		rc := &rcs[i]
		at := 0
		b, at = pNested(b)
		if rc.Services != nil {
			at := 0
			b, at = pBegin(pHeader(b, 1, wireBytes), len(rc.Services))
			for j := range rc.Services {
				b = pRootCauseService(b, &rc.Services[j])
			}
			b = pEnd(b, at)
		}
		b = pBoolField(b, 2, rc.ClientImpacting)
		b = pEnd(b, at)
	}
	return pEnd(b, at)
}

func pRootCauseService(b []byte, s *RootCauseService) []byte {
	b, at := pNested(b)
	b = pStrField(b, 1, s.Name)
	b = pStringsField(b, 2, s.Names)
	b = pStrField(b, 3, s.Type)
	b = pStrField(b, 4, s.AccountId)
	if s.EntityPath != nil {
		at := 0
		b, at = pBegin(pHeader(b, 5, wireBytes), len(s.EntityPath))
		for i := range s.EntityPath {
			b = pRootCauseEntity(b, &s.EntityPath[i])
		}
		b = pEnd(b, at)
	}
	b = pBoolField(b, 6, s.Inferred)
	return pEnd(b, at)
}

func pRootCauseEntity(b []byte, e *RootCauseEntity) []byte {
	b, at := pNested(b)
	b = pStrField(b, 1, e.Name)
	if e.Exceptions != nil {
		at := 0
		b, at = pBegin(pHeader(b, 2, wireBytes), len(e.Exceptions))
		for i := range e.Exceptions {
			x := &e.Exceptions[i]
			at := 0
			b, at = pNested(b)
			b = pStrField(b, 1, x.Name)
			b = pStrField(b, 2, x.Message)
			b = pEnd(b, at)
		}
		b = pEnd(b, at)
	}
	b = pBoolField(b, 3, e.Remote)
	if e.Coverage != nil {
		// A pointer is its target behind a length: 8 bytes of float.
		b = append(pHeader(b, 4, wireBytes), 8)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(*e.Coverage))
	}
	return pEnd(b, at)
}

// Wire types of fieldcodec's packed form.
const (
	wireVarint       = 0
	wireFixed64      = 1
	wireBytes        = 2
	wirePackedString = 4
)

func pHeader(b []byte, num, wire int) []byte {
	return binary.AppendUvarint(b, uint64(num)<<3|uint64(wire))
}

func pIntField(b []byte, num int, v int64) []byte {
	if v == 0 {
		return b
	}
	return binary.AppendVarint(pHeader(b, num, wireVarint), v)
}

func pBoolField(b []byte, num int, v bool) []byte {
	if !v {
		return b
	}
	return append(pHeader(b, num, wireVarint), 1)
}

// pFloatField omits only +0: -0 has bits and is written, as fieldcodec does.
func pFloatField(b []byte, num int, v float64) []byte {
	bits := math.Float64bits(v)
	if bits == 0 {
		return b
	}
	return binary.LittleEndian.AppendUint64(pHeader(b, num, wireFixed64), bits)
}

func pStrField(b []byte, num int, s string) []byte {
	if len(s) == 0 {
		return b
	}
	return pStr(pHeader(b, num, wirePackedString), s)
}

// pStrFieldAs is pStrField, escaped (fieldcodec.AppendEscapedString) in
// the compact form: client IP addresses, instance ids and ARNs ending in
// ids are random to block compression, and take half the bytes or less.
func pStrFieldAs(b []byte, num int, s string, compact bool) []byte {
	if !compact || len(s) == 0 {
		return pStrField(b, num, s)
	}
	return pStrAs(pHeader(b, num, wirePackedString), s, compact)
}

func pStrAs(b []byte, s string, compact bool) []byte {
	if compact {
		if e, ok := fieldcodec.AppendEscapedString(b, s); ok {
			return e
		}
	}
	return pStr(b, s)
}

func pStringsFieldAs(b []byte, num int, ss []string, compact bool) []byte {
	if ss == nil || !compact {
		return pStringsField(b, num, ss)
	}
	b, at := pBegin(pHeader(b, num, wireBytes), len(ss))
	for _, s := range ss {
		b = pStrAs(b, s, true)
	}
	return pEnd(b, at)
}

func pStringsField(b []byte, num int, ss []string) []byte {
	if ss == nil {
		return b
	}
	b, at := pBegin(pHeader(b, num, wireBytes), len(ss))
	for _, s := range ss {
		b = pStr(b, s)
	}
	return pEnd(b, at)
}

func pIntsField(b []byte, num int, vs []int) []byte {
	if vs == nil {
		return b
	}
	b, at := pBegin(pHeader(b, num, wireBytes), len(vs))
	for _, v := range vs {
		b = binary.AppendVarint(b, int64(v))
	}
	return pEnd(b, at)
}

// pStr writes a packed string: uvarint(len<<1|hex), then the bytes or, for
// an even number of lower-case hex digits, the digits two to a byte.
func pStr(b []byte, s string) []byte {
	if len(s) > 0 && len(s)%2 == 0 {
		at := len(b)
		b = binary.AppendUvarint(b, uint64(len(s))<<1|1)
		h := len(b)
		b = slices.Grow(b, len(s)/2)[:h+len(s)/2]
		out := b[h:]
		for i := range out {
			hi, lo := hexDigit[s[2*i]], hexDigit[s[2*i+1]]
			if hi|lo > 15 {
				b = b[:at]
				goto plain
			}
			out[i] = hi<<4 | lo
		}
		return b
	}
plain:
	b = binary.AppendUvarint(b, uint64(len(s))<<1)
	return append(b, s...)
}

// hexDigit is the value of a lower-case hex digit, 0xff for other bytes.
var hexDigit = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// pNested reserves one byte for the length of what follows; pEnd fills it
// in, shifting the body right when the length needs more bytes.
func pNested(b []byte) ([]byte, int) {
	return append(b, 0), len(b)
}

// pBegin starts a collection of n elements: its length, then its count.
func pBegin(b []byte, n int) ([]byte, int) {
	b, at := pNested(b)
	return binary.AppendUvarint(b, uint64(n)), at
}

func pEnd(b []byte, at int) []byte {
	n := len(b) - at - 1
	if n < 0x80 {
		b[at] = byte(n)
		return b
	}
	var lb [binary.MaxVarintLen64]byte
	l := binary.PutUvarint(lb[:], uint64(n))
	b = append(b, lb[:l-1]...)
	copy(b[at+l:], b[at+1:at+1+n])
	copy(b[at:], lb[:l])
	return b
}

// zeroMem reports whether *v's memory is all zero bytes: how fieldcodec
// decides to omit a struct-valued field.
func zeroMem[T any](v *T) bool {
	for _, x := range unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v)) {
		if x != 0 {
			return false
		}
	}
	return true
}
