package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
)

// Limits from the X-Ray developer guide (spec §1, §3.4).
const (
	MaxDocumentSize = 64 * 1024
	MaxNameLength   = 200
	MaxStringLength = 250
	// DefaultMaxAge is how old a trace id's epoch may be (X-Ray's retention).
	DefaultMaxAge = 30 * 24 * time.Hour
	// DefaultMaxFuture tolerates clock skew between clients and the server.
	DefaultMaxFuture = 5 * time.Minute
)

// Error codes reported in UnprocessedTraceSegments. InvalidTraceId is X-Ray's
// own documented code; the others name the rule that failed in the same style.
const (
	CodeInvalidTraceID   = "InvalidTraceId"
	CodeInvalidID        = "InvalidSegmentId"
	CodeInvalidParentID  = "InvalidParentId"
	CodeInvalidName      = "InvalidName"
	CodeInvalidStartTime = "InvalidStartTime"
	CodeInvalidEndTime   = "InvalidEndTime"
	CodeTooLarge         = "SegmentTooLarge"
	CodeMalformed        = "MalformedDocument"
)

// Error is a rejected document: the protocol reports ID, Code and Message.
type Error struct {
	ID      string
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

func reject(id, code, format string, args ...any) *Error {
	return &Error{ID: id, Code: code, Message: "Invalid segment. ErrorCode: " + code + ": " + fmt.Sprintf(format, args...)}
}

// Options tune validation. The zero value validates against time.Now with
// X-Ray's limits.
type Options struct {
	Now       time.Time
	MaxAge    time.Duration
	MaxFuture time.Duration
	// SkipTraceEpoch accepts trace ids whose epoch part is not a time, as
	// W3C ids converted from OpenTelemetry are (spec §1.1).
	SkipTraceEpoch bool
	// Stored re-decodes a document validated when it was stored: the time
	// bounds, which move with the clock (and were looser in older builds),
	// are not checked again, so a stored document always parses.
	Stored bool

	// Set by Prepared: the defaults are in, and the bounds from Now
	// computed (time.Time arithmetic, ~400 instructions a document).
	prepared           bool
	minEpoch, maxEpoch time.Time // Now - MaxAge, Now + MaxFuture
	earliest, latest   float64   // their epoch seconds
}

// Prepared is o with its defaults and the time bounds every document is
// checked against computed once, for a caller that parses many documents
// with the same options (ingest, per call). Changing o's fields after
// does not change those bounds: prepare again.
func (o Options) Prepared() Options {
	o = o.withDefaults()
	o.minEpoch, o.maxEpoch = o.Now.Add(-o.MaxAge), o.Now.Add(o.MaxFuture)
	o.earliest, o.latest = float64(o.minEpoch.Unix()), float64(o.maxEpoch.Unix())
	o.prepared = true
	return o
}

func (o Options) withDefaults() Options {
	if o.prepared {
		return o
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.MaxFuture == 0 {
		o.MaxFuture = DefaultMaxFuture
	}
	return o
}

// Parse decodes one document, which is a segment or subsegment object or an
// array of subsegment objects, and validates it. It returns one Segment per
// top-level object, each with Raw set to a private copy of its bytes.
func Parse(doc []byte, opt Options) ([]*Segment, error) {
	return AppendParse(nil, doc, opt)
}

// AppendParse is Parse appending the segments to dst, as ingest gathers a
// call's documents (a slice per document was an allocation each). On an
// error dst is returned as it was.
func AppendParse(dst []*Segment, doc []byte, opt Options) ([]*Segment, error) {
	opt = opt.withDefaults()
	trimmed := bytes.TrimSpace(doc)
	if len(trimmed) == 0 {
		return dst, reject("", CodeMalformed, "the document is empty")
	}
	if len(trimmed) > MaxDocumentSize {
		return dst, reject(peekID(trimmed), CodeTooLarge, "the document is %d bytes; the limit is %d", len(trimmed), MaxDocumentSize)
	}
	if trimmed[0] == '[' {
		var elems []json.RawMessage
		if err := gojson.Unmarshal(trimmed, &elems); err != nil {
			return dst, reject("", CodeMalformed, "the document is not valid JSON: %v", err)
		}
		if len(elems) == 0 {
			return dst, reject("", CodeMalformed, "the document is an empty array")
		}
		out := dst
		for _, e := range elems {
			s, err := parseOne(e, opt)
			if err != nil {
				clear(out[len(dst):]) // nothing of a refused document stays reachable
				return dst, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := parseOne(trimmed, opt)
	if err != nil {
		return dst, err
	}
	return append(dst, s), nil
}

func parseOne(doc []byte, opt Options) (*Segment, error) {
	if len(doc) == 0 || doc[0] != '{' {
		return nil, reject("", CodeMalformed, "a document must be a JSON object or an array of objects")
	}
	blk := new(docBlock)
	s := &blk.seg
	s.Raw = append([]byte(nil), doc...)
	// goccy/go-json decodes ~4x faster than encoding/json with the same
	// results; ingest throughput is bounded by this call. Its strings
	// without escapes refer to Raw, which the segment keeps anyway, instead
	// of being copied one by one: 21 allocations per ~1 kB document instead
	// of 50. Raw is never written after this.
	clean, err := decode(s, blk)
	if err != nil {
		// A member of the wrong type is dropped, as X-Ray drops data that does
		// not fit the schema; anything else is not JSON at all.
		var te *json.UnmarshalTypeError
		var gte *gojson.UnmarshalTypeError
		if !errors.As(err, &te) && !errors.As(err, &gte) {
			return nil, reject(peekID(doc), CodeMalformed, "the document is not valid JSON: %v", err)
		}
	}
	noNilSubsegments(s)
	if err := validateTop(s, opt, clean); err != nil {
		return nil, err
	}
	// The trace id outlives the document in maps and exemplars keyed by it:
	// its own 35 bytes, not the whole document, stay alive there.
	s.TraceID = strings.Clone(s.TraceID)
	return s, nil
}

// decode fills s (blk's) from s.Raw: through the schema decoder
// (decode.go) when it can, else goccy decides everything, errors included.
// clean: the schema decoder read it, and every annotation it read is one
// cleanAnnotations keeps.
func decode(s *Segment, blk *docBlock) (clean bool, err error) {
	if ok, clean := decodeClean(s.Raw, s, blk); ok {
		return clean, nil
	}
	*s = Segment{Raw: s.Raw}
	return false, gojson.UnmarshalWithOption(s.Raw, s, gojson.DecodeNoCopyString())
}

// noNilSubsegments makes a subsegment sent as null an empty one, which
// validation rejects with a clear error; a nil one crashed it.
func noNilSubsegments(s *Segment) {
	for i, c := range s.Subsegments {
		if c == nil {
			s.Subsegments[i] = new(Segment)
			continue
		}
		noNilSubsegments(c)
	}
}

// Validate applies Parse's rules to a segment built in memory rather than
// decoded (the OTLP translation builds them): the same checks, the same
// errors, and annotations reduced to what can be indexed.
func Validate(s *Segment, opt Options) error {
	if err := validateTop(s, opt.withDefaults(), false); err != nil {
		return err
	}
	return nil
}

// validateTop checks a top-level document and cleans its annotations,
// unless clean says none needs it.
func validateTop(s *Segment, opt Options, clean bool) *Error {
	if !IsID(s.ID) {
		return reject(s.ID, CodeInvalidID, "id %q must be 16 hexadecimal digits", s.ID)
	}
	if s.TraceID == "" {
		return reject(s.ID, CodeInvalidTraceID, "trace_id is missing")
	}
	epoch, ok := TraceEpoch(s.TraceID)
	if !ok {
		return reject(s.ID, CodeInvalidTraceID, "trace_id %q is not of the form 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx", s.TraceID)
	}
	if !opt.SkipTraceEpoch {
		t := time.Unix(epoch, 0)
		minEpoch, maxEpoch := opt.minEpoch, opt.maxEpoch
		if !opt.prepared {
			minEpoch, maxEpoch = opt.Now.Add(-opt.MaxAge), opt.Now.Add(opt.MaxFuture)
		}
		if t.Before(minEpoch) {
			return reject(s.ID, CodeInvalidTraceID, "trace_id %q is from %s, older than %s", s.TraceID, t.UTC().Format(time.RFC3339), opt.MaxAge)
		}
		if t.After(maxEpoch) {
			return reject(s.ID, CodeInvalidTraceID, "trace_id %q is from %s, in the future", s.TraceID, t.UTC().Format(time.RFC3339))
		}
	}
	if s.ParentID != "" && !IsID(s.ParentID) {
		return reject(s.ID, CodeInvalidParentID, "parent_id %q must be 16 hexadecimal digits", s.ParentID)
	}
	if s.IsIndependentSubsegment() {
		if s.ParentID == "" {
			return reject(s.ID, CodeInvalidParentID, "an independent subsegment needs a parent_id")
		}
		if s.Name == "" {
			return reject(s.ID, CodeInvalidName, "name is missing")
		}
	} else if err := validateSegmentName(s); err != nil {
		return err
	}
	tb := opt.timeBounds(epoch)
	if opt.Stored {
		tb = timeBounds{earliest: -math.MaxFloat64, latest: math.MaxFloat64}
	}
	if err := validateTimes(s, s.ID, tb); err != nil {
		return err
	}
	var bad *Error
	for _, sub := range s.Subsegments {
		sub.Walk(func(x, _ *Segment) {
			if bad != nil {
				return
			}
			bad = validateNested(x, s, tb, clean)
		})
		if bad != nil {
			return bad
		}
	}
	if !clean {
		cleanAnnotations(s)
	}
	return nil
}

// validateNested checks an embedded subsegment. The error names the
// top-level document, because that is what the client sent.
func validateNested(x, top *Segment, tb timeBounds, clean bool) *Error {
	if !IsID(x.ID) {
		return reject(top.ID, CodeInvalidID, "subsegment id %q must be 16 hexadecimal digits", x.ID)
	}
	if x.Name == "" {
		return reject(top.ID, CodeInvalidName, "subsegment %s has no name", x.ID)
	}
	if x.TraceID != "" && !strings.EqualFold(x.TraceID, top.TraceID) {
		return reject(top.ID, CodeInvalidTraceID, "subsegment %s has trace_id %q, its segment has %q", x.ID, x.TraceID, top.TraceID)
	}
	if x.ParentID != "" && !IsID(x.ParentID) {
		return reject(top.ID, CodeInvalidParentID, "subsegment %s has parent_id %q, not 16 hexadecimal digits", x.ID, x.ParentID)
	}
	if err := validateTimes(x, top.ID, tb); err != nil {
		return err
	}
	if !clean {
		cleanAnnotations(x)
	}
	return nil
}

func validateSegmentName(s *Segment) *Error {
	if s.Name == "" {
		return reject(s.ID, CodeInvalidName, "name is missing")
	}
	if len(s.Name) <= MaxNameLength && asciiName(s.Name) {
		return nil // the common name, without decoding runes
	}
	if n := utf8.RuneCountInString(s.Name); n > MaxNameLength {
		return reject(s.ID, CodeInvalidName, "name is %d characters; the limit is %d", n, MaxNameLength)
	}
	for _, r := range s.Name {
		if !nameRune(r) {
			return reject(s.ID, CodeInvalidName, "name %q contains %q; allowed are letters, numbers, whitespace and _ . : / %% & # = + \\ - @", s.Name, r)
		}
	}
	return nil
}

// asciiName reports whether name is all ASCII and every byte a nameRune.
func asciiName(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 0x80 || asciiNameBytes[c>>6]&(1<<(c&63)) == 0 {
			return false
		}
	}
	return true
}

// asciiNameBytes is nameRune for the ASCII range, as a bit set.
var asciiNameBytes = func() (set [2]uint64) {
	for c := range 0x80 {
		if nameRune(rune(c)) {
			set[c>>6] |= 1 << (c & 63)
		}
	}
	return set
}()

func nameRune(r rune) bool {
	if unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsSpace(r) {
		return true
	}
	return strings.ContainsRune(`_.:/%&#=+\-@`, r)
}

func validateTimes(x *Segment, topID string, tb timeBounds) *Error {
	if x.StartTime <= 0 || math.IsNaN(x.StartTime) {
		return reject(topID, CodeInvalidStartTime, "%s %s has no start_time", kind(x), x.ID)
	}
	if x.InProgress {
		return tb.check(x, topID)
	}
	if x.EndTime <= 0 || math.IsNaN(x.EndTime) {
		return reject(topID, CodeInvalidEndTime, "%s %s has neither end_time nor in_progress", kind(x), x.ID)
	}
	if x.EndTime < x.StartTime {
		return reject(topID, CodeInvalidEndTime, "%s %s ends (%s) before it starts (%s)", kind(x), x.ID, ftoa(x.EndTime), ftoa(x.StartTime))
	}
	return tb.check(x, topID)
}

func kind(x *Segment) string {
	if x.Type == "subsegment" || x.Namespace != "" {
		return "subsegment"
	}
	return "segment"
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// cleanAnnotations keeps only values X-Ray can index: strings, numbers and
// booleans under non-empty keys. The raw document keeps everything.
func cleanAnnotations(x *Segment) {
	// The scanner (decode.go) marks what this would remove: keep the two in step.
	for k, v := range x.Annotations {
		switch v.(type) {
		case string, float64, bool:
			if k != "" && len(k) <= maxAnnotationKey {
				continue
			}
		}
		delete(x.Annotations, k)
	}
}

// maxAnnotationKey is the longest annotation key kept, in bytes.
const maxAnnotationKey = 500

// IsID reports whether s is a 16-digit hexadecimal (sub)segment id.
func IsID(s string) bool {
	return len(s) == 16 && hexLanes(word8(s))&hexLanes(word8(s[8:])) == highs
}

// TraceEpoch returns the epoch seconds embedded in an X-Ray trace id
// (1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx) and whether the id has that form.
// Ingest asks it several times per document, so its 32 digits are read
// eight at a time (hexword.go); TestTraceEpochMatchesParseUint and
// FuzzTraceEpoch hold it to the plain reading.
func TraceEpoch(id string) (int64, bool) {
	if len(id) != 35 || id[0] != '1' || id[1] != '-' || id[10] != '-' {
		return 0, false
	}
	ep := word8(id[2:])
	if hexLanes(ep)&hexLanes(word8(id[11:]))&hexLanes(word8(id[19:]))&hexLanes(word8(id[27:])) != highs {
		return 0, false
	}
	return int64(hexValue8(ep)), true
}

// hexValue is a byte's value as a hexadecimal digit, or 0x80 for a byte
// that is not one.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0x80
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

// IsTraceID reports whether id has the X-Ray trace id form.
func IsTraceID(id string) bool { _, ok := TraceEpoch(id); return ok }

// peekID finds the document's id for error reports when the document does not
// decode; X-Ray's daemon does the same with a regular expression.
func peekID(doc []byte) string {
	i := bytes.Index(doc, []byte(`"id"`))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(doc[i+4:], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) < 18 || rest[0] != '"' || rest[17] != '"' {
		return ""
	}
	if id := string(rest[1:17]); IsID(id) {
		return id
	}
	return ""
}
