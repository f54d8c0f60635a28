package xray_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/roentgen-tracing/roentgen/xray"
)

// A service: every request is a segment, outgoing calls are subsegments,
// and Shutdown ships what is queued before the process exits.
func Example() {
	_ = xray.Configure(xray.Config{DaemonAddr: "127.0.0.1:2000", ServiceVersion: "1.4.2"})

	client := xray.Client(nil)
	mux := http.NewServeMux()
	mux.HandleFunc("/checkout", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://payments.internal/charge", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Addr: ":8080", Handler: xray.Handler(xray.NewFixedSegmentNamer("shop"), mux)}

	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = xray.Shutdown(ctx) // every queued segment reaches the daemon
	}()
	_ = srv.ListenAndServe()
}

// A job outside any request: begin a segment, capture steps, close it.
func ExampleBeginSegment() {
	ctx, seg := xray.BeginSegment(context.Background(), "nightly-report")
	_ = xray.AddAnnotation(ctx, "tenant", "acme")
	_ = xray.AddMetadata(ctx, "rows", 1200)
	err := xray.Capture(ctx, "render", func(ctx context.Context) error {
		return errors.New("template missing")
	})
	seg.Close(err)
	_ = xray.Shutdown(context.Background())
}

// Capture runs a function in a subsegment and records its error.
func ExampleCapture() {
	defer xray.Shutdown(context.Background())
	ctx, seg := xray.BeginSegment(context.Background(), "worker")
	defer seg.Close(nil)
	_ = xray.Capture(ctx, "load-config", func(ctx context.Context) error {
		return xray.AddAnnotation(ctx, "source", "s3")
	})
	fmt.Println(xray.TraceID(ctx) != "")
	// Output: true
}
