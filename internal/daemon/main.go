package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"syscall"
)

// Main runs `roentgen daemon` with args (after the subcommand) until
// SIGINT or SIGTERM, and returns the exit code.
func Main(args []string, stdout, stderr io.Writer, version string) int {
	cfg, err := ParseArgs(args, os.Getenv, stderr)
	switch {
	case errors.Is(err, ErrVersion):
		fmt.Fprintf(stdout, "AWS X-Ray daemon version: %s (roentgen daemon)\n", version)
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "roentgen daemon: %v\n", err)
		return 2
	}
	cfg.Version = version
	if os.Getenv("GOGC") == "" {
		// The daemon's heap is mostly batches in flight: the server's
		// GOGC=200 (cmd/roentgen) would double its resident memory for
		// little CPU.
		debug.SetGCPercent(100)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Collect harder rather than grow past what the buffers may hold
		// (a backlog fills them) plus the daemon's own working set.
		if b, err := cfg.bufferBytes(); err == nil {
			debug.SetMemoryLimit(2*b + 64<<20)
		}
	}
	level, _ := slogLevel(cfg.LogLevel)
	var out io.Writer = stderr
	if cfg.LogFile != "" {
		lf, err := openLogFile(cfg.LogFile, cfg.LogRotation)
		if err != nil {
			fmt.Fprintf(stderr, "roentgen daemon: log file: %v\n", err)
			return 1
		}
		defer lf.Close()
		out = lf
	}
	cfg.Logger = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(cfg.Logger)

	// The official daemon's profiling variables.
	if path := os.Getenv("XRAY_DAEMON_CPU_PROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	if path := os.Getenv("XRAY_DAEMON_MEMORY_PROFILE"); path != "" {
		defer func() {
			if f, err := os.Create(path); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}()
	}
	// SIGTERM during start-up (region lookup, spool recovery) still stops cleanly.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	d, err := Start(context.Background(), cfg)
	if err != nil {
		cfg.Logger.Error("start", "err", err)
		return 1
	}
	govStop, govDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(govDone); d.governProcs(govStop) }()
	s := <-sig
	cfg.Logger.Info("signal", "signal", s.String())
	close(govStop) // all the Ps for the drain
	<-govDone
	if err := d.Stop(); err != nil {
		cfg.Logger.Error("stop", "err", err)
		return 1
	}
	return 0
}

// logFile is the -f log, rotated at 50 MB with one old file kept
// (path.1), as the official daemon rotates when Logging.LogRotation is on.
type logFile struct {
	mu     sync.Mutex
	path   string
	f      *os.File
	size   int64
	rotate bool
}

const logRotateBytes = 50 << 20

func openLogFile(path string, rotate bool) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &logFile{path: path, f: f, size: st.Size(), rotate: rotate}, nil
}

func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rotate && l.size+int64(len(p)) > logRotateBytes && l.size > 0 {
		l.f.Close()
		_ = os.Rename(l.path, l.path+".1")
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
		if err != nil {
			return 0, err
		}
		l.f, l.size = f, 0
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
