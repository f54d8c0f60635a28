// Command roentgen is the whole of Roentgen in one binary.
//
//	roentgen [flags]          everything, bound to loopback, on the embedded store
//	roentgen server [flags]   the X-Ray API (and console) alone
//	roentgen daemon [flags]   a drop-in for the AWS X-Ray daemon
//	roentgen demo [flags]     everything, fed with a demo workload
//	roentgen version
//	roentgen traces|trace|graph|export|import   the terminal client (internal/cli)
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
	"github.com/roentgen-tracing/roentgen/internal/budget"
	"github.com/roentgen-tracing/roentgen/internal/cli"
	"github.com/roentgen-tracing/roentgen/internal/daemon"
	"github.com/roentgen-tracing/roentgen/internal/demo"
	"github.com/roentgen-tracing/roentgen/internal/red"
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
			fmt.Fprintln(stdout, "roentgen", versionString())
			return 0
		case "daemon":
			return daemon.Main(args[1:], stdout, stderr, version)
		case "help":
			args = []string{"-h"}
		default:
			fmt.Fprintf(stderr, "roentgen: unknown command %q (commands: server, daemon, demo, version, traces, trace, graph, export, import; no command runs everything)\n", args[0])
			return 2
		}
		if role != app.RoleAll {
			args = args[1:]
		}
	}

	fs := flag.NewFlagSet("roentgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := app.Config{Role: role, Version: versionString()}
	fs.StringVar(&cfg.DataDir, "data-dir", app.DefaultDataDir(), "directory of the embedded store")
	fs.StringVar(&cfg.Store, "store", "", "shared store instead of the embedded one: clickhouse://host:8123/database?user=…&password=…&secure=1 (or an http(s):// URL); see docs/clickhouse.md")
	fs.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:2020", "address of the X-Ray API, console, /metrics and /health")
	fs.StringVar(&cfg.UDPAddr, "bind", "127.0.0.1:2000", "UDP address for segment datagrams (all-in-one only)")
	fs.StringVar(&cfg.UDPAddr, "b", "127.0.0.1:2000", "shorthand for --bind")
	fs.StringVar(&cfg.TCPAddr, "bind-tcp", "127.0.0.1:2000", "TCP address answering SDK sampling calls and any API path (all-in-one only)")
	fs.StringVar(&cfg.TCPAddr, "t", "127.0.0.1:2000", "shorthand for --bind-tcp")
	fs.StringVar(&cfg.OTLPGRPCAddr, "otlp-grpc", "127.0.0.1:4317", "address of the OTLP/gRPC trace receiver (empty disables it)")
	fs.StringVar(&cfg.OTLPHTTPAddr, "otlp-http", "127.0.0.1:4318", "address of the OTLP/HTTP trace receiver, path /v1/traces (empty disables it)")
	fs.StringVar(&cfg.OTLPIndexAttributes, "otlp-index-attributes", "*", "OTLP span attribute keys to index as annotations, comma-separated, or * for all (at most 50 per span)")
	cfg.Retention = 720 * time.Hour
	fs.Var(retentionValue{&cfg.Retention}, "retention", "how long traces are kept: days (30d) or a Go duration (720h); X-Ray keeps 30 days")
	fs.StringVar(&cfg.Region, "region", "us-east-1", "region named in the ARNs the API returns")
	fs.StringVar(&cfg.AccountID, "account-id", "000000000000", "account id named in the ARNs the API returns")
	fs.StringVar(&cfg.AccessKeysFile, "access-keys", "", "file of access keys, one `ACCESS_KEY_ID SECRET_ACCESS_KEY ROLE [PRINCIPAL_ARN]` a line (roles ingest, read, admin; the ARN names the key in resource policies); every request must then be SigV4-signed. Reloaded on SIGHUP")
	fs.StringVar(&cfg.OTLPTokensFile, "otlp-tokens", "", "file of OTLP bearer tokens, one a line (with --access-keys). Reloaded on SIGHUP")
	allowedHosts := fs.String("allowed-hosts", "", "comma-separated Host names served besides loopback names, IP addresses and the listeners' own names (DNS rebinding defence)")
	fs.BoolVar(&cfg.InsecureNoAuth, "insecure-no-auth", false, "serve non-loopback addresses without --access-keys (anyone who reaches them can do anything)")
	fs.BoolVar(&cfg.Pprof, "pprof", false, "serve Go's profiler at /debug/pprof on --http (admin only with keys)")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate for TLS on --http, OTLP and a non-loopback --bind-tcp (reloaded when the file changes)")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM private key of --tls-cert")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", app.DefaultReadTimeout, "longest time to read a whole request, body included")
	fs.IntVar(&cfg.REDSeriesLimit, "red-series-limit", red.DefaultLimit, "label sets of the per-service (and of the per-edge) RED series on /metrics; more go to __other__")
	fs.IntVar(&cfg.MaxConnections, "max-connections", app.DefaultMaxConnections, "connections served at once per TCP listener (-1: unlimited)")
	fs.Float64Var(&cfg.RateLimit, "rate-limit", 0, "requests a second per access key or OTLP token, bursts of twice that; 0 is unlimited (ThrottledException beyond)")
	defaultInsights := fs.Bool("insights", true, "detect insights (fault, error and throttle rate anomalies) on the Default group; other groups follow their InsightsConfiguration")
	fs.StringVar(&cfg.InsightsWebhook, "insights-webhook", "", "URL that receives a JSON POST when an insight opens or closes (groups with notifications on; Default's with --insights)")
	memory := fs.String("memory", "", "memory budget of the whole process, split among the store's memtables and cache, ingest's pending work and the Go heap (512MiB, 2GiB; default GOMEMLIMIT's, else 512MiB; docs/performance.md)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: roentgen [command] [flags]\n\n"+
			"Roentgen is a self-hosted AWS X-Ray: point X-Ray SDKs, the AWS CLI or OpenTelemetry at it.\n"+
			"With no command it runs everything in one process on the embedded store, bound to loopback:\n"+
			"segments over UDP (--bind), the X-Ray API on --http and on the daemon's TCP side (--bind-tcp).\n\n"+
			"Commands:\n  server    the X-Ray API (and console) alone\n  daemon    a drop-in for the AWS X-Ray daemon, uploading to Roentgen or AWS (roentgen daemon -h)\n  demo      everything, plus generated demo traffic\n  version   print the version\n\n"+
			"Terminal client (of this or any X-Ray API; roentgen <command> -h):\n  traces    list traces (--filter, --since)\n  trace ID  a trace's timeline\n  graph     services and their calls\n  export    write traces as BatchGetTraces JSON\n  import    send an export to a server\n\n"+
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
	// Flags may come before the command too: roentgen --data-dir X demo.
	if fs.NArg() > 0 && role == app.RoleAll && !withDemo {
		switch fs.Arg(0) {
		case "server":
			role = app.RoleServer
		case "demo":
			withDemo = true
		case "version":
			fmt.Fprintln(stdout, "roentgen", versionString())
			return 0
		}
		if role != app.RoleAll || withDemo {
			cfg.Role = role
			if err := fs.Parse(fs.Args()[1:]); err != nil {
				return 2
			}
		}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "roentgen: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if bad := udpFlagsSet(fs, role); bad != "" {
		fmt.Fprintf(stderr, "roentgen server: %s is not served by `roentgen server` (the API and console alone); "+
			"segments over UDP and the daemon's TCP side come with `roentgen` (no command) or `roentgen daemon`\n", bad)
		return 2
	}
	cfg.NoDefaultInsights = !*defaultInsights
	for _, h := range strings.Split(*allowedHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			cfg.AllowedHosts = append(cfg.AllowedHosts, h)
		}
	}
	var memTotal int64
	if *memory != "" {
		n, err := budget.ParseSize(*memory)
		if err != nil {
			fmt.Fprintf(stderr, "roentgen: --memory: %v\n", err)
			return 2
		}
		memTotal = n
	}
	cfg.Memory = budget.FromEnv(memTotal)
	cfg.Memory.Apply()
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

	cfg.Logger.Info("starting roentgen", "version", cfg.Version, "role", role, "data_dir", cfg.DataDir, "retention", cfg.Retention.String(),
		"memory_mib", cfg.Memory.Total>>20)
	// Signals are caught before the listeners open: a SIGHUP sent as soon as
	// they are up would otherwise kill the process (its default action).
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	a, err := app.Start(cfg)
	if err != nil {
		cfg.Logger.Error("cannot start: " + explainStartError(err, cfg.DataDir, map[string]string{"http": "--http", "tcp": "--bind-tcp", "udp": "--bind"}))
		return 1
	}
	if err := writePIDFile(cfg.DataDir); err != nil {
		cfg.Logger.Warn("pid file", "err", err)
	}
	defer removePIDFile(cfg.DataDir)
	announce(stdout, a, cfg)
	stopDemo := func() {}
	if withDemo {
		stopDemo = demo.Start(a.Addr("udp").String(), "http://"+a.Addr("http").String(), cfg.Logger)
	}
	s := <-sig
	for s == syscall.SIGHUP {
		if err := a.Reload(); err != nil {
			cfg.Logger.Error("reload on SIGHUP; the keys in use stay", "err", err)
		}
		s = <-sig
	}
	stopDemo()
	cfg.Logger.Info("stopping", "signal", s.String())
	if err := a.Stop(); err != nil {
		cfg.Logger.Error("stop", "err", err)
		return 1
	}
	cfg.Logger.Info("stopped; everything acknowledged is on disk", "data_dir", cfg.DataDir)
	return 0
}
