// Package header parses and writes the X-Ray trace header (X-Amzn-Trace-Id)
// and reads W3C traceparent headers into the same shape.
package header

import (
	"strings"
)

// Prefixes of the header's well-known keys.
const (
	RootPrefix    = "Root="
	ParentPrefix  = "Parent="
	SampledPrefix = "Sampled="
	SelfPrefix    = "Self="
)

// SamplingDecision is the Sampled= part of a header.
type SamplingDecision string

// Sampling decisions a header can carry.
const (
	Sampled    SamplingDecision = "Sampled=1"
	NotSampled SamplingDecision = "Sampled=0"
	Requested  SamplingDecision = "Sampled=?"
	Unknown    SamplingDecision = ""
)

// Header is a parsed trace header. AdditionalData holds every other key
// (Lineage and vendor keys), forwarded downstream unchanged.
type Header struct {
	TraceID          string
	ParentID         string
	SamplingDecision SamplingDecision

	AdditionalData map[string]string
}

// FromString parses an X-Amzn-Trace-Id value. Unknown or malformed parts are
// ignored, never an error: a bad header must not break the request.
func FromString(s string) *Header {
	h := &Header{}
	for len(s) > 0 {
		var p string
		if i := strings.IndexByte(s, ';'); i >= 0 {
			p, s = s[:i], s[i+1:]
		} else {
			p, s = s, ""
		}
		p = strings.TrimSpace(p)
		eq := strings.IndexByte(p, '=')
		if eq <= 0 || eq == len(p)-1 {
			continue
		}
		key, val := p[:eq], p[eq+1:]
		switch key {
		case "Root":
			h.TraceID = val
		case "Parent":
			h.ParentID = val
		case "Sampled":
			switch val {
			case "1":
				h.SamplingDecision = Sampled
			case "0":
				h.SamplingDecision = NotSampled
			case "?":
				h.SamplingDecision = Requested
			}
		case "Self":
			// Added by load balancers; SDKs drop it.
		default:
			if h.AdditionalData == nil {
				h.AdditionalData = make(map[string]string, 1)
			}
			h.AdditionalData[key] = val
		}
	}
	return h
}

// String writes the header as Root=…;Parent=…;Sampled=…;extra, the order the
// official SDKs use.
func (h Header) String() string {
	return string(h.AppendTo(make([]byte, 0, 96)))
}

// AppendTo appends the header's text to b.
func (h Header) AppendTo(b []byte) []byte {
	sep := func() {
		if len(b) > 0 {
			b = append(b, ';')
		}
	}
	if h.TraceID != "" {
		b = append(b, RootPrefix...)
		b = append(b, h.TraceID...)
	}
	if h.ParentID != "" {
		sep()
		b = append(b, ParentPrefix...)
		b = append(b, h.ParentID...)
	}
	if h.SamplingDecision != Unknown {
		sep()
		b = append(b, h.SamplingDecision...)
	}
	for _, k := range sortedKeys(h.AdditionalData) {
		sep()
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, h.AdditionalData[k]...)
	}
	return b
}

func sortedKeys(m map[string]string) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// FromTraceparent reads a W3C traceparent value
// (version-traceid-parentid-flags) as an X-Ray header: the trace id becomes
// 1-<first 8 hex>-<remaining 24 hex>, the sampled flag the decision. ok is
// false for anything that is not a valid traceparent.
func FromTraceparent(s string) (h *Header, ok bool) {
	s = strings.TrimSpace(s)
	// 2 + 1 + 32 + 1 + 16 + 1 + 2; later versions may append fields.
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || (len(s) > 55 && s[55] != '-') {
		return nil, false
	}
	ver, tid, pid, flags := s[:2], s[3:35], s[36:52], s[53:55]
	if !lowerHex(ver) || ver == "ff" || !lowerHex(tid) || !lowerHex(pid) || !lowerHex(flags) ||
		tid == "00000000000000000000000000000000" || pid == "0000000000000000" || (ver == "00" && len(s) != 55) {
		return nil, false
	}
	h = &Header{TraceID: "1-" + tid[:8] + "-" + tid[8:], ParentID: pid, SamplingDecision: NotSampled}
	if (hexVal(flags[1]) & 1) == 1 {
		h.SamplingDecision = Sampled
	}
	return h, true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func hexVal(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}
