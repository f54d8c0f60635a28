// Command otlpload sends a bounded OTLP/gRPC trace load to one endpoint
// (Roentgen or any other OTLP receiver) and prints what it achieved.
//
//	otlpload -endpoint 127.0.0.1:4317 -spans 1000000 -workers 4 -timeout 5m
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/otlp/loadgen"
)

func main() {
	var c loadgen.Config
	flag.StringVar(&c.Endpoint, "endpoint", "127.0.0.1:4317", "OTLP/gRPC host:port")
	flag.IntVar(&c.Spans, "spans", 1_000_000, "spans to send (whole batches of 512)")
	flag.IntVar(&c.Workers, "workers", 4, "concurrent exporters")
	flag.DurationVar(&c.Timeout, "timeout", 5*time.Minute, "stop after this long")
	flag.Parse()
	st, err := loadgen.Run(context.Background(), c)
	fmt.Printf("endpoint=%s spans=%d failed=%d elapsed=%.2fs rate=%.0f spans/s\n",
		c.Endpoint, st.Spans, st.Failed, st.Elapsed.Seconds(), float64(st.Spans)/st.Elapsed.Seconds())
	if err != nil {
		fmt.Fprintln(os.Stderr, "otlpload:", err)
		os.Exit(1)
	}
}
