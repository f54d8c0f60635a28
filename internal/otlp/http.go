package otlp

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// TracesPath is where OTLP/HTTP exporters send traces.
const TracesPath = "/v1/traces"

const (
	typeProto = "application/x-protobuf"
	typeJSON  = "application/json"
)

type httpServer struct {
	srv *http.Server
}

func (r *Receiver) startHTTP(addr string) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	h := r.HTTPHandler()
	if r.cfg.HTTPMiddleware != nil {
		h = r.cfg.HTTPMiddleware(h)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: r.cfg.ReadTimeout,
		IdleTimeout: 2 * time.Minute, TLSConfig: r.cfg.TLS}
	r.addrs["http"] = ln.Addr()
	r.log.Info("listening", "what", "otlp http", "addr", ln.Addr().String())
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		serve := srv.Serve
		if srv.TLSConfig != nil {
			serve = func(ln net.Listener) error { return srv.ServeTLS(ln, "", "") }
		}
		if err := serve(r.cfg.WrapListener(ln)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("otlp http server", "err", err)
		}
	}()
	return &httpServer{srv: srv}, nil
}

func (h *httpServer) stop(ctx context.Context) { _ = h.srv.Shutdown(ctx) }

// HTTPHandler serves OTLP/HTTP: POST /v1/traces, protobuf or JSON, optionally
// compressed (gzip, zstd, deflate).
func (r *Receiver) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(TracesPath, r.serveTraces)
	return mux
}

func (r *Receiver) serveTraces(w http.ResponseWriter, req *http.Request) {
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if ct != typeJSON {
		ct = typeProto // errors before we know the encoding are sent as protobuf
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeStatus(w, ct, http.StatusMethodNotAllowed, codes.Unimplemented, req.Method+" is not supported; send POST "+TracesPath)
		return
	}
	if got, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); got != typeProto && got != typeJSON {
		writeStatus(w, typeProto, http.StatusUnsupportedMediaType, codes.InvalidArgument,
			fmt.Sprintf("Content-Type %q is not supported; use %s or %s", req.Header.Get("Content-Type"), typeProto, typeJSON))
		return
	}
	body, status, err := r.readBody(req)
	if err != nil {
		writeStatus(w, ct, status, codes.InvalidArgument, err.Error())
		return
	}
	er := ptraceotlp.NewExportRequest()
	if ct == typeJSON {
		err = er.UnmarshalJSON(body)
	} else {
		err = er.UnmarshalProto(body)
	}
	if err != nil {
		writeStatus(w, ct, http.StatusBadRequest, codes.InvalidArgument, fmt.Sprintf("the body is not an OTLP ExportTraceServiceRequest in %s: %v", ct, err))
		return
	}
	res := r.Export(req.Context(), er.Traces())
	if res.Throttled {
		// OTLP/HTTP: 429 with Retry-After is retryable.
		w.Header().Set("Retry-After", strconv.Itoa(throttleRetrySeconds))
		writeStatus(w, ct, http.StatusTooManyRequests, codes.ResourceExhausted, res.Message)
		return
	}
	if res.Unavailable {
		w.Header().Set("Retry-After", "1")
		writeStatus(w, ct, http.StatusServiceUnavailable, codes.Unavailable, errUnavailable.Error()+": "+res.Message)
		return
	}
	resp := ptraceotlp.NewExportResponse()
	if res.Rejected > 0 {
		resp.PartialSuccess().SetRejectedSpans(int64(res.Rejected))
		resp.PartialSuccess().SetErrorMessage(res.Message)
	}
	var out []byte
	if ct == typeJSON {
		out, err = resp.MarshalJSON()
	} else {
		out, err = resp.MarshalProto()
	}
	if err != nil {
		writeStatus(w, ct, http.StatusInternalServerError, codes.Internal, err.Error())
		return
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// readBody decompresses and bounds the request body.
func (r *Receiver) readBody(req *http.Request) ([]byte, int, error) {
	limit := int64(r.cfg.MaxRequestBytes)
	if req.ContentLength > limit {
		// Refused before a byte is read, so a client that sent
		// "Expect: 100-continue" never uploads the body at all.
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the request exceeds %d bytes", limit)
	}
	var src io.Reader = http.MaxBytesReader(nil, req.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(req.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("the body is not gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	case "zstd":
		zr, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(limit)))
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("the body is not zstd: %v", err)
		}
		defer zr.Close()
		src = zr
	case "deflate":
		zr, err := zlib.NewReader(src)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("the body is not deflate (zlib): %v", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("Content-Encoding %q is not supported; use gzip, zstd or deflate", enc)
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || n > limit {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the request exceeds %d bytes", limit)
	}
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("reading the body: %v", err)
	}
	return buf.Bytes(), 0, nil
}

// writeStatus sends an OTLP error: a google.rpc.Status in the request's
// encoding.
func writeStatus(w http.ResponseWriter, ct string, httpCode int, code codes.Code, msg string) {
	st := &spb.Status{Code: int32(code), Message: msg}
	var b []byte
	if ct == typeJSON {
		b, _ = protojson.Marshal(st)
	} else {
		b, _ = proto.Marshal(st)
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(httpCode)
	_, _ = w.Write(b)
}
