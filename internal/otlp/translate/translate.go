// Package translate turns OpenTelemetry spans into X-Ray segment documents,
// following what the AWS X-Ray exporter of the OpenTelemetry collector does
// (spec §0, §1; docs/otlp.md has the full table): server, consumer and root
// spans become segments named after their service, other spans independent
// subsegments named after what they call.
package translate

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	json "github.com/goccy/go-json" // ~3x faster than encoding/json, same output
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// MaxAnnotations is how many annotations X-Ray indexes per trace; more per
// span go to metadata.
const MaxAnnotations = 50

// maxDocument is the segment document size limit (segment.MaxDocumentSize).
const maxDocument = 64 * 1024

// Config chooses which attributes become annotations.
type Config struct {
	// IndexAll indexes every span attribute (up to MaxAnnotations).
	IndexAll bool
	// Indexed lists attribute keys to index when IndexAll is false.
	// Resource attributes are indexed only when listed here as
	// "otel.resource.<key>".
	Indexed []string
}

// ParseIndexFlag reads --otlp-index-attributes: "*" or "" for all, else a
// comma-separated list of attribute keys.
func ParseIndexFlag(s string) Config {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" {
		return Config{IndexAll: true}
	}
	var c Config
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k == "*" {
			c.IndexAll = true
		} else if k != "" {
			c.Indexed = append(c.Indexed, k)
		}
	}
	return c
}

// Translator converts spans; it is safe for concurrent use.
type Translator struct {
	indexAll bool
	indexed  map[string]bool
}

// New returns a Translator.
func New(c Config) *Translator {
	t := &Translator{indexAll: c.IndexAll, indexed: map[string]bool{}}
	for _, k := range c.Indexed {
		t.indexed[k] = true
	}
	return t
}

// SpanError is a span that cannot become a segment.
type SpanError struct {
	TraceID, SpanID string
	Reason          string
}

func (e *SpanError) Error() string {
	return fmt.Sprintf("span %s of trace %s: %s", e.SpanID, e.TraceID, e.Reason)
}

// Span translates one span to a segment document (JSON).
func (t *Translator) Span(span ptrace.Span, res pcommon.Resource, scope pcommon.InstrumentationScope) ([]byte, error) {
	d, err := t.build(span, res, scope)
	if err != nil {
		return nil, err
	}
	return encode(d)
}

// Segment translates one span to a segment with Raw set to its document.
// The segment equals what segment.Parse would decode from Raw, so ingest can
// take it without decoding the JSON it was just encoded to.
func (t *Translator) Segment(span ptrace.Span, res pcommon.Resource, scope pcommon.InstrumentationScope) (*segment.Segment, error) {
	d, err := t.build(span, res, scope)
	if err != nil {
		return nil, err
	}
	raw, err := encode(d)
	if err != nil {
		return nil, err
	}
	// Encoding replaced invalid UTF-8 with U+FFFD; decoding gives the
	// strings as stored, which then are what the index holds.
	if bytes.Contains(raw, []byte(`\ufffd`)) || bytes.Contains(raw, []byte("\uFFFD")) {
		segs, err := segment.Parse(raw, segment.Options{SkipTraceEpoch: true, Stored: true})
		if err != nil {
			return nil, &SpanError{TraceID: d.TraceID, SpanID: d.ID, Reason: err.Error()}
		}
		return segs[0], nil
	}
	// Numbers decode as float64.
	for k, v := range d.Annotations {
		if i, ok := v.(int64); ok {
			d.Annotations[k] = float64(i)
		}
	}
	d.Raw = raw
	d.Metadata = nil // Raw holds it; Parse does not decode it either
	return d, nil
}

// build makes the segment of one span.
func (t *Translator) build(span ptrace.Span, res pcommon.Resource, scope pcommon.InstrumentationScope) (*segment.Segment, error) {
	tid, sid := span.TraceID(), span.SpanID()
	if tid.IsEmpty() {
		return nil, &SpanError{TraceID: hex.EncodeToString(tid[:]), SpanID: hex.EncodeToString(sid[:]), Reason: "the trace id is all zeros"}
	}
	if sid.IsEmpty() {
		return nil, &SpanError{TraceID: TraceID(tid), SpanID: hex.EncodeToString(sid[:]), Reason: "the span id is all zeros"}
	}
	d := &segment.Segment{ID: hex.EncodeToString(sid[:]), TraceID: TraceID(tid)}
	// A span marks a handful of its attributes used: one allocation for
	// them rather than a growing slice. Nothing reads the resource's.
	a := &attrs{m: span.Attributes(), used: make([]string, 0, 8)}
	ra := &attrs{m: res.Attributes()}
	kind := span.Kind()
	isSegment := kind == ptrace.SpanKindServer || kind == ptrace.SpanKindConsumer || span.ParentSpanID().IsEmpty()
	if p := span.ParentSpanID(); !p.IsEmpty() {
		d.ParentID = hex.EncodeToString(p[:])
	}
	if !isSegment {
		d.Type = "subsegment"
	}
	d.StartTime = seconds(span.StartTimestamp())
	if span.EndTimestamp() == 0 {
		d.InProgress = true
	} else {
		d.EndTime = seconds(span.EndTimestamp())
	}

	d.HTTP = makeHTTP(a, kind)
	d.SQL = makeSQL(a)
	d.AWS = makeAWS(a, ra, isSegment)
	isAWS := isAWSSpan(a)
	d.Name = name(span, a, ra, isSegment, isAWS)
	switch {
	case isSegment:
	case isAWS:
		d.Namespace = "aws"
	case kind == ptrace.SpanKindClient || kind == ptrace.SpanKindProducer || d.SQL != nil:
		d.Namespace = "remote"
	}
	if isSegment {
		d.Origin = origin(ra)
		d.Service = makeService(ra)
		d.User = a.str("enduser.id", "user.id")
		d.ResourceARN = resourceARN(ra)
	}
	makeFlags(d, span, a)
	d.Cause = makeCause(span, ra, kind == ptrace.SpanKindClient || kind == ptrace.SpanKindProducer)
	if err := t.annotate(d, a, ra, isSegment, scope); err != nil {
		return nil, &SpanError{TraceID: d.TraceID, SpanID: d.ID, Reason: "cannot encode metadata: " + err.Error()}
	}
	d.Links = makeLinks(span.Links())
	return d, nil
}

// encode writes the document, shedding metadata and then stack traces if it
// would exceed X-Ray's 64 KiB document limit: the span's identity, timing
// and status are worth more than its largest attributes.
func encode(d *segment.Segment) ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, &SpanError{TraceID: d.TraceID, SpanID: d.ID, Reason: "cannot encode: " + err.Error()}
	}
	if len(b) <= maxDocument {
		return b, nil
	}
	d.Metadata = map[string]json.RawMessage{"otel": truncatedMetadata}
	if b, _ = json.Marshal(d); len(b) <= maxDocument {
		return b, nil
	}
	if d.Cause != nil {
		for i := range d.Cause.Exceptions {
			d.Cause.Exceptions[i].Truncated += len(d.Cause.Exceptions[i].Stack)
			d.Cause.Exceptions[i].Stack = nil
		}
	}
	d.Annotations = nil
	if b, _ = json.Marshal(d); len(b) <= maxDocument {
		return b, nil
	}
	return nil, &SpanError{TraceID: d.TraceID, SpanID: d.ID, Reason: fmt.Sprintf("the segment document is %d bytes even without metadata; the limit is %d", len(b), maxDocument)}
}

// truncatedMetadata replaces the metadata of a document over the size limit.
var truncatedMetadata = json.RawMessage(`{"truncated":"metadata dropped: the document exceeded 64 KiB"}`)

// TraceID converts a W3C trace id to X-Ray form: 1-<first 8 hex>-<24 hex>.
// Ids made by the X-Ray id generator carry the epoch in their first 8 hex,
// so they come out as the id an X-Ray SDK would propagate.
func TraceID(id pcommon.TraceID) string {
	var b [35]byte
	b[0], b[1], b[10] = '1', '-', '-'
	hex.Encode(b[2:10], id[:4])
	hex.Encode(b[11:], id[4:])
	return string(b[:])
}

func seconds(ts pcommon.Timestamp) float64 {
	// Microsecond precision, as X-Ray SDKs write; rounding here keeps the
	// JSON short.
	us := int64(ts) / 1000
	return float64(us/1e6) + float64(us%1e6)/1e6
}

// name chooses the segment name: the service for segments, the called thing
// for subsegments (the exporter's order of precedence).
func name(span ptrace.Span, a, ra *attrs, isSegment, isAWS bool) string {
	var n string
	kind := span.Kind()
	if isSegment {
		if kind == ptrace.SpanKindServer {
			n = a.str("aws.local.service")
		}
		if n == "" {
			n = ra.peek("service.name")
		}
	} else {
		if kind == ptrace.SpanKindClient || kind == ptrace.SpanKindProducer {
			n = a.str("aws.remote.service")
			if isAWS {
				n = strings.TrimPrefix(n, "AWS.SDK.")
			}
		}
		if n == "" {
			n = a.str("peer.service")
		}
		if n == "" && isAWS {
			n = a.peek("rpc.service")
			if n == "" {
				n = a.str("aws.service")
			}
		}
		if n == "" {
			n = dbName(a)
		}
		if n == "" && (kind == ptrace.SpanKindClient || kind == ptrace.SpanKindProducer) {
			n = a.peek("rpc.service")
			if n == "" {
				n = remoteHost(a)
			}
		}
	}
	if n = cleanName(n); n == "" {
		n = cleanName(span.Name())
	}
	if n == "" {
		n = "span"
	}
	return n
}

// cleanName keeps the characters X-Ray allows in names and at most 200 of them.
func cleanName(s string) string {
	ok := true
	for _, r := range s {
		if !nameRune(r) {
			ok = false
			break
		}
	}
	if !ok {
		s = strings.Map(func(r rune) rune {
			if nameRune(r) {
				return r
			}
			return -1
		}, s)
	}
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:200])
	}
	return s
}

func nameRune(r rune) bool {
	if r == utf8.RuneError {
		return false
	}
	if unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsSpace(r) {
		return true
	}
	return strings.ContainsRune(`_.:/%&#=+\-@`, r)
}

func makeLinks(ls ptrace.SpanLinkSlice) []segment.Link {
	if ls.Len() == 0 {
		return nil
	}
	out := make([]segment.Link, 0, ls.Len())
	for i := 0; i < ls.Len(); i++ {
		l := ls.At(i)
		tid, sid := l.TraceID(), l.SpanID()
		if tid.IsEmpty() || sid.IsEmpty() {
			continue
		}
		x := segment.Link{TraceID: TraceID(tid), ID: hex.EncodeToString(sid[:])}
		if l.Attributes().Len() > 0 {
			x.Attributes = make(map[string]any, l.Attributes().Len())
			for k, v := range l.Attributes().All() {
				x.Attributes[k] = jsonValue(v, 0)
			}
		}
		out = append(out, x)
	}
	return out
}
