package otlp_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/otlp"
	"github.com/roentgen-tracing/roentgen/internal/otlp/loadgen"
	"github.com/roentgen-tracing/roentgen/internal/otlp/translate"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func BenchmarkTranslate(b *testing.B) {
	td := loadgen.Batch(rand.New(rand.NewPCG(1, 2)), time.Now())
	tr := translate.New(translate.Config{IndexAll: true})
	rs := td.ResourceSpans().At(0)
	ss := rs.ScopeSpans().At(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := tr.Span(ss.Spans().At(i%ss.Spans().Len()), rs.Resource(), ss.Scope()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "spans/s")
}

// cpuSeconds is the process's user+system CPU time. On a shared machine it
// measures cost better than wall time does.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func reportCPU(b *testing.B, cpu0 float64, spans int) {
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(cpu*1e6/float64(spans), "cpu-µs/span")
		b.ReportMetric(float64(spans)/cpu, "spans/cpu-s")
	}
}

// BenchmarkExport is OTLP ingest into the embedded Pebble store: translate,
// parse, summarise, persist, from as many goroutines as GOMAXPROCS.
func BenchmarkExport(b *testing.B) {
	r, in := newBenchReceiver(b, "")
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 7))
		for pb.Next() {
			if res := r.Export(context.Background(), loadgen.Batch(rng, time.Now())); res.Rejected > 0 {
				b.Error(res.Message)
			}
		}
	})
	in.Sync(context.Background()) // the traces' summaries are part of ingest
	b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "spans/s")
	reportCPU(b, cpu0, b.N*512)
}

// BenchmarkGRPC adds the gRPC transport: protobuf decoding and the network.
func BenchmarkGRPC(b *testing.B) {
	r, in := newBenchReceiver(b, "127.0.0.1:0")
	cc, err := grpc.NewClient(r.Addr("grpc").String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	client := ptraceotlp.NewGRPCClient(cc)
	b.ResetTimer()
	cpu0 := cpuSeconds()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 7))
		for pb.Next() {
			b.StopTimer()
			req := ptraceotlp.NewExportRequestFromTraces(loadgen.Batch(rng, time.Now()))
			b.StartTimer()
			if _, err := client.Export(context.Background(), req); err != nil {
				b.Error(err)
			}
		}
	})
	in.Sync(context.Background()) // the traces' summaries are part of ingest
	b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "spans/s")
	reportCPU(b, cpu0, b.N*512)
}

func newBenchReceiver(b *testing.B, grpcAddr string) (*otlp.Receiver, *ingest.Ingester) {
	st, err := pebble.Open(b.TempDir(), pebble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	in := ingest.New(ingest.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	r, err := otlp.Start(otlp.Config{GRPCAddr: grpcAddr, Ingest: in, Translate: translate.Config{IndexAll: true}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Stop(); in.Close(); st.Close() })
	return r, in
}
