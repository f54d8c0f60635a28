package main

// The side-by-side OTLP comparison with Jaeger v2 (issue 15): the same
// OTLP/gRPC load (internal/otlp/loadgen, as otlpload sends it) is sent to a
// Jaeger v2 all-in-one on Badger and to Roentgen, one after the other, each on
// a fresh data directory, and each server's own CPU and peak RSS are compared.
//
//	go build -o bin/roentgen ./cmd/roentgen
//	go run ./cmd/roentgen-bench -exec bin/roentgen -jaeger /tmp/jaegerbin/jaeger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/otlp/loadgen"
)

// jaegerConfig is Jaeger v2's own Badger example (cmd/jaeger/config-badger.yaml)
// cut to ingest: OTLP receiver, batch processor, storage exporter. No query
// extension, health check or internal metrics, whose fixed ports would clash
// and whose work is not ingest.
const jaegerConfig = `service:
  extensions: [jaeger_storage]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      bench_store:
        badger:
          directories:
            keys: %[1]q
            values: %[1]q
          ephemeral: false
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %[2]q
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: bench_store
`

// otlpResult is one server's run.
type otlpResult struct {
	name     string
	spans    int64
	elapsed  time.Duration
	loadCPU  time.Duration // from the first span sent until the server's CPU goes quiet
	totalCPU time.Duration // the whole process: start, load, and the clean stop's flush
	hwm      int64         // VmHWM, bytes
}

func (r otlpResult) perMillion(cpu time.Duration) float64 {
	return cpu.Seconds() * 1e6 / float64(max(r.spans, 1))
}

// runJaeger alternates Jaeger and Roentgen -rounds times and prints each run
// and the ratios.
func runJaeger(c config, out io.Writer) error {
	if c.execPath == "" {
		return errors.New("-jaeger needs -exec, the roentgen binary to compare")
	}
	var all []otlpResult
	for round := 1; round <= c.rounds; round++ {
		for _, name := range []string{"jaeger", "roentgen"} {
			fmt.Fprintf(out, "round %d: %s, %d spans from %d workers...\n", round, name, c.otlpSpans, c.concurrency)
			r, err := otlpRun(c, name)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			fmt.Fprintf(out, "  %s\n", r)
			all = append(all, r)
		}
	}
	fmt.Fprintf(out, "\nround  jaeger cpu s/M  roentgen cpu s/M  cpu ratio  jaeger hwm  roentgen hwm  rss ratio\n")
	for i := 0; i+1 < len(all); i += 2 {
		j, r := all[i], all[i+1]
		fmt.Fprintf(out, "%5d  %14.1f  %16.1f  %9.2f  %6d MiB  %8d MiB  %9.2f\n", i/2+1,
			j.perMillion(j.loadCPU), r.perMillion(r.loadCPU), r.perMillion(r.loadCPU)/j.perMillion(j.loadCPU),
			j.hwm>>20, r.hwm>>20, float64(r.hwm)/float64(max(j.hwm, 1)))
	}
	fmt.Fprintln(out, "(cpu s/M: the server's utime+stime from /proc per million spans, from the first span until its CPU goes quiet; hwm: VmHWM)")
	return nil
}

func (r otlpResult) String() string {
	return fmt.Sprintf("%s: %d spans in %.1fs (%.0f spans/s); cpu %.1fs during load = %.1f s per million spans (whole process %.1fs = %.1f); VmHWM %d MiB",
		r.name, r.spans, r.elapsed.Seconds(), float64(r.spans)/r.elapsed.Seconds(),
		r.loadCPU.Seconds(), r.perMillion(r.loadCPU), r.totalCPU.Seconds(), r.perMillion(r.totalCPU), r.hwm>>20)
}

// otlpRun starts one server on a fresh directory, sends the load, waits for
// the server to finish what it was handed, and stops it cleanly.
func otlpRun(c config, name string) (otlpResult, error) {
	dir, err := os.MkdirTemp("", "roentgen-bench-"+name+"-")
	if err != nil {
		return otlpResult{}, err
	}
	defer os.RemoveAll(dir)
	otlpAddr := freeTCP()
	var cmd *exec.Cmd
	if name == "jaeger" {
		cfg := filepath.Join(dir, "config.yaml")
		data := filepath.Join(dir, "badger")
		if err := os.WriteFile(cfg, fmt.Appendf(nil, jaegerConfig, data, otlpAddr), 0o600); err != nil {
			return otlpResult{}, err
		}
		cmd = exec.Command(c.jaegerPath, "--config", cfg)
	} else {
		cmd = exec.Command(c.execPath, "--data-dir", filepath.Join(dir, "data"), "--http", freeTCP(), "--bind", freeUDP(),
			"--bind-tcp", freeTCP(), "--log-level", "warn", "--otlp-grpc", otlpAddr, "--otlp-http", "")
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return otlpResult{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	kill := func() { _ = cmd.Process.Kill(); <-exited }
	if err := waitListening(otlpAddr, exited, time.Minute); err != nil {
		kill()
		return otlpResult{}, err
	}
	srv := &server{cmd: cmd}
	cpu0 := srv.cpu()
	st, err := loadgen.Run(context.Background(), loadgen.Config{Endpoint: otlpAddr, Spans: c.otlpSpans, Workers: c.concurrency, Timeout: c.maxDuration})
	if err == nil && st.Failed > 0 {
		err = fmt.Errorf("%d spans failed", st.Failed)
	}
	if err != nil {
		kill()
		return otlpResult{}, err
	}
	// Jaeger's batch processor acknowledges before it writes, so the work it
	// owes is counted by waiting until the process is idle (< 5% of a core
	// for two seconds in a row).
	quietCPU(srv)
	r := otlpResult{name: name, spans: st.Spans, elapsed: st.Elapsed, loadCPU: srv.cpu() - cpu0}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		return otlpResult{}, fmt.Errorf("clean stop: %w", err)
	}
	r.totalCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	r.hwm = exitedPeakRSS(cmd.ProcessState) // what VmHWM shows while it runs
	return r, nil
}

func waitListening(addr string, exited <-chan error, limit time.Duration) error {
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited before listening on %s: %v", addr, err)
		default:
		}
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return nil
		}
		if time.Since(start) > limit {
			return fmt.Errorf("not listening on %s after %s", addr, limit)
		}
	}
}

func quietCPU(s *server) {
	quiet := 0
	for last, start := s.cpu(), time.Now(); quiet < 2 && time.Since(start) < 5*time.Minute; {
		time.Sleep(time.Second)
		now := s.cpu()
		if now-last < 50*time.Millisecond {
			quiet++
		} else {
			quiet = 0
		}
		last = now
	}
}
