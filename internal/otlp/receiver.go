// Package otlp makes Roentgen an OpenTelemetry endpoint: OTLP/gRPC and
// OTLP/HTTP trace receivers whose spans become X-Ray segment documents
// (package translate) and enter the shared ingest path, so that OTLP and
// X-Ray SDK services share traces and one service graph.
package otlp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/otlp/translate"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc"
)

// Config configures the receivers. An empty address disables its receiver.
type Config struct {
	GRPCAddr string
	HTTPAddr string
	Ingest   *ingest.Ingester
	// Translate chooses the attributes indexed as annotations.
	Translate translate.Config
	Logger    *slog.Logger
	// MaxRequestBytes bounds one request (decompressed); default 16 MiB.
	MaxRequestBytes int

	// What guards the receivers (the app's security settings): TLS for
	// both (nil: plain), a wrapper of each listener (connection limits),
	// middleware in front of the HTTP handler, more gRPC server options
	// (interceptors), and the time to read a whole HTTP request.
	TLS            *tls.Config
	WrapListener   func(net.Listener) net.Listener
	HTTPMiddleware func(http.Handler) http.Handler
	GRPCOptions    []grpc.ServerOption
	ReadTimeout    time.Duration
}

// Receiver runs the OTLP receivers.
type Receiver struct {
	cfg   Config
	tr    *translate.Translator
	log   *slog.Logger
	grpc  *grpcServer
	http  *httpServer
	addrs map[string]net.Addr
	wg    sync.WaitGroup
}

// Start binds the configured receivers and serves until Stop.
func Start(cfg Config) (*Receiver, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 16 << 20
	}
	if cfg.WrapListener == nil {
		cfg.WrapListener = func(ln net.Listener) net.Listener { return ln }
	}
	r := &Receiver{cfg: cfg, tr: translate.New(cfg.Translate), log: cfg.Logger, addrs: map[string]net.Addr{}}
	if cfg.GRPCAddr != "" {
		s, err := r.startGRPC(cfg.GRPCAddr)
		if err != nil {
			return nil, fmt.Errorf("otlp grpc %s: %w", cfg.GRPCAddr, err)
		}
		r.grpc = s
	}
	if cfg.HTTPAddr != "" {
		s, err := r.startHTTP(cfg.HTTPAddr)
		if err != nil {
			r.Stop()
			return nil, fmt.Errorf("otlp http %s: %w", cfg.HTTPAddr, err)
		}
		r.http = s
	}
	return r, nil
}

// Addr returns the bound address of "grpc" or "http" (nil when disabled).
func (r *Receiver) Addr(name string) net.Addr { return r.addrs[name] }

// Stop finishes requests in flight (at most ctx's deadline) and stops.
func (r *Receiver) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if r.http != nil {
		r.http.stop(ctx)
	}
	if r.grpc != nil {
		r.grpc.stop(ctx)
	}
	r.wg.Wait()
}

// Result is the outcome of one export: the spans refused and why, in the
// shape of OTLP's partial success.
type Result struct {
	Spans    int
	Rejected int
	Message  string
	// Unavailable: nothing was stored because the store failed; the client
	// should retry.
	Unavailable bool
	// Throttled: nothing was stored because ingest is at its memory bound
	// (ingest.ErrThrottled) or the store is overloaded (store.ErrBusy);
	// the client should retry later.
	Throttled bool
}

// maxReasons bounds the per-span reasons quoted in a partial-success message.
const maxReasons = 5

// Export translates and ingests a batch. Valid spans are stored whatever
// happens to the others.
func (r *Receiver) Export(ctx context.Context, td ptrace.Traces) Result {
	segs, reasons, res := r.segments(td)
	internal, busy := 0, 0
	rejected, err := r.cfg.Ingest.TryIngestSegments(ctx, segs, "otlp")
	if errors.Is(err, ingest.ErrThrottled) {
		res.Throttled = true
		res.Message = fmt.Sprintf("%d spans refused: %v", len(segs), err)
		return res
	}
	for _, rej := range rejected {
		res.Rejected++
		switch rej.Code {
		case ingest.CodeInternal:
			internal++
		case ingest.CodeThrottled: // the store is overloaded (store.ErrBusy)
			busy++
		}
		reasons = appendReason(reasons, fmt.Sprintf("span %s: %s", segs[rej.Index].ID, rej.Message))
	}
	if res.Rejected > 0 {
		res.Message = fmt.Sprintf("%d of %d spans rejected: %s", res.Rejected, res.Spans, strings.Join(reasons, "; "))
		if res.Rejected > len(reasons) {
			res.Message += fmt.Sprintf("; and %d more", res.Rejected-len(reasons))
		}
	}
	// Nothing stored because of the store: retryable, as a throttle if
	// any was refused for the store's load.
	if failed := internal + busy; failed > 0 && failed == len(segs) {
		res.Throttled, res.Unavailable = busy > 0, busy == 0
	}
	return res
}

// segments translates a batch into validated segments; res counts the spans
// and those refused, with the first reasons.
func (r *Receiver) segments(td ptrace.Traces) (segs []*segment.Segment, reasons []string, res Result) {
	segs = make([]*segment.Segment, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				res.Spans++
				// The translation hands ingest the segment it built: no
				// decoding of the JSON it was just encoded to.
				seg, err := r.tr.Segment(spans.At(k), rs.Resource(), ss.Scope())
				if err == nil {
					err = segment.Validate(seg, segment.Options{SkipTraceEpoch: true})
				}
				if err != nil {
					res.Rejected++
					reasons = appendReason(reasons, err.Error())
					continue
				}
				segs = append(segs, seg) // seg.ID is the span id, in hex
			}
		}
	}
	return segs, reasons, res
}

func appendReason(rs []string, r string) []string {
	if len(rs) < maxReasons {
		rs = append(rs, r)
	}
	return rs
}

var errUnavailable = errors.New("the store could not persist the spans; retry later")
