package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	awssampling "github.com/aws/aws-xray-sdk-go/strategy/sampling"
	awsxray "github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"

	"github.com/roentgen-tracing/roentgen/xray"
	"github.com/roentgen-tracing/roentgen/xray/strategy/sampling"
)

const allRules = `{"version":2,"default":{"fixed_target":0,"rate":1},"rules":[]}`

func setup(b *testing.B) {
	addr := sink(b)
	rs, _ := sampling.NewLocalizedStrategyFromJSONBytes([]byte(allRules))
	if err := xray.Configure(xray.Config{DaemonAddr: addr, SamplingStrategy: rs, ServiceVersion: "1.0.0"}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = xray.Shutdown(context.Background()) })
	os, _ := awssampling.NewLocalizedStrategyFromJSONBytes([]byte(allRules))
	awsxray.SetLogger(xraylog.NullLogger)
	if err := awsxray.Configure(awsxray.Config{DaemonAddr: addr, SamplingStrategy: os, ServiceVersion: "1.0.0"}); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkBeginClose(b *testing.B) {
	setup(b)
	ctx := context.Background()
	b.Run("sdk=aws-xray-sdk-go", func(b *testing.B) {
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			_, seg := awsxray.BeginSegment(ctx, "bench")
			seg.Close(nil)
		}
	})
	b.Run("sdk=roentgen", func(b *testing.B) {
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			_, seg := xray.BeginSegment(ctx, "bench")
			seg.Close(nil)
		}
	})
}

// BenchmarkBeginCloseParallel closes segments on GOMAXPROCS goroutines at
// once, where this SDK's emitter commits datagrams as a group (one sendmmsg
// for those that arrive while another goroutine writes).
func BenchmarkBeginCloseParallel(b *testing.B) {
	setup(b)
	ctx := context.Background()
	b.Run("sdk=aws-xray-sdk-go", func(b *testing.B) {
		b.ReportAllocs()
		defer cpuPerOp(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, seg := awsxray.BeginSegment(ctx, "bench")
				seg.Close(nil)
			}
		})
	})
	b.Run("sdk=roentgen", func(b *testing.B) {
		b.ReportAllocs()
		defer cpuPerOp(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, seg := xray.BeginSegment(ctx, "bench")
				seg.Close(nil)
			}
		})
	})
}

func BenchmarkSubsegments(b *testing.B) {
	setup(b)
	ctx := context.Background()
	work := func(context.Context) error { return nil }
	order := map[string]any{"id": "o-1001", "total": 12.5}
	b.Run("sdk=aws-xray-sdk-go", func(b *testing.B) {
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			c, seg := awsxray.BeginSegment(ctx, "bench")
			_ = awsxray.AddAnnotation(c, "customer", "c-42")
			_ = awsxray.AddAnnotation(c, "items", 3)
			_ = awsxray.AddAnnotation(c, "vip", true)
			_ = awsxray.AddMetadata(c, "order", order)
			for i := 0; i < 3; i++ {
				_ = awsxray.Capture(c, "step", work)
			}
			seg.Close(nil)
		}
	})
	b.Run("sdk=roentgen", func(b *testing.B) {
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			c, seg := xray.BeginSegment(ctx, "bench")
			_ = xray.AddAnnotation(c, "customer", "c-42")
			_ = xray.AddAnnotation(c, "items", 3)
			_ = xray.AddAnnotation(c, "vip", true)
			_ = xray.AddMetadata(c, "order", order)
			for i := 0; i < 3; i++ {
				_ = xray.Capture(c, "step", work)
			}
			seg.Close(nil)
		}
	})
}

// BenchmarkHandler serves requests in-process (no network), so the
// difference between a wrapped handler and the bare one is the SDK's cost.
func BenchmarkHandler(b *testing.B) {
	setup(b)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	run := func(h http.Handler) func(*testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			defer cpuPerOp(b)()
			req := httptest.NewRequest(http.MethodGet, "http://shop.example/orders/42", nil)
			req.Header.Set("User-Agent", "bench")
			w := &nopWriter{h: http.Header{}}
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		}
	}
	b.Run("sdk=none", run(bare))
	b.Run("sdk=aws-xray-sdk-go", run(awsxray.Handler(awsxray.NewFixedSegmentNamer("shop"), bare)))
	b.Run("sdk=roentgen", run(xray.Handler(xray.NewFixedSegmentNamer("shop"), bare)))
}

// cpuPerOp reports the process's CPU time per operation (user + system, all
// goroutines and the garbage collector; the sink runs in another process).
// On a machine shared with other work, wall time per op measures the share
// of CPU the benchmark got; CPU time measures what the SDK costs, wherever
// in the process it is spent.
func cpuPerOp(b *testing.B) func() {
	user0, sys0 := cpuTime()
	return func() {
		if b.N > 0 {
			user, sys := cpuTime()
			n := float64(b.N)
			b.ReportMetric(float64(user-user0+sys-sys0)/n, "cpu-ns/op")
			b.ReportMetric(float64(sys-sys0)/n, "sys-ns/op")
		}
	}
}

// cpuTime is the process's user and system CPU time (system: the kernel
// working for it, the datagrams' way through the network stack included).
func cpuTime() (user, sys int64) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano(), ru.Stime.Nano()
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}
