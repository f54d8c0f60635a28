package trace

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/fieldcodec"
)

// summaryCodec stores every exported field of Summary by its json name (the
// keyed form) or by its number (the packed form, numberSummaryFields). Searches
// decode summaries by the hundred thousand, which is why this is not JSON.
var summaryCodec = func() *fieldcodec.Codec[Summary] {
	numberSummaryFields()
	c, err := fieldcodec.New[Summary]()
	if err != nil {
		panic(err) // a Summary field of a kind the codec cannot store: see codec_test.go
	}
	return c
}()

// packedSummaryCodec writes fields by number and ids in binary
// (fieldcodec's packed form).
var packedSummaryCodec = summaryCodec.Packed()

// The first byte of an encoded summary says its form. Each form stays
// readable: stores and ClickHouse rows hold summaries of every earlier
// build. Summaries stored as JSON (before the binary form) begin with '{'.
const (
	summaryKeyed  = 0x01 // fieldcodec, strings as written
	summaryPacked = 0x02 // fieldcodec's packed form: numbered fields, hex ids in binary
	// summaryDerived is the packed form without fields the reader derives
	// from the others (codec_derived.go): what summaries are written in.
	summaryDerived = 0x03
	// summaryCompact (codec_compact.go) is the derived form with its
	// times as small integers: what the embedded store writes.
)

// EncodeSummary is the stored form of a summary.
func EncodeSummary(s *Summary) ([]byte, error) {
	return AppendSummary(make([]byte, 0, 1024), s)
}

// AppendSummary appends the stored form of s to dst.
func AppendSummary(dst []byte, s *Summary) ([]byte, error) {
	return AppendSummaryUnder(dst, s, "")
}

// AppendSummaryUnder appends the stored form of s to be kept under a key
// that holds traceID: s's own trace id is left out when it is traceID (35
// bytes, 5 of them per segment once compressed). Read it back with
// DecodeSummaryUnder and the same id.
func AppendSummaryUnder(dst []byte, s *Summary, traceID string) ([]byte, error) {
	omitID := traceID != "" && s.TraceID == traceID
	if b, ok := appendDerived(dst, s, omitID); ok {
		return b, nil
	}
	return appendPackedByReflection(dst, s, omitID) // for its error
}

// AppendCompactSummary appends the compact form of s (codec_compact.go)
// to be kept under a key that holds traceID, which is then left out of it
// when it is s's. Read it back with DecodeSummaryUnder and the same id.
// Builds before the compact form cannot read it: stores that hold it say so
// in their layout version.
func AppendCompactSummary(dst []byte, s *Summary, traceID string) ([]byte, error) {
	if b, ok := appendCompact(dst, s, traceID); ok {
		return b, nil
	}
	return appendPackedByReflection(dst[:len(dst):len(dst)], s, false) // for its error
}

// appendPackedByReflection is AppendSummaryUnder through fieldcodec: the
// reference appendPackedSummary's bytes are tested against.
func appendPackedByReflection(dst []byte, s *Summary, omitID bool) ([]byte, error) {
	c := s
	if omitID {
		c = copies.Get().(*Summary)
		*c = *s
		c.TraceID = ""
	}
	dst, err := packedSummaryCodec.Append(append(dst, summaryPacked), c)
	if c != s {
		*c = Summary{} // the pool keeps no strings alive
		copies.Put(c)
	}
	return dst, err
}

// copies are summaries to store in place of those whose trace id the key
// holds: one allocated per stored summary was a tenth of encoding's cost.
var copies = sync.Pool{New: func() any { return new(Summary) }}

// DecodeSummaryUnder reads a summary stored by AppendSummaryUnder under a
// key that holds traceID. A summary of any form without an id of its own
// is the key's trace's (older forms always stored one: only damaged bytes
// lack it), so that what it decodes to encodes to bytes that decode the
// same (FuzzDecodeCompactSummary).
func DecodeSummaryUnder(b []byte, traceID string) (*Summary, error) {
	s, err := decodeSummary(b, traceID)
	if err == nil && s.TraceID == "" {
		s.TraceID = traceID
	}
	return s, err
}

// DecodeSummary reads a stored summary. The result shares no memory with b.
func DecodeSummary(b []byte) (*Summary, error) { return decodeSummary(b, "") }

// decodeSummary reads a summary stored under a key that holds traceID
// ("" for none), which a compact summary may derive its epoch from.
func decodeSummary(b []byte, traceID string) (*Summary, error) {
	s := new(Summary)
	if len(b) == 0 {
		return nil, fmt.Errorf("stored summary is empty")
	}
	switch b[0] {
	case summaryPacked:
		if err := packedSummaryCodec.Decode(b[1:], s); err != nil {
			return nil, err
		}
	case summaryCompact:
		if err := decodeCompact(b[1:], s, traceID); err != nil {
			return nil, err
		}
	case summaryDerived:
		if err := decodeDerived(b[1:], s); err != nil {
			return nil, err
		}
	case summaryKeyed:
		if err := summaryCodec.Decode(b[1:], s); err != nil {
			return nil, err
		}
	case '{':
		if err := json.Unmarshal(b, s); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("stored summary has unknown format byte %#x", b[0])
	}
	return s, nil
}

// numberSummaryFields numbers the fields of Summary and the types it holds
// for the packed form: a field is stored under its position in its list
// (from 1). A field added to any of these types is appended to its list,
// or the codec fails at start-up (every test fails, naming the field); a
// removed field's key stays, or becomes "-", so its number is not reused.
// A new field is also written by appendPackedSummary (codec_packed.go), or
// TestPackedSummaryMatchesFieldcodec fails.
func numberSummaryFields() {
	fieldcodec.Number[Summary]("id", "ep", "st", "et", "du", "rt", "hf", "he", "ht", "ok", "pa", "http",
		"ep_node", "nodes", "edges", "segs", "ann", "users", "exc", "arns", "iids", "azs", "frc", "erc", "rrc",
		"rev", "up", "n", "b", "lx")
	fieldcodec.Number[HTTP]("u", "m", "ua", "ip", "s")
	fieldcodec.Number[Node]("NodeID", "names", "root", "inf")
	fieldcodec.Number[NodeID]("Name", "Type", "AccountId")
	// SegmentFact's id (2) and parent (12) and Edge's subsegment id (3) are
	// no longer stored: summaries of earlier builds hold them, and the
	// reader skips them.
	fieldcodec.Number[SegmentFact]("n", "-", "r", "i", "f", "e", "t", "p", "st", "et", "h", "-")
	fieldcodec.Number[Edge]("f", "t", "-", "fa", "er", "th", "p", "st", "et", "h", "ty")
	fieldcodec.Number[Annotation]("k", "v", "n")
	fieldcodec.Number[User]("u", "n")
	fieldcodec.Number[ExceptionFact]("n", "t", "m", "r")
	fieldcodec.Number[RootCause]("Services", "ClientImpacting")
	fieldcodec.Number[RootCauseService]("Name", "Names", "Type", "AccountId", "EntityPath", "Inferred")
	fieldcodec.Number[RootCauseEntity]("Name", "Exceptions", "Remote", "Coverage")
	fieldcodec.Number[RootCauseException]("Name", "Message")
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
