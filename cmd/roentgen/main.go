// Command roentgen is the whole of Roentgen in one binary.
//
//	roentgen [flags]          everything, bound to loopback, on the embedded store
//	roentgen server [flags]   the X-Ray API (and console) alone
//	roentgen demo [flags]     everything, fed with a demo workload
//	roentgen version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/cli"
	"github.com/roentgen-tracing/roentgen/internal/demo"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if os.Getenv("GOGC") == "" {
		// Ingest allocates briskly and short-lived: collecting at 200%
		// heap growth instead of 100% cut its CPU per segment by ~15% for
		// ~40% more resident memory (BENCHMARKS.md). GOGC still overrides.
		debug.SetGCPercent(200)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	role := app.RoleAll
	withDemo := false
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "server":
			role = app.RoleServer
		case "demo":
			withDemo = true
			args = args[1:]
		case "traces", "trace", "graph", "export", "import":
			return cli.Main(args, os.Stdin, stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, "roentgen", version)
			return 0
		case "daemon":
			fmt.Fprintln(stderr, "roentgen daemon: the standalone X-Ray daemon drop-in is not built yet.\n"+
				"Run `roentgen` with no subcommand: it takes UDP segments on 127.0.0.1:2000 and serves the API itself.")
			return 2
		case "help":
			args = []string{"-h"}
		default:
			fmt.Fprintf(stderr, "roentgen: unknown command %q (commands: server, demo, version; no command runs everything)\n", args[0])
			return 2
		}
		if role != app.RoleAll {
			args = args[1:]
		}
	}

	fs := flag.NewFlagSet("roentgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := app.Config{Role: role, Version: version}
	fs.StringVar(&cfg.DataDir, "data-dir", app.DefaultDataDir(), "directory of the embedded store")
	fs.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:2020", "address of the X-Ray API, console, /metrics and /health")
	fs.StringVar(&cfg.UDPAddr, "bind", "127.0.0.1:2000", "UDP address for segment datagrams (all-in-one only)")
	fs.StringVar(&cfg.UDPAddr, "b", "127.0.0.1:2000", "shorthand for --bind")
	fs.StringVar(&cfg.TCPAddr, "bind-tcp", "127.0.0.1:2000", "TCP address answering SDK sampling calls and any API path (all-in-one only)")
	fs.StringVar(&cfg.TCPAddr, "t", "127.0.0.1:2000", "shorthand for --bind-tcp")
	fs.StringVar(&cfg.OTLPGRPCAddr, "otlp-grpc", "127.0.0.1:4317", "address of the OTLP/gRPC trace receiver (empty disables it)")
	fs.StringVar(&cfg.OTLPHTTPAddr, "otlp-http", "127.0.0.1:4318", "address of the OTLP/HTTP trace receiver, path /v1/traces (empty disables it)")
	fs.StringVar(&cfg.OTLPIndexAttributes, "otlp-index-attributes", "*", "OTLP span attribute keys to index as annotations, comma-separated, or * for all (at most 50 per span)")
	fs.DurationVar(&cfg.Retention, "retention", 720*time.Hour, "how long traces are kept (X-Ray keeps 30 days)")
	fs.StringVar(&cfg.Region, "region", "us-east-1", "region named in the ARNs the API returns")
	fs.StringVar(&cfg.AccountID, "account-id", "000000000000", "account id named in the ARNs the API returns")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: roentgen [command] [flags]\n\n"+
			"Roentgen is a self-hosted AWS X-Ray: point X-Ray SDKs, the AWS CLI or OpenTelemetry at it.\n"+
			"With no command it runs everything in one process on the embedded store, bound to loopback:\n"+
			"segments over UDP (--bind), the X-Ray API on --http and on the daemon's TCP side (--bind-tcp).\n\n"+
			"Commands:\n  server    the X-Ray API (and console) alone\n  demo      everything, plus generated demo traffic\n  version   print the version\n\n"+
			"Clients:\n  X-Ray SDKs  AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000\n"+
			"  AWS CLI     aws xray get-trace-summaries --endpoint-url http://127.0.0.1:2020 ...\n\n"+
			"Flags (-b and -t are short for --bind and --bind-tcp):\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "roentgen: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "roentgen: --log-level: %v\n", err)
		return 2
	}
	hopts := &slog.HandlerOptions{Level: level}
	if *logFormat == "json" {
		cfg.Logger = slog.New(slog.NewJSONHandler(stderr, hopts))
	} else {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, hopts))
	}
	slog.SetDefault(cfg.Logger)

	cfg.Logger.Info("starting roentgen", "version", version, "role", role, "data_dir", cfg.DataDir, "retention", cfg.Retention.String())
	a, err := app.Start(cfg)
	if err != nil {
		cfg.Logger.Error("start", "err", err)
		return 1
	}
	stopDemo := func() {}
	if withDemo {
		stopDemo = demo.Start(a.Addr("udp").String(), "http://"+a.Addr("http").String(), cfg.Logger)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	stopDemo()
	cfg.Logger.Info("stopping", "signal", s.String())
	if err := a.Stop(); err != nil {
		cfg.Logger.Error("stop", "err", err)
		return 1
	}
	cfg.Logger.Info("stopped; everything acknowledged is on disk", "data_dir", cfg.DataDir)
	return 0
}
