package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/console"
)

// retentionValue is --retention: a Go duration (720h) or whole days (30d),
// as people write retention.
type retentionValue struct{ d *time.Duration }

var daysRE = regexp.MustCompile(`^(\d+)d(.*)$`)

func (v retentionValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v retentionValue) Set(s string) error {
	d, err := parseRetention(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

// parseRetention reads "30d", "1d12h" or any Go duration.
func parseRetention(s string) (time.Duration, error) {
	var d time.Duration
	rest := s
	if m := daysRE.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 100*365 {
			return 0, fmt.Errorf("%q: too many days", s)
		}
		d, rest = time.Duration(n)*24*time.Hour, m[2]
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q is neither days (30d) nor a Go duration (720h)", s)
		}
		d += r
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: retention must be positive", s)
	}
	return d, nil
}

// versionString is the version set by -ldflags, else the module version
// or the VCS revision Go stamps into binaries built from a checkout.
func versionString() string {
	if version != "dev" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	return versionFrom(info)
}

func versionFrom(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "dev-" + rev + dirty
}

// pidFile sits beside the store's lock, so that a second instance on the
// same data dir can name the process that holds it.
const pidFile = "roentgen.pid"

func writePIDFile(dir string) error {
	return os.WriteFile(filepath.Join(dir, pidFile), []byte(fmt.Sprintf("%d %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))), 0o644)
}

func removePIDFile(dir string) { _ = os.Remove(filepath.Join(dir, pidFile)) }

// explainStartError turns the two start failures people meet first into
// sentences that say what to do: a data dir held by another process, and
// an address already taken.
func explainStartError(err error, dataDir string, flagOf map[string]string) string {
	if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN) || strings.Contains(err.Error(), "resource temporarily unavailable") {
		who := "another process"
		if b, rerr := os.ReadFile(filepath.Join(dataDir, pidFile)); rerr == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				who = "another roentgen (pid " + f[0]
				if len(f) > 1 {
					who += ", started " + f[1]
				}
				who += ")"
			}
		}
		return fmt.Sprintf("the data dir %s is in use by %s; stop it, or give this one another --data-dir", dataDir, who)
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		// app names the listener first: "tcp 127.0.0.1:2000: listen ...".
		name, addr, _ := strings.Cut(err.Error(), " ")
		addr, _, _ = strings.Cut(addr, ":"+" ")
		addr = strings.TrimSuffix(addr, ":")
		if f := flagOf[name]; f != "" {
			return fmt.Sprintf("%s is already in use (%s; another roentgen or the AWS X-Ray daemon?): free it or choose another address with %s", addr, name, f)
		}
		return fmt.Sprintf("an address is already in use: %v", err)
	}
	return err.Error()
}

// udpFlagsSet names a UDP/TCP-side flag given to `roentgen server`, which
// has no such listeners, so that it is refused rather than ignored.
func udpFlagsSet(fs *flag.FlagSet, role string) string {
	if role != app.RoleServer {
		return ""
	}
	bad := ""
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "bind", "b", "bind-tcp", "t":
			if bad == "" {
				bad = "--" + f.Name
			}
		}
	})
	return bad
}

// announce tells a person where the console is, and warns when this
// binary carries only the placeholder page instead of it.
func announce(w io.Writer, a *app.App, cfg app.Config) {
	addr := a.Addr("http").String()
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			addr = net.JoinHostPort("localhost", port)
		}
	}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(w, "Roentgen %s is running: console and X-Ray API at %s://%s/\n", cfg.Version, scheme, addr)
	if !console.New(nil, nil).Built() {
		cfg.Logger.Warn("this binary was built without the console: its URL shows how to build it (make build, or scripts/build-ui.sh before go build)")
	}
}
