package xray

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"unsafe"

	"github.com/roentgen-tracing/roentgen/xray/header"
	"github.com/roentgen-tracing/roentgen/xray/strategy/sampling"
)

// TraceIDHeaderKey is the trace header's name.
const TraceIDHeaderKey = "x-amzn-trace-id"

// canonical forms, so setting and reading headers skips canonicalisation.
const (
	traceHeaderCanonical = "X-Amzn-Trace-Id"
	traceparentHeader    = "Traceparent"
)

// SegmentNamer names the segment of an incoming request from its host.
type SegmentNamer interface {
	Name(host string) string
}

// FixedSegmentNamer always gives FixedName.
type FixedSegmentNamer struct {
	FixedName string
}

// NewFixedSegmentNamer names every segment name (AWS_XRAY_TRACING_NAME wins).
func NewFixedSegmentNamer(name string) *FixedSegmentNamer {
	return &FixedSegmentNamer{FixedName: name}
}

// Name implements SegmentNamer.
func (f *FixedSegmentNamer) Name(host string) string { return f.FixedName }

// DynamicSegmentNamer uses the host when it matches RecognizedHosts (a glob),
// else FallbackName.
type DynamicSegmentNamer struct {
	FallbackName    string
	RecognizedHosts string
}

// NewDynamicSegmentNamer returns a DynamicSegmentNamer.
func NewDynamicSegmentNamer(fallback string, recognized string) *DynamicSegmentNamer {
	return &DynamicSegmentNamer{FallbackName: fallback, RecognizedHosts: recognized}
}

// Name implements SegmentNamer.
func (d *DynamicSegmentNamer) Name(host string) string {
	if sampling.WildcardMatchCaseInsensitive(d.RecognizedHosts, host) {
		return host
	}
	return d.FallbackName
}

// Handler traces every request to h in a segment named by sn: it continues
// the caller's trace from X-Amzn-Trace-Id (or a W3C traceparent), answers
// with the trace header and records the request and response.
func Handler(sn SegmentNamer, h http.Handler) http.Handler {
	return HandlerWithContext(nil, sn, h)
}

// HandlerWithContext is Handler with the configuration of ctx
// (ContextWithConfig).
func HandlerWithContext(ctx context.Context, sn SegmentNamer, h http.Handler) http.Handler {
	var cfg *Config
	if ctx != nil {
		cfg = GetRecorder(ctx)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		blk := new(requestBlock)
		th := incomingHeader(r, &blk.hdr)
		rctx := r.Context()
		if cfg != nil {
			rctx = context.WithValue(rctx, RecorderContextKey{}, cfg)
		}
		c, seg := segmentFromHeader(rctx, sn.Name(r.Host), r, th, &blk.seg)
		defer func() {
			// A panicking handler is a fault with its panic recorded; the
			// panic goes on to net/http as before.
			if p := recover(); p != nil {
				seg.Close(seg.exceptionStrategy().Panicf("%v", p))
				panic(p)
			}
			seg.Close(nil)
		}()
		httpTrace(seg, h, w, r.WithContext(c), th, blk)
	})
}

// requestBlock holds what Handler needs per request in one allocation.
type requestBlock struct {
	seg  Segment
	hdr  header.Header
	http httpBlock
	cw   responseCapturer
	hv   [1]string
}

// incomingHeader reads X-Amzn-Trace-Id, else traceparent. Its fields are
// read directly from the header map: no canonicalisation cost per request.
func incomingHeader(r *http.Request, empty *header.Header) *header.Header {
	if v := r.Header[traceHeaderCanonical]; len(v) > 0 {
		return header.FromString(v[0])
	}
	if v := r.Header[traceparentHeader]; len(v) > 0 {
		if h, ok := header.FromTraceparent(v[0]); ok {
			return h
		}
	}
	return empty
}

// httpBlock holds a segment's http objects in one allocation.
type httpBlock struct {
	http HTTPData
	req  RequestData
	resp ResponseData
}

// HttpTrace serves r with h inside seg, recording the request, the response
// status and errors.
func HttpTrace(seg *Segment, h http.Handler, w http.ResponseWriter, r *http.Request, traceHeader *header.Header) {
	httpTrace(seg, h, w, r, traceHeader, new(requestBlock))
}

// httpTrace is HttpTrace with blk's http objects, response writer and
// header slice (blk.seg is unused here).
func httpTrace(seg *Segment, h http.Handler, w http.ResponseWriter, r *http.Request, traceHeader *header.Header, blk *requestBlock) {
	if traceHeader == nil {
		traceHeader = &blk.hdr
	}
	// The request's URL and the response's trace header share one string.
	var scheme string
	if r.TLS != nil {
		scheme = "https://"
	} else {
		scheme = "http://"
	}
	b := make([]byte, 0, len(scheme)+len(r.Host)+len(r.URL.Path)+96)
	b = append(b, scheme...)
	b = append(b, r.Host...)
	b = append(b, r.URL.Path...)
	n := len(b)
	b = appendResponseHeader(b, seg, traceHeader)
	both := unsafe.String(unsafe.SliceData(b), len(b))
	httpCaptureRequest(seg, r, both[:n], &blk.http)
	blk.hv[0] = both[n:]
	w.Header()[traceHeaderCanonical] = blk.hv[:]
	cw := &blk.cw
	*cw = responseCapturer{ResponseWriter: w, status: http.StatusOK}
	h.ServeHTTP(cw, r)
	if cl := w.Header()["Content-Length"]; len(cl) > 0 {
		n, _ := strconv.Atoi(cl[0])
		seg.Lock()
		seg.GetHTTP().GetResponse().ContentLength = n
		seg.Unlock()
	}
	HttpCaptureResponse(seg, cw.status)
}

func appendResponseHeader(b []byte, seg *Segment, th *header.Header) []byte {
	b = append(b, "Root="...)
	b = append(b, seg.TraceID...)
	if th.ParentID != "" {
		b = append(b, ";Parent="...)
		b = append(b, th.ParentID...)
	}
	switch th.SamplingDecision {
	case header.Sampled:
		b = append(b, ";Sampled=1"...)
	case header.NotSampled:
		b = append(b, ";Sampled=0"...)
	case header.Requested:
		if seg.Sampled {
			b = append(b, ";Sampled=1"...)
		} else {
			b = append(b, ";Sampled=0"...)
		}
	}
	return b
}

func httpCaptureRequest(seg *Segment, r *http.Request, url string, blk *httpBlock) {
	seg.Lock()
	defer seg.Unlock()
	if seg.HTTP == nil {
		blk.http.Request, blk.http.Response = &blk.req, &blk.resp
		seg.HTTP = &blk.http
	}
	req := seg.HTTP.GetRequest()
	req.Method = r.Method
	req.URL = url
	req.ClientIP, req.XForwardedFor = clientIP(r)
	if ua := r.Header["User-Agent"]; len(ua) > 0 {
		req.UserAgent = ua[0]
	}
}

func clientIP(r *http.Request) (string, bool) {
	if v := r.Header["X-Forwarded-For"]; len(v) > 0 && v[0] != "" {
		first, _, _ := strings.Cut(v[0], ",")
		return strings.TrimSpace(first), true
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr, false
	}
	return ip, false
}

// HttpCaptureResponse records the status: 4xx error, 429 throttle, 5xx fault.
func HttpCaptureResponse(seg *Segment, statusCode int) {
	seg.Lock()
	defer seg.Unlock()
	seg.GetHTTP().GetResponse().Status = statusCode
	markStatus(seg, statusCode)
}

func markStatus(seg *Segment, code int) {
	switch {
	case code == http.StatusTooManyRequests:
		seg.Error, seg.Throttle = true, true
	case code >= 400 && code < 500:
		seg.Error = true
	case code >= 500 && code < 600:
		seg.Fault = true
	}
}

// responseCapturer records the status a handler writes. It passes Flush,
// Hijack and Push through and unwraps for http.ResponseController.
type responseCapturer struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *responseCapturer) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseCapturer) Write(p []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(p)
}

func (w *responseCapturer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseCapturer) Flush() {
	w.wroteHeader = true
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *responseCapturer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("xray: the response writer cannot be hijacked")
}

func (w *responseCapturer) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}
