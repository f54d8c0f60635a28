package otlp

import (
	"context"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/otlp/loadgen"
	"github.com/roentgen-tracing/roentgen/internal/otlp/translate"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// recvService is the OTLP/gRPC service without ingest: it decodes each
// request and, with translate set, translates and validates its spans.
type recvService struct {
	ptraceotlp.UnimplementedGRPCServer
	r         *Receiver
	translate bool
}

func (s *recvService) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	td := req.Traces()
	if s.translate {
		if _, reasons, res := s.r.segments(td); res.Rejected > 0 {
			panic(reasons)
		}
	} else if td.SpanCount() != loadgen.SpansPerBatch {
		panic(td.SpanCount())
	}
	return ptraceotlp.NewExportResponse(), nil
}

// BenchmarkGRPCReceive is the OTLP/gRPC receive path outside ingest: gRPC
// transport, protobuf decoding into pdata, and (translate) the translation
// to validated segments, for 512-span batches from 4 concurrent clients on
// loopback. cpu-µs/span is the whole process's CPU, client included (the
// client re-marshals prebuilt requests; the same in every variant).
func BenchmarkGRPCReceive(b *testing.B) {
	for _, c := range []struct {
		name      string
		opts      []grpc.ServerOption
		translate bool
	}{
		// Buffer sizes, flow-control windows, stream workers and a shared
		// write buffer measured no different from the defaults here.
		{"decode", grpcServerOptions(16 << 20), false},
		{"translate", grpcServerOptions(16 << 20), true},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchReceive(b, c.opts, &recvService{r: &Receiver{tr: translate.New(translate.Config{IndexAll: true})}, translate: c.translate})
		})
	}
}

func benchReceive(b *testing.B, opts []grpc.ServerOption, svc ptraceotlp.GRPCServer) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	ptraceotlp.RegisterGRPCServer(srv, svc)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	client := ptraceotlp.NewGRPCClient(cc)
	rng := rand.New(rand.NewPCG(1, 2))
	reqs := make([]ptraceotlp.ExportRequest, 16)
	for i := range reqs {
		reqs[i] = ptraceotlp.NewExportRequestFromTraces(loadgen.Batch(rng, time.Now()))
	}
	b.SetParallelism(2) // 4 clients on 2 cores, as otlpload -workers 4
	b.ResetTimer()
	cpu0 := bench.CPUTime()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := client.Export(context.Background(), reqs[i%len(reqs)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if b.N > 0 {
		b.ReportMetric(float64(bench.CPUTime()-cpu0)/1e3/float64(b.N*loadgen.SpansPerBatch), "cpu-µs/span")
	}
}
