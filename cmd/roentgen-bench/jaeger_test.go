package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The Roentgen side of the Jaeger comparison against the real binary: every
// span sent is acknowledged, and the server's own CPU and peak RSS are read.
func TestOTLPRunMeasuresRoentgen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the roentgen binary")
	}
	bin := filepath.Join(t.TempDir(), "roentgen")
	if out, err := exec.Command("go", "build", "-o", bin, "../roentgen").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	r, err := otlpRun(config{execPath: bin, otlpSpans: 2048, concurrency: 2, maxDuration: 5 * time.Minute}, "roentgen")
	if err != nil {
		t.Fatal(err)
	}
	if r.spans != 2048 || r.loadCPU <= 0 || r.totalCPU < r.loadCPU || r.hwm < 1<<20 {
		t.Fatalf("implausible measurement: %+v", r)
	}
}

func TestRunJaegerNeedsRoentgen(t *testing.T) {
	if err := runJaeger(config{jaegerPath: "jaeger", rounds: 1}, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "-exec") {
		t.Fatalf("got %v", err)
	}
}
