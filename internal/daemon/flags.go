package daemon

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrVersion is returned by ParseArgs for -v/--version: print the version
// and exit.
var ErrVersion = errors.New("version requested")

// ParseArgs builds the configuration as the official daemon does: built-in
// defaults, then the cfg.yaml (-c, else the first of /etc/amazon/xray/cfg.yaml
// and ./cfg.yaml that exists), then AWS_XRAY_DAEMON_ADDRESS, then flags.
// Help and errors are written to out; -h returns flag.ErrHelp.
func ParseArgs(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	cfg := Default()
	path := configArg(args)
	if path == "" {
		for _, p := range configLocations {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	if path != "" {
		if err := cfg.LoadFile(path); err != nil {
			return cfg, err
		}
	}
	if err := cfg.applyAddressEnv(getenv("AWS_XRAY_DAEMON_ADDRESS")); err != nil {
		return cfg, err
	}

	fs := flag.NewFlagSet("roentgen daemon", flag.ContinueOnError)
	fs.SetOutput(out)
	var usage []string
	str := func(p *string, long, short, help string) {
		fs.StringVar(p, long, *p, help)
		if short != "" {
			fs.StringVar(p, short, *p, help)
		}
		usage = append(usage, usageLine(long, short, help, *p))
	}
	str(&cfg.ResourceARN, "resource-arn", "a", "ARN of the AWS resource running the daemon (sent in telemetry)")
	fs.BoolVar(&cfg.LocalMode, "local-mode", cfg.LocalMode, "don't read EC2/ECS instance metadata")
	fs.BoolVar(&cfg.LocalMode, "o", cfg.LocalMode, "don't read EC2/ECS instance metadata")
	usage = append(usage, usageLine("local-mode", "o", "don't read EC2/ECS instance metadata", ""))
	fs.IntVar(&cfg.BufferMemoryMB, "buffer-memory", cfg.BufferMemoryMB, "memory for batches awaiting upload, in MB (minimum 3; 0 = 1% of RAM)")
	fs.IntVar(&cfg.BufferMemoryMB, "m", cfg.BufferMemoryMB, "memory for batches awaiting upload, in MB (minimum 3; 0 = 1% of RAM)")
	usage = append(usage, usageLine("buffer-memory", "m", "memory for batches awaiting upload, in MB (minimum 3; 0 = 1% of RAM)", fmt.Sprint(cfg.BufferMemoryMB)))
	str(&cfg.Region, "region", "n", "region to send segments to (also signs requests)")
	str(&cfg.UDPAddr, "bind", "b", "UDP address for segment datagrams")
	str(&cfg.TCPAddr, "bind-tcp", "t", "TCP address of the signing proxy for SDK sampling calls (empty disables it)")
	str(&cfg.RoleARN, "role-arn", "r", "IAM role to assume (STS) for uploads")
	var ignored string
	str(&ignored, "config", "c", "cfg.yaml to load (read before the other flags)")
	str(&cfg.LogFile, "log-file", "f", "write logs to this file instead of stderr")
	str(&cfg.LogLevel, "log-level", "l", "dev, debug, info, warn, error or prod")
	str(&cfg.ProxyAddress, "proxy-address", "p", "HTTP proxy for upstream calls (else HTTPS_PROXY)")
	str(&cfg.Endpoint, "endpoint", "e", "X-Ray API to upload to, e.g. http://roentgen:2020 (default: AWS X-Ray in the region)")
	version := false
	fs.BoolVar(&version, "version", false, "print the version and exit")
	fs.BoolVar(&version, "v", false, "print the version and exit")
	usage = append(usage, usageLine("version", "v", "print the version and exit", ""))
	str(&cfg.SpoolDir, "spool-dir", "", "directory of the on-disk spool for batches the upstream could not take (empty: memory only)")
	spool := byteSize(cfg.SpoolSize)
	fs.Var(&spool, "spool-size", "largest size of the spool; the oldest batches are dropped beyond it (e.g. 512MB, 2GB)")
	usage = append(usage, usageLine("spool-size", "", "largest size of the spool; the oldest batches are dropped beyond it", spool.String()))
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "on SIGTERM, how long to upload or spool what is held before exiting")
	usage = append(usage, usageLine("shutdown-timeout", "", "on SIGTERM, how long to upload or spool what is held", cfg.ShutdownTimeout.String()))
	str(&cfg.MetricsAddr, "metrics", "", "address serving /metrics and /health (empty disables; keep it on loopback)")
	fs.Usage = func() {
		fmt.Fprintln(out, "Usage: roentgen daemon [flags]\n\n"+
			"A drop-in for the AWS X-Ray daemon: takes segments over UDP, uploads them with PutTraceSegments\n"+
			"to Roentgen (-e http://host:2020) or AWS X-Ray, and signs SDK sampling calls on its TCP side.\n\nFlags:")
		for _, u := range usage {
			fmt.Fprintln(out, u)
		}
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if version {
		return cfg, ErrVersion
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if _, err := slogLevel(cfg.LogLevel); err != nil {
		return cfg, err
	}
	cfg.SpoolSize = int64(spool)
	if cfg.ShutdownTimeout <= 0 {
		return cfg, errors.New("--shutdown-timeout must be positive")
	}
	return cfg, nil
}

func usageLine(long, short, help, def string) string {
	name := "    --" + long
	if short != "" {
		name = "-" + short + ", --" + long
	}
	if def != "" && def != "0" {
		help += " (default " + def + ")"
	}
	return fmt.Sprintf("  %-22s %s", name, help)
}

// configArg finds -c/--config before the flags are defined, because the
// file's values are the other flags' defaults.
func configArg(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "c" && name != "config") {
			continue
		}
		if hasVal {
			return val
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// byteSize is a flag value like 512MB, 2GB or a plain byte count.
type byteSize int64

func (b *byteSize) String() string {
	v := int64(*b)
	for _, u := range []struct {
		s string
		n int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}} {
		if v >= u.n && v%u.n == 0 {
			return fmt.Sprintf("%d%s", v/u.n, u.s)
		}
	}
	return fmt.Sprint(v)
}

func (b *byteSize) Set(s string) error {
	s = strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		s string
		n int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.s) {
			s, mult = strings.TrimSuffix(s, u.s), u.n
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		return fmt.Errorf("%q is not a size like 512MB or 2GB", s)
	}
	*b = byteSize(n * mult)
	return nil
}
