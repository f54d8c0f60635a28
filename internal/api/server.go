// Package api is the X-Ray REST API (restJson1, API version 2016-04-12,
// spec §3): one http.Handler that answers every operation's path, signed
// with SigV4 or not, on the API port and on the daemon's TCP port alike.
//
// Each operation family lives in its own file (traces.go, graph.go,
// groups.go, sampling.go, ...); ops.go lists them all.
package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/auth"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/groups"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/insights"
	keeppolicy "github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/sampling"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/telemetry"
)

// statusClientClosed is the status recorded for requests the client
// abandoned (nginx's 499); the client never reads it.
const statusClientClosed = 499

// MaxBodyBytes bounds a request body: 50 documents of 64 kB fit with room.
const MaxBodyBytes = 16 << 20

// Config wires the API to the rest of the server. The API is the thin
// restJson1 layer over these; internal/app builds them and wires the ones
// fed by ingest (the graph's statistics) to it.
type Config struct {
	Store     store.Store
	Ingest    *ingest.Ingester
	Groups    *groups.Service
	Graph     *graph.Aggregator
	Sampling  *sampling.Service
	Telemetry *telemetry.Service
	Keep      *keeppolicy.Service // optional: keep policies (docs/keep.md)
	Insights  *insights.Detector  // optional: X-Ray Insights (docs/insights.md)
	Metrics   *metrics.Metrics    // optional
	Logger    *slog.Logger        // optional
	// ResourcePolicies receives the resource policies compiled at each
	// change, for the guard to enforce (optional); Region and AccountID
	// are the server's, which policies' Resource ARNs name.
	ResourcePolicies  *auth.ResourcePolicies
	Region, AccountID string
}

// Server is the API handler.
type Server struct {
	cfg Config
	log *slog.Logger
	ops map[string]*op

	// Operation families (one file each).
	graph    graphAPI
	groups   groupsAPI
	sampling samplingAPI
	metaMu   sync.Mutex // serialises read-modify-write of settings (meta.go)
	// policiesSeen fingerprints the resource policies in force (under
	// metaMu; policies.go).
	policiesSeen string
}

// op is one operation: its name and its handler, which decodes the body it
// is given and returns the response shape or an *Error.
type op struct {
	name   string
	handle func(ctx context.Context, body []byte) (any, error)
	// pooledBody: the handler keeps nothing of the body once it returns,
	// so the body is read into a buffer reused by later requests.
	pooledBody bool
}

// New returns the API handler.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Store == nil || cfg.Ingest == nil || cfg.Groups == nil || cfg.Graph == nil || cfg.Sampling == nil || cfg.Telemetry == nil {
		return nil, errors.New("api: Config needs Store, Ingest, Groups, Graph, Sampling and Telemetry")
	}
	if cfg.ResourcePolicies == nil {
		cfg.ResourcePolicies = &auth.ResourcePolicies{} // checked and kept, enforced by nobody
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	s.graph.s, s.groups.s, s.sampling.s = s, s, s
	s.ops = s.operations()
	return s, nil
}

// now is the server's clock: the ingester's, so tests can inject one.
func (s *Server) now() time.Time { return s.cfg.Ingest.Now() }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.Header().Set("Content-Type", "application/json")

	path := strings.TrimSuffix(r.URL.Path, "/")
	o := s.ops[path]
	name := "unknown"
	var out any
	var err error
	switch {
	case o == nil:
		err = &Error{Status: http.StatusNotFound, Type: "UnknownOperationException",
			Message: fmt.Sprintf("no X-Ray operation is served at %s %s", r.Method, r.URL.Path)}
	case r.Method != http.MethodPost:
		name = o.name
		err = &Error{Status: http.StatusMethodNotAllowed, Type: "InvalidRequestException",
			Message: fmt.Sprintf("%s takes POST, not %s", o.name, r.Method)}
	default:
		name = o.name
		var buf *[]byte
		if o.pooledBody {
			buf = getBuffer()
			defer putBuffer(buf)
		}
		var body []byte
		if o.name == "PutTraceSegments" && s.cfg.Ingest != nil && s.cfg.Ingest.Saturated() {
			// Refused unread: under overload, reading and parsing bodies
			// only to refuse them took the CPU and memory the server had.
			err = throttled("PutTraceSegments: %v; nothing of this request was stored", ingest.ErrThrottled)
		} else {
			body, err = readBody(r, buf)
		}
		if err == nil {
			out, err = s.call(r.Context(), o, body)
		}
	}
	status := s.write(w, out, err, name, reqID)
	if m := s.cfg.Metrics; m != nil {
		m.APIRequests.WithLabelValues(name, strconv.Itoa(status)).Inc()
		m.APILatency.WithLabelValues(name).Observe(time.Since(start).Seconds())
	}
}

// call runs an operation. A panic in one request answers that request with
// InternalFailure and is logged; the server goes on.
func (s *Server) call(ctx context.Context, o *op, body []byte) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("api operation panicked", "operation", o.name, "panic", p, "stack", string(debug.Stack()))
			out, err = nil, &Error{Status: http.StatusInternalServerError, Type: "InternalFailure", Message: fmt.Sprintf("%s failed inside Roentgen; the server log has the details", o.name)}
		}
	}()
	return o.handle(ctx, body)
}

func (s *Server) write(w http.ResponseWriter, out any, err error, opName, reqID string) int {
	if err != nil {
		var e *Error
		switch {
		case errors.As(err, &e):
		case errors.Is(err, context.Canceled):
			// The client went away (a browser navigating on): not a failure.
			s.log.Debug("api request canceled by the client", "operation", opName, "request_id", reqID)
			e = &Error{Status: statusClientClosed, Type: "RequestCanceled", Message: "the client canceled the request"}
		default:
			s.log.Error("api operation failed", "operation", opName, "request_id", reqID, "err", err)
			e = &Error{Status: http.StatusInternalServerError, Type: "InternalFailure", Message: "internal error: " + err.Error()}
		}
		w.Header().Set("X-Amzn-ErrorType", e.Type)
		w.WriteHeader(e.Status)
		body := map[string]any{"__type": e.Type, "message": e.Message}
		if e.ResourceName != "" {
			body["ResourceName"] = e.ResourceName
		}
		_ = json.NewEncoder(w).Encode(body)
		return e.Status
	}
	var b []byte
	switch o := out.(type) {
	case nil:
		b = []byte("{}")
	case rawJSON:
		b = o
	default:
		var merr error
		if b, merr = json.Marshal(out); merr != nil {
			return s.write(w, nil, merr, opName, reqID)
		}
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return http.StatusOK
}

// rawJSON is an operation output that is already encoded.
type rawJSON []byte

func readBody(r *http.Request, buf *[]byte) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		// Refused unread: a client that sent "Expect: 100-continue"
		// never uploads the body.
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Type: "InvalidRequestException",
			Message: fmt.Sprintf("the request body exceeds %d bytes", MaxBodyBytes)}
	}
	var rd io.Reader = http.MaxBytesReader(nil, r.Body, MaxBodyBytes)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		gz, err := gzip.NewReader(rd)
		if err != nil {
			return nil, invalid("the body is not valid gzip: %v", err)
		}
		defer gz.Close()
		rd = io.LimitReader(gz, MaxBodyBytes+1)
	}
	var into []byte
	if buf != nil {
		into = *buf
	}
	b, err := readAll(rd, r.ContentLength, into)
	if buf != nil {
		*buf = b // the buffer grown for this body serves the next one
	}
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Type: "InvalidRequestException",
				Message: fmt.Sprintf("the request body exceeds %d bytes", MaxBodyBytes)}
		}
		return nil, invalid("the request body could not be read: %v", err)
	}
	if len(b) > MaxBodyBytes {
		return nil, invalid("the decompressed request body exceeds %d bytes", MaxBodyBytes)
	}
	return b, nil
}

// readAll is io.ReadAll into b's memory, or into a buffer sized by the
// request's Content-Length when b is too small for it (a 60 kB
// PutTraceSegments body would otherwise be read through a dozen growing
// buffers). The length is only a hint: the body may be compressed, or
// shorter or longer than it claims.
func readAll(rd io.Reader, contentLength int64, b []byte) ([]byte, error) {
	b = b[:0]
	// One byte more, so reading a body of exactly that length ends with
	// the EOF read instead of growing the buffer for it.
	if contentLength > 0 && contentLength <= MaxBodyBytes && int64(cap(b)) < contentLength+1 {
		b = make([]byte, 0, contentLength+1)
	} else if cap(b) == 0 {
		b = make([]byte, 0, 512)
	}
	for {
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow as io.ReadAll does
		}
	}
}

// bufferPool holds the buffers that a request's bytes pass through and
// nothing keeps: pooled bodies (op.pooledBody) and the documents unescaped
// out of PutTraceSegments bodies. Allocated anew for each request, the two
// were 19% of what ingest allocated.
var bufferPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBuffer keeps a rare huge body from staying in the pool.
const maxPooledBuffer = 1 << 20

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(buf *[]byte) {
	if cap(*buf) <= maxPooledBuffer {
		*buf = (*buf)[:0]
		bufferPool.Put(buf)
	}
}

// decode reads a JSON request into v. An empty body is an empty object, as
// operations without input may send nothing; unknown members are ignored
// so newer clients keep working.
func decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return invalid("the request body must be a JSON object, not a JSON %s", te.Value)
		}
		if errors.As(err, &te) {
			return invalid("member %s must be a %s, not a JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return invalid("the request body is not valid JSON (at byte %d): %v", se.Offset, err)
		}
		var ve *validationError
		if errors.As(err, &ve) {
			return invalid("%s", ve.msg)
		}
		return invalid("the request body could not be read: %v", err)
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice", "array":
		return "list"
	case "map", "struct", "ptr":
		return "structure"
	case "bool":
		return "boolean"
	}
	return "number"
}

type validationError struct{ msg string }

func (e *validationError) Error() string { return e.msg }

// newRequestID is a random id in UUID layout (8-4-4-4-12 hex digits).
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}
