package otlp

import (
	"context"
	"errors"
	"net"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // OTLP exporters may compress with gzip
	"google.golang.org/grpc/status"
)

// shutdownTimeout bounds how long Stop waits for requests in flight.
const shutdownTimeout = 10 * time.Second

type grpcServer struct {
	srv *grpc.Server
}

// traceService is the OTLP TraceService on the collector's generated
// gRPC definitions (pdata's ptraceotlp).
type traceService struct {
	ptraceotlp.UnimplementedGRPCServer
	r *Receiver
}

func (r *Receiver) startGRPC(addr string) (*grpcServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	opts := append(grpcServerOptions(r.cfg.MaxRequestBytes), r.cfg.GRPCOptions...)
	if r.cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(r.cfg.TLS)))
	}
	s := grpc.NewServer(opts...)
	ptraceotlp.RegisterGRPCServer(s, &traceService{r: r})
	r.addrs["grpc"] = ln.Addr()
	r.log.Info("listening", "what", "otlp grpc", "addr", ln.Addr().String())
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		// ErrServerStopped: stopped before it served, as when another
		// listener fails to bind at start; that one's error is the news.
		if err := s.Serve(r.cfg.WrapListener(ln)); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			r.log.Error("otlp grpc server", "err", err)
		}
	}()
	return &grpcServer{srv: s}, nil
}

// grpcServerOptions are the OTLP/gRPC server's options.
func grpcServerOptions(maxRecv int) []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(maxRecv)}
}

// Export answers with partial success for refused spans, and Unavailable
// (which OTLP exporters retry) when the store failed.
func (t *traceService) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	res := t.r.Export(ctx, req.Traces())
	resp := ptraceotlp.NewExportResponse()
	if res.Throttled {
		return resp, throttledStatus(res.Message)
	}
	if res.Unavailable {
		return resp, status.Error(codes.Unavailable, errUnavailable.Error()+": "+res.Message)
	}
	if res.Rejected > 0 {
		ps := resp.PartialSuccess()
		ps.SetRejectedSpans(int64(res.Rejected))
		ps.SetErrorMessage(res.Message)
	}
	return resp, nil
}

func (g *grpcServer) stop(ctx context.Context) {
	done := make(chan struct{})
	go func() { g.srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		g.srv.Stop()
		<-done
	}
}
