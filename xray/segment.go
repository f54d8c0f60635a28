// Package xray is an AWS X-Ray SDK for Go that keeps aws-xray-sdk-go's API
// (moving over is a change of import path), costs a fraction of it per
// segment, streams segments larger than one datagram as subsegments instead of
// dropping them, and ships everything queued on Shutdown.
package xray

import (
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/roentgen-tracing/roentgen/xray/header"
	"github.com/roentgen-tracing/roentgen/xray/strategy/exception"
	"github.com/roentgen-tracing/roentgen/xray/strategy/sampling"
)

// SDK identity written into every segment's aws.xray.
const (
	SDKVersion = "1.8.5"
	SDKType    = "X-Ray for Go"
)

// Segment is a segment or subsegment. Exported fields are those of
// aws-xray-sdk-go; set them under Lock (or through the methods, which lock).
type Segment struct {
	sync.RWMutex
	parent           *Segment
	openSegments     int
	totalSubSegments uint32
	rawSubsegments   []*Segment
	ruleName         *string // centralized rule that sampled this segment

	// ctx is the context Begin* returns, carried inside the segment so
	// that it costs no allocation of its own; idBuf holds the bytes of
	// TraceID and ID when the SDK made them (never written again).
	ctx   segmentContext
	idBuf [35 + 16]byte
	t0    time.Time // a segment's start, with the monotonic clock (clockNow)

	Sampled          bool           `json:"-"`
	RequestWasTraced bool           `json:"-"`
	ContextDone      bool           `json:"-"`
	Emitted          bool           `json:"-"`
	IncomingHeader   *header.Header `json:"-"`
	ParentSegment    *Segment       `json:"-"` // the root of the tree

	TraceID   string  `json:"trace_id,omitempty"`
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	StartTime float64 `json:"start_time"`
	EndTime   float64 `json:"end_time,omitempty"`

	InProgress  bool       `json:"in_progress,omitempty"`
	ParentID    string     `json:"parent_id,omitempty"`
	Fault       bool       `json:"fault,omitempty"`
	Error       bool       `json:"error,omitempty"`
	Throttle    bool       `json:"throttle,omitempty"`
	Cause       *CauseData `json:"cause,omitempty"`
	ResourceARN string     `json:"resource_arn,omitempty"`
	Origin      string     `json:"origin,omitempty"`

	Type         string   `json:"type,omitempty"`
	Namespace    string   `json:"namespace,omitempty"`
	User         string   `json:"user,omitempty"`
	PrecursorIDs []string `json:"precursor_ids,omitempty"`

	HTTP *HTTPData              `json:"http,omitempty"`
	AWS  map[string]interface{} `json:"aws,omitempty"`

	Service *ServiceData `json:"service,omitempty"`
	SQL     *SQLData     `json:"sql,omitempty"`

	Annotations map[string]interface{}            `json:"annotations,omitempty"`
	Metadata    map[string]map[string]interface{} `json:"metadata,omitempty"`

	// Configuration is the configuration the segment was begun with; it is
	// shared between segments, treat it as read-only.
	Configuration *Config `json:"-"`

	Facade bool `json:"-"` // a Lambda facade segment: never emitted itself
	Dummy  bool `json:"-"` // not sampled: nothing is recorded or emitted
}

// CauseData is a segment's cause object.
type CauseData struct {
	WorkingDirectory string                `json:"working_directory,omitempty"`
	Paths            []string              `json:"paths,omitempty"`
	Exceptions       []exception.Exception `json:"exceptions,omitempty"`
}

// HTTPData is the http object.
type HTTPData struct {
	Request  *RequestData  `json:"request,omitempty"`
	Response *ResponseData `json:"response,omitempty"`
}

// RequestData is http.request.
type RequestData struct {
	Method        string `json:"method,omitempty"`
	URL           string `json:"url,omitempty"`
	ClientIP      string `json:"client_ip,omitempty"`
	UserAgent     string `json:"user_agent,omitempty"`
	XForwardedFor bool   `json:"x_forwarded_for,omitempty"`
	Traced        bool   `json:"traced,omitempty"`
}

// ResponseData is http.response.
type ResponseData struct {
	Status        int `json:"status,omitempty"`
	ContentLength int `json:"content_length,omitempty"`
}

// ServiceData is the service object.
type ServiceData struct {
	Version        string `json:"version,omitempty"`
	RuntimeVersion string `json:"runtime_version,omitempty"`
	Runtime        string `json:"runtime,omitempty"`
}

// SQLData is the sql object of a database subsegment.
type SQLData struct {
	ConnectionString string `json:"connection_string,omitempty"`
	URL              string `json:"url,omitempty"`
	DatabaseType     string `json:"database_type,omitempty"`
	DatabaseVersion  string `json:"database_version,omitempty"`
	DriverVersion    string `json:"driver_version,omitempty"`
	User             string `json:"user,omitempty"`
	Preparation      string `json:"preparation,omitempty"`
	SanitizedQuery   string `json:"sanitized_query,omitempty"`
}

// SDK is aws.xray.
type SDK struct {
	Version  string `json:"sdk_version,omitempty"`
	Type     string `json:"sdk,omitempty"`
	RuleName string `json:"sampling_rule_name,omitempty"`
}

const hexDigits = "0123456789abcdef"

func putHex(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = hexDigits[v&15]
		v >>= 4
	}
}

// fillIDs writes a fresh trace id and segment id into b. The random part
// comes from the runtime's ChaCha8 generator (seeded from the OS), as fast
// as a counter.
func fillIDs(b *[35 + 16]byte, now time.Time) {
	b[0], b[1], b[10] = '1', '-', '-'
	putHex(b[2:10], uint64(now.Unix()))
	putHex(b[11:19], uint64(rand.Uint32()))
	putHex(b[19:35], rand.Uint64())
	putHex(b[35:], nonZero())
}

// newIDs returns a fresh trace id and segment id cut from one string.
func newIDs(now time.Time) (traceID, id string) {
	var b [35 + 16]byte
	fillIDs(&b, now)
	s := string(b[:])
	return s[:35], s[35:]
}

// setNewIDs gives seg fresh ids whose bytes live in seg itself: no
// allocation of their own.
func (seg *Segment) setNewIDs(now time.Time) {
	fillIDs(&seg.idBuf, now)
	s := unsafe.String(&seg.idBuf[0], len(seg.idBuf))
	seg.TraceID, seg.ID = s[:35], s[35:]
}

// setNewID gives a subsegment a fresh id, as setNewIDs.
func (seg *Segment) setNewID() {
	putHex(seg.idBuf[:16], nonZero())
	seg.ID = unsafe.String(&seg.idBuf[0], 16)
}

// segmentContext is context.WithValue(parent, ContextKey, seg), embedded in
// seg so that Begin* allocate one object, not two.
type segmentContext struct {
	context.Context
	seg *Segment
}

func (c *segmentContext) Value(key any) any {
	if key == any(ContextKey) {
		return c.seg
	}
	return c.Context.Value(key)
}

func (c *segmentContext) String() string { return "xray.segmentContext" }

// withSegment returns ctx carrying seg, using seg's own context block.
func withSegment(ctx context.Context, seg *Segment) context.Context {
	if ctx == nil {
		panic("cannot create context from nil parent")
	}
	seg.ctx = segmentContext{Context: ctx, seg: seg}
	return &seg.ctx
}

func nonZero() uint64 {
	for {
		if v := rand.Uint64(); v != 0 {
			return v
		}
	}
}

// NewTraceID returns a new trace id: 1-<epoch hex>-<24 random hex>.
func NewTraceID() string { t, _ := newIDs(time.Now()); return t }

// NewSegmentID returns a new 16-hex segment id.
func NewSegmentID() string {
	var b [16]byte
	putHex(b[:], nonZero())
	return string(b[:])
}

const (
	noOpTraceID   = "1-00000000-000000000000000000000000"
	noOpSegmentID = "0000000000000000"
)

func epochSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// clockNow is the time in Unix nanoseconds: its segment's start plus the
// monotonic time since, one clock read where time.Now takes two (and a
// duration that a wall-clock step cannot make negative).
func (seg *Segment) clockNow() int64 {
	if root := seg.ParentSegment; root != nil && !root.t0.IsZero() {
		return root.t0.UnixNano() + int64(time.Since(root.t0))
	}
	return time.Now().UnixNano()
}

// BeginSegment starts a segment named name (or AWS_XRAY_TRACING_NAME),
// sampled by the configured strategy.
func BeginSegment(ctx context.Context, name string) (context.Context, *Segment) {
	return BeginSegmentWithSampling(ctx, name, nil, nil)
}

// BeginSegmentWithSampling starts a segment; an incoming header's Sampled=1/0
// is obeyed, otherwise the strategy decides with the request's attributes.
func BeginSegmentWithSampling(ctx context.Context, name string, r *http.Request, traceHeader *header.Header) (context.Context, *Segment) {
	return beginSegment(ctx, name, r, traceHeader, new(Segment))
}

// beginSegment is BeginSegmentWithSampling into a zero Segment the caller
// allocated (Handler allocates it with the request's other objects).
func beginSegment(ctx context.Context, name string, r *http.Request, traceHeader *header.Header, seg *Segment) (context.Context, *Segment) {
	st := loadState()
	if st.disabled {
		seg.Dummy = true
		seg.ParentSegment = seg
		return withSegment(ctx, seg), seg
	}
	if st.tracingName != "" {
		name = st.tracingName
	}
	cfg := configFor(ctx, st)
	seg.Name, seg.Configuration, seg.InProgress = truncName(name), cfg, true
	seg.ParentSegment = seg
	now := time.Now()
	seg.StartTime, seg.t0 = epochSeconds(now), now
	if origin := pluginOrigin(); origin != "" {
		seg.Origin = origin
	}

	var d sampling.Decision
	switch {
	case traceHeader != nil && traceHeader.SamplingDecision == header.Sampled:
		d.Sample = true
	case traceHeader != nil && traceHeader.SamplingDecision == header.NotSampled:
	default:
		req := sampling.Request{ServiceName: seg.Name, Now: now}
		if r != nil {
			req = sampling.Request{Host: r.Host, URL: r.URL.Path, Method: r.Method, ServiceName: seg.Name, ServiceType: seg.Origin, Now: now}
		}
		d = decide(cfg.SamplingStrategy, req)
	}
	seg.Sampled, seg.ruleName = d.Sample, d.Rule
	seg.Dummy = !seg.Sampled
	if seg.Sampled || st.realIDs {
		seg.setNewIDs(now)
	} else {
		seg.TraceID, seg.ID = noOpTraceID, noOpSegmentID
	}
	return withSegment(ctx, seg), seg
}

func decide(s sampling.Strategy, r sampling.Request) sampling.Decision {
	if d, ok := s.(sampling.Decider); ok {
		return d.Decide(r)
	}
	return shouldTrace(s, r)
}

// shouldTrace asks a Strategy that is not a Decider; apart from decide, so
// that only this path pays for r escaping to the heap.
func shouldTrace(s sampling.Strategy, r sampling.Request) sampling.Decision {
	if d := s.ShouldTrace(&r); d != nil {
		return *d
	}
	return sampling.Decision{}
}

func truncName(name string) string {
	if len(name) > 200 {
		return name[:200]
	}
	return name
}

// NewSegmentFromHeader starts a segment that continues the trace of an
// incoming header.
func NewSegmentFromHeader(ctx context.Context, name string, r *http.Request, h *header.Header) (context.Context, *Segment) {
	return segmentFromHeader(ctx, name, r, h, new(Segment))
}

func segmentFromHeader(ctx context.Context, name string, r *http.Request, h *header.Header, seg *Segment) (context.Context, *Segment) {
	ctx, seg = beginSegment(ctx, name, r, h, seg)
	if h != nil && !loadState().disabled {
		if h.TraceID != "" {
			seg.TraceID = h.TraceID
		}
		if h.ParentID != "" {
			seg.ParentID = h.ParentID
		}
		seg.IncomingHeader = h
		seg.RequestWasTraced = true
	}
	return ctx, seg
}

// BeginFacadeSegment starts a segment that is never emitted (Lambda: the
// function's segment is Lambda's); its subsegments are emitted on their own.
func BeginFacadeSegment(ctx context.Context, name string, h *header.Header) (context.Context, *Segment) {
	st := loadState()
	seg := &Segment{Name: truncName(name), Configuration: configFor(ctx, st), InProgress: true, Facade: true}
	seg.ParentSegment = seg
	now := time.Now()
	seg.StartTime, seg.t0 = epochSeconds(now), now
	if h != nil {
		seg.TraceID, seg.ID, seg.Sampled = h.TraceID, h.ParentID, h.SamplingDecision == header.Sampled
		seg.IncomingHeader = h
	} else {
		seg.Sampled = true
		seg.setNewIDs(now)
	}
	seg.Dummy = !seg.Sampled
	return withSegment(ctx, seg), seg
}

// BeginSubsegment starts a subsegment of the (sub)segment in ctx. In Lambda
// it first makes the facade segment from the invocation's trace header.
func BeginSubsegment(ctx context.Context, name string) (context.Context, *Segment) {
	st := loadState()
	if st.disabled {
		seg := &Segment{Dummy: true}
		seg.ParentSegment = seg
		return withSegment(ctx, seg), seg
	}
	parent := GetSegment(ctx)
	if parent == nil {
		if h := lambdaHeader(ctx); h != nil {
			ctx, parent = BeginFacadeSegment(ctx, "facade", h)
		} else {
			contextMissing(ctx, "failed to begin subsegment named '"+name+"': segment cannot be found.")
			return ctx, nil
		}
	}
	root := parent.ParentSegment
	seg := &Segment{parent: parent, ParentSegment: root, Name: truncName(name), InProgress: true}
	seg.StartTime = float64(seg.clockNow()) / 1e9
	seg.Sampled = root.Sampled
	seg.Dummy = !root.Sampled || parent.Dummy
	if seg.Sampled || st.realIDs {
		seg.setNewID()
	} else {
		seg.ID = noOpSegmentID
	}
	seg.TraceID, seg.ParentID = root.TraceID, root.ID
	atomic.AddUint32(&root.totalSubSegments, 1)

	parent.Lock()
	if parent.rawSubsegments == nil {
		parent.rawSubsegments = make([]*Segment, 0, 4)
	}
	parent.rawSubsegments = append(parent.rawSubsegments, seg)
	parent.openSegments++
	parent.Unlock()
	return withSegment(ctx, seg), seg
}

// BeginSubsegmentWithoutSampling starts a subsegment that is never recorded.
func BeginSubsegmentWithoutSampling(ctx context.Context, name string) (context.Context, *Segment) {
	ctx, seg := BeginSubsegment(ctx, name)
	if seg != nil {
		seg.Dummy, seg.Sampled = true, false
	}
	return ctx, seg
}

// SdkDisabled reports AWS_XRAY_SDK_DISABLED=true (read at start-up and on
// Configure).
func SdkDisabled() bool { return loadState().disabled }

// Close ends the (sub)segment, recording err if not nil. A segment is
// emitted once it and all its subsegments are closed; a segment closed while
// subsegments are still open is emitted at once with them in progress, and
// again complete when the last one closes.
func (seg *Segment) Close(err error) {
	if seg == nil || loadState().disabled {
		return
	}
	seg.Lock()
	seg.EndTime = float64(seg.clockNow()) / 1e9
	seg.InProgress = false
	if err != nil {
		seg.addError(err)
	}
	dummy := seg.Dummy
	seg.Unlock()
	if dummy {
		return
	}
	seg.send()
}

// CloseAndStream closes a subsegment and emits it at once as an independent
// subsegment, removing it from its parent.
func (seg *Segment) CloseAndStream(err error) {
	if seg == nil || loadState().disabled {
		return
	}
	seg.Lock()
	seg.EndTime = float64(seg.clockNow()) / 1e9
	seg.InProgress = false
	seg.Emitted = true
	if err != nil {
		seg.addError(err)
	}
	seg.Unlock()
	if seg.parent != nil {
		seg.parent.RemoveSubsegment(seg)
	}
	seg.Lock()
	defer seg.Unlock()
	if seg.Dummy {
		return
	}
	if seg.parent != nil {
		seg.TraceID, seg.ParentID, seg.Type = seg.ParentSegment.TraceID, seg.parent.ID, "subsegment"
	}
	seg.emit()
}

// RemoveSubsegment detaches remove from seg; it reports whether it was there.
func (seg *Segment) RemoveSubsegment(remove *Segment) bool {
	seg.Lock()
	defer seg.Unlock()
	for i, v := range seg.rawSubsegments {
		if v == remove {
			last := len(seg.rawSubsegments) - 1
			seg.rawSubsegments[i] = seg.rawSubsegments[last]
			seg.rawSubsegments[last] = nil
			seg.rawSubsegments = seg.rawSubsegments[:last]
			seg.openSegments--
			atomic.AddUint32(&seg.ParentSegment.totalSubSegments, ^uint32(0))
			return true
		}
	}
	return false
}

func (seg *Segment) emit() {
	cfg := seg.ParentSegment.Configuration
	if cfg == nil || cfg.Emitter == nil {
		cfg = loadState().cfg
	}
	cfg.Emitter.Emit(seg)
}

// send walks up from a closed (sub)segment: each complete subsegment lets its
// parent count one fewer open child; the root is emitted when it is closed.
func (seg *Segment) send() {
	s := seg
	s.Lock()
	for {
		complete := s.openSegments == 0 && s.EndTime > 0
		switch {
		case s.parent == nil || s.Type == "subsegment":
			if s.EndTime > 0 && !s.Facade {
				s.Emitted = true
				s.emit()
			}
			s.Unlock()
			return
		case s.parent.Facade:
			if complete {
				s.Emitted = true
				s.TraceID, s.ParentID, s.Type = s.parent.TraceID, s.parent.ID, "subsegment"
				s.emit()
			}
			p := s.parent
			s.Unlock()
			if complete {
				p.RemoveSubsegment(s)
			}
			return
		case !complete:
			s.Unlock()
			return
		}
		p := s.parent
		s.Unlock()
		p.Lock()
		p.openSegments--
		s = p
		if s.parent == nil && s.openSegments > 0 {
			// The root is not complete yet; its own Close emitted it.
			s.Unlock()
			return
		}
	}
}

// AddAnnotation records an indexed key-value pair; value must be a string,
// number or boolean.
func (seg *Segment) AddAnnotation(key string, value interface{}) error {
	if seg == nil || loadState().disabled {
		return nil
	}
	switch value.(type) {
	case bool, string, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
	default:
		return &annotationError{key: key, name: seg.Name}
	}
	seg.Lock()
	defer seg.Unlock()
	if seg.Dummy {
		return nil
	}
	if seg.Annotations == nil {
		seg.Annotations = make(map[string]interface{}, 4)
	}
	seg.Annotations[key] = value
	return nil
}

type annotationError struct{ key, name string }

func (e *annotationError) Error() string {
	return "failed to add annotation key: \"" + e.key + "\" to subsegment \"" + e.name + "\". value must be of type string, number or boolean"
}

// AddMetadata records key under the default namespace.
func (seg *Segment) AddMetadata(key string, value interface{}) error {
	return seg.AddMetadataToNamespace("default", key, value)
}

// AddMetadataToNamespace records key under namespace.
func (seg *Segment) AddMetadataToNamespace(namespace string, key string, value interface{}) error {
	if seg == nil || loadState().disabled {
		return nil
	}
	seg.Lock()
	defer seg.Unlock()
	if seg.Dummy {
		return nil
	}
	if seg.Metadata == nil {
		seg.Metadata = make(map[string]map[string]interface{}, 2)
	}
	ns := seg.Metadata[namespace]
	if ns == nil {
		ns = make(map[string]interface{}, 2)
		seg.Metadata[namespace] = ns
	}
	ns[key] = value
	return nil
}

// AddError marks the segment as a fault and records err as an exception.
func (seg *Segment) AddError(err error) error {
	if seg == nil || err == nil || loadState().disabled {
		return nil
	}
	seg.Lock()
	defer seg.Unlock()
	seg.addError(err)
	return nil
}

var workingDir = sync.OnceValue(func() string { d, _ := os.Getwd(); return d })

func (seg *Segment) addError(err error) {
	seg.Fault = true
	c := seg.GetCause()
	c.WorkingDirectory = workingDir()
	fs := seg.exceptionStrategy()
	c.Exceptions = append(c.Exceptions, fs.ExceptionFromError(err))
}

func (seg *Segment) exceptionStrategy() exception.FormattingStrategy {
	if c := seg.ParentSegment.Configuration; c != nil && c.ExceptionFormattingStrategy != nil {
		return c.ExceptionFormattingStrategy
	}
	return loadState().cfg.ExceptionFormattingStrategy
}

// DownstreamHeader is the trace header for a call made inside seg: the
// incoming header's extra keys, this trace, seg as parent, the decision.
func (seg *Segment) DownstreamHeader() *header.Header {
	r := &header.Header{}
	if loadState().disabled {
		return r
	}
	root := seg.ParentSegment
	if in := root.IncomingHeader; in != nil {
		r.AdditionalData = in.AdditionalData
	}
	r.TraceID = root.TraceID
	r.ParentID = seg.ID
	r.SamplingDecision = header.NotSampled
	if root.Sampled {
		r.SamplingDecision = header.Sampled
	}
	return r
}

// GetCause returns the cause, creating it.
func (seg *Segment) GetCause() *CauseData {
	if seg.Cause == nil {
		seg.Cause = &CauseData{}
	}
	return seg.Cause
}

// GetHTTP returns the http object, creating it.
func (seg *Segment) GetHTTP() *HTTPData {
	if seg.HTTP == nil {
		seg.HTTP = &HTTPData{}
	}
	return seg.HTTP
}

// GetAWS returns the aws map, creating it.
func (seg *Segment) GetAWS() map[string]interface{} {
	if seg.AWS == nil {
		seg.AWS = make(map[string]interface{})
	}
	return seg.AWS
}

// GetService returns the service object, creating it.
func (seg *Segment) GetService() *ServiceData {
	if seg.Service == nil {
		seg.Service = &ServiceData{}
	}
	return seg.Service
}

// GetSQL returns the sql object, creating it.
func (seg *Segment) GetSQL() *SQLData {
	if seg.SQL == nil {
		seg.SQL = &SQLData{}
	}
	return seg.SQL
}

// GetRequest returns http.request, creating it.
func (d *HTTPData) GetRequest() *RequestData {
	if d.Request == nil {
		d.Request = &RequestData{}
	}
	return d.Request
}

// GetResponse returns http.response, creating it.
func (d *HTTPData) GetResponse() *ResponseData {
	if d.Response == nil {
		d.Response = &ResponseData{}
	}
	return d.Response
}

// GetConfiguration returns the segment's configuration.
func (seg *Segment) GetConfiguration() *Config {
	if seg.Configuration == nil {
		seg.Configuration = loadState().cfg
	}
	return seg.Configuration
}

// AddRuleName records the centralized rule that sampled the segment.
func (seg *Segment) AddRuleName(sd *sampling.Decision) {
	if sd != nil && sd.Rule != nil {
		seg.ruleName = sd.Rule
	}
}

// Subsegments returns the subsegments currently attached (a copy).
func (seg *Segment) Subsegments() []*Segment {
	seg.RLock()
	defer seg.RUnlock()
	return append([]*Segment(nil), seg.rawSubsegments...)
}

var runtimeName = runtime.Compiler
var runtimeVersion = runtime.Version()

// Keys of a subsegment's aws object set by AWS instrumentation.
const (
	RequestIDKey                 string = "request_id"
	ExtendedRequestIDKey         string = "id_2"
	S3ExtendedRequestIDHeaderKey string = "x-amz-id-2"
)
