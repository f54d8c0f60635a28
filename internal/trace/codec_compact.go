package trace

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// The compact form (format byte summaryCompact) is the derived form with
// its times kept apart as small integers: after the format byte, a uvarint
// of derive flags (those of the derived form and deriveEpoch), a uvarint
// length and the packed body without the times (compactForm), then the
// times (timeWriter.appendAll's order) each as a timeCode; in the body, client IP
// addresses, instance ids and ARNs that end in hex ids are escaped strings
// (fieldcodec.AppendEscapedString), random bytes that block compression
// cannot shrink, as the times are too. Times were 8-byte floats,
// the random-looking part of a summary that block compression cannot
// shrink: a generated trace's are microseconds from the trace id's epoch
// or the time before, two to three bytes each. A time is stored so that it
// decodes bit for bit, or as its 8 bytes.
const summaryCompact = 0x04

const (
	// deriveEpoch: Epoch is the epoch in the trace id (compact form only).
	deriveEpoch  = deriveKnown + 1
	compactKnown = deriveKnown | deriveEpoch

	// compactForm is not stored: it tells appendPackedSummary to write
	// the compact form's body, without the times it writes apart.
	compactForm = 1 << 63
)

// appendCompact appends the compact form of s; traceID is the id the key
// holds ("" when s.TraceID is in the body). ok as for appendPackedSummary.
func appendCompact(dst []byte, s *Summary, traceID string) ([]byte, bool) {
	omitID := traceID != "" && s.TraceID == traceID
	d := derivedFields(s)
	if ep, ok := segment.TraceEpoch(s.TraceID); ok && ep == s.Epoch {
		d |= deriveEpoch
	}
	dst = binary.AppendUvarint(append(dst, summaryCompact), d)
	// The body's length takes one byte for bodies under 128 bytes, two
	// up to 16 kB: reserve one and move the body if it needs more.
	at := len(dst)
	dst, ok := appendPackedSummary(append(dst, 0), s, omitID, d|compactForm)
	if !ok {
		return dst, false
	}
	dst = pEnd(dst, at)
	t := timeWriter{base: epochMicros(s.Epoch)}
	return t.appendAll(dst, s, d), true
}

// epochMicros is where a summary's times count from: its epoch in
// microseconds, or 0 for an epoch too far out to be one (kept below 2^53
// so that every base stays exact in a float64 and in nanoseconds).
func epochMicros(epoch int64) int64 {
	if epoch <= -1<<33 || epoch >= 1<<33 {
		return 0
	}
	return epoch * 1e6
}

// A timeCode is a uvarint x: 0 is +0 (not yet ended), 1 an 8-byte float
// that follows, and from 2 a zigzag delta z = (x-2)>>1 from the base in
// microseconds: (x-2)&1 == 0 is the time base+z µs, which becomes the
// base; 1 is (base µs in ns + z) ns, for times taken from a clock's
// nanoseconds (UpdatedAt), the base unchanged.
type timeWriter struct{ base int64 }

// appendAll appends the times the compact form stores apart, in its
// order: what derivations leave (d) of the trace's start and end, each
// fact's start and end but those of inferred facts derived from their
// edges, each edge's, and when the trace was updated.
func (t *timeWriter) appendAll(b []byte, s *Summary, d uint64) []byte {
	if d&deriveStart == 0 {
		b = t.append(b, s.StartTime)
	}
	if d&deriveEnd == 0 {
		b = t.append(b, s.EndTime)
	}
	for i := range s.Segments {
		if f := &s.Segments[i]; !f.Inferred || d&deriveInferredFacts == 0 {
			b = t.append(t.append(b, f.Start), f.End)
		}
	}
	for i := range s.Edges {
		b = t.append(t.append(b, s.Edges[i].Start), s.Edges[i].End)
	}
	return t.append(b, s.UpdatedAt)
}

// maxDelta keeps zigzag(delta)<<1 within a uint64.
const maxDelta = 1 << 61

func (t *timeWriter) append(b []byte, f float64) []byte {
	if math.Float64bits(f) == 0 {
		return append(b, 0)
	}
	if math.Abs(f) < 9e9 { // also false for NaN
		if us := int64(math.Round(f * 1e6)); sameFloat(float64(us)/1e6, f) {
			d := us - t.base
			t.base = us
			return binary.AppendUvarint(b, 2+zigzag(d)<<1)
		}
		base := t.base * 1000
		p := f * 1e9
		for _, c := range [3]float64{p, math.Nextafter(p, math.Inf(1)), math.Nextafter(p, math.Inf(-1))} {
			if d := int64(c) - base; d > -maxDelta && d < maxDelta && sameFloat(float64(base+d)/1e9, f) {
				return binary.AppendUvarint(b, 2+(zigzag(d)<<1|1))
			}
		}
	}
	return binary.LittleEndian.AppendUint64(append(b, 1), math.Float64bits(f))
}

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// timeReader reads what timeWriter wrote.
type timeReader struct {
	b    []byte
	base int64
	err  error
}

func (t *timeReader) read(f *float64) {
	if t.err != nil {
		return
	}
	var x uint64
	if len(t.b) > 0 && t.b[0] < 0x80 {
		x, t.b = uint64(t.b[0]), t.b[1:]
	} else {
		var n int
		if x, n = binary.Uvarint(t.b); n <= 0 {
			t.err = fmt.Errorf("stored summary: its times are cut short")
			return
		}
		t.b = t.b[n:]
	}
	switch {
	case x == 0:
		*f = 0
	case x == 1:
		if len(t.b) < 8 {
			t.err = fmt.Errorf("stored summary: a time is cut short")
			return
		}
		*f = math.Float64frombits(binary.LittleEndian.Uint64(t.b))
		t.b = t.b[8:]
	case (x-2)&1 == 0:
		t.base += unzigzag((x - 2) >> 1)
		*f = float64(t.base) / 1e6
	default:
		*f = float64(t.base*1000+unzigzag((x-2)>>1)) / 1e9
	}
}

// readAll reads what appendAll wrote.
func (t *timeReader) readAll(s *Summary, d uint64) {
	if d&deriveStart == 0 {
		t.read(&s.StartTime)
	}
	if d&deriveEnd == 0 {
		t.read(&s.EndTime)
	}
	for i := range s.Segments {
		if f := &s.Segments[i]; !f.Inferred || d&deriveInferredFacts == 0 {
			t.read(&f.Start)
			t.read(&f.End)
		}
	}
	for i := range s.Edges {
		t.read(&s.Edges[i].Start)
		t.read(&s.Edges[i].End)
	}
	t.read(&s.UpdatedAt)
}

// decodeCompact reads the body of a summary in the compact form; traceID
// is the id of the key it was stored under, "" if none.
func decodeCompact(b []byte, s *Summary, traceID string) error {
	d, n := binary.Uvarint(b)
	if n <= 0 {
		return fmt.Errorf("stored summary: derive flags are cut short")
	}
	if d&^compactKnown != 0 {
		return fmt.Errorf("stored summary derives fields this build does not know (flags %#x)", d)
	}
	b = b[n:]
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return fmt.Errorf("stored summary: its body is cut short")
	}
	body, times := b[n:n+int(l)], b[n+int(l):]
	if err := packedSummaryCodec.Decode(body, s); err != nil {
		return err
	}
	if d&deriveEpoch != 0 {
		id := s.TraceID
		if id == "" {
			id = traceID
		}
		ep, ok := segment.TraceEpoch(id)
		if !ok {
			return fmt.Errorf("stored summary derives its epoch from trace id %q, which has none", id)
		}
		s.Epoch = ep
	}
	t := timeReader{b: times, base: epochMicros(s.Epoch)}
	t.readAll(s, d)
	if t.err != nil {
		return t.err
	}
	if len(t.b) != 0 {
		return fmt.Errorf("stored summary: %d bytes after its times", len(t.b))
	}
	return applyDerived(d&^deriveEpoch, s)
}
