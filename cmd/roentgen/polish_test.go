package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 720 * time.Hour, "1d12h": 36 * time.Hour, "720h": 720 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := parseRetention(in); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "soon", "30days", "-1h", "d"} {
		if _, err := parseRetention(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// quiet are flags that keep a test's start on free loopback ports.
func quiet(dir string) []string {
	return []string{"--data-dir", dir, "--http", "127.0.0.1:0", "--bind", "127.0.0.1:0", "--bind-tcp", "127.0.0.1:0", "--otlp-grpc", "", "--otlp-http", ""}
}

func TestFlagsBeforeOrAfterCommand(t *testing.T) {
	dir := t.TempDir()
	// "extra" stops the start; what matters is that the command and
	// --retention 30d were understood, wherever they stood.
	for _, args := range [][]string{
		{"--data-dir", dir, "demo", "--retention", "30d", "extra"},
		{"demo", "--data-dir", dir, "--retention", "30d", "extra"},
		{"--retention", "30d", "server", "--data-dir", dir, "extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unexpected argument "extra"`) {
			t.Errorf("%v: exit %d, %q", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"--data-dir", dir, "version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "roentgen ") {
		t.Errorf("flags then version: exit %d %q %q", code, out.String(), errb.String())
	}
}

func TestServerRefusesUDPFlags(t *testing.T) {
	for _, args := range [][]string{{"server", "--bind", "0.0.0.0:2000"}, {"--bind-tcp", "127.0.0.1:2000", "server"}, {"server", "-b", "x"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "is not served by `roentgen server`") {
			t.Errorf("%v: exit %d, %q", args, code, errb.String())
		}
	}
}

// The second instance runs in a child process: the store's lock is a
// process's, so within one process a second open would succeed.
func TestSecondInstanceNamesTheFirst(t *testing.T) {
	dir := t.TempDir()
	xraytest.Start(t, xraytest.InDir(dir))
	if err := writePIDFile(dir); err != nil {
		t.Fatal(err)
	}
	code, stderr := runChild(t, quiet(dir)...)
	if want := fmt.Sprintf("in use by another roentgen (pid %d", os.Getpid()); code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q, want %q", code, stderr, want)
	}
	if strings.Contains(stderr, "resource temporarily unavailable") {
		t.Errorf("the raw errno leaks: %q", stderr)
	}
}

// runChild runs run(args) in a child process (this test binary, see
// TestHelperProcess), bounded in time, and returns its exit code and stderr.
func runChild(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "ROENTGEN_TEST_ARGS="+strings.Join(args, "\x1f"))
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), errb.String()
}

func TestHelperProcess(t *testing.T) {
	args, ok := os.LookupEnv("ROENTGEN_TEST_ARGS")
	if !ok {
		t.Skip("a child process of runChild")
	}
	os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
}

// With only the daemon's TCP address taken, the first error names it and
// the flag that moves it (OTLP on, so its gRPC server starts and stops).
func TestTakenAddressIsTheFirstError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for range 5 { // the gRPC server's stop raced its start
		args := append(quiet(t.TempDir()), "--bind-tcp", ln.Addr().String(), "--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0")
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 1 {
			t.Fatalf("exit %d", code)
		}
		var first string
		for _, l := range strings.Split(errb.String(), "\n") {
			if strings.Contains(l, "level=ERROR") {
				first = l
				break
			}
		}
		if !strings.Contains(first, ln.Addr().String()+" is already in use") || !strings.Contains(first, "--bind-tcp") {
			t.Fatalf("first error %q\n%s", first, errb.String())
		}
	}
}

func TestAnnounceConsole(t *testing.T) {
	s := xraytest.Start(t)
	var out, logs bytes.Buffer
	cfg := app.Config{Version: "v9", Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	announce(&out, s.App, cfg)
	if want := "console and X-Ray API at http://" + s.Addr("http").String() + "/"; !strings.Contains(out.String(), want) {
		t.Errorf("announced %q, want %q", out.String(), want)
	}
	// This checkout embeds the placeholder unless the UI was built.
	if _, err := os.Stat("../../internal/console/dist/ui/index.html"); err != nil && !strings.Contains(logs.String(), "built without the console") {
		t.Errorf("no warning about the missing console: %q", logs.String())
	}
	_ = io.Discard
}

// A binary built from this checkout without -ldflags names its revision
// (-buildvcs=true: this machine's GOFLAGS turn stamping off).
func TestVersionFromBuildInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	// Go stamps the revision only where .git is a directory, not in a
	// git worktree (where it is a file).
	if fi, err := os.Stat("../../.git"); err != nil || !fi.IsDir() {
		t.Skip("not a plain git checkout: go build stamps no revision here")
	}
	bin := filepath.Join(t.TempDir(), "roentgen")
	if b, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^roentgen (v\S+|dev-[0-9a-f]{12}(-dirty)?)\n$`).Match(b) {
		t.Errorf("version printed %q", b)
	}
}

func TestVersionFrom(t *testing.T) {
	for _, tc := range []struct {
		main     string
		settings map[string]string
		want     string
	}{
		{"v1.2.3", nil, "v1.2.3"},
		{"(devel)", map[string]string{"vcs.revision": "0123456789abcdef0123", "vcs.modified": "false"}, "dev-0123456789ab"},
		{"(devel)", map[string]string{"vcs.revision": "0123456789abcdef0123", "vcs.modified": "true"}, "dev-0123456789ab-dirty"},
		{"(devel)", nil, "dev"},
	} {
		info := &debug.BuildInfo{Main: debug.Module{Version: tc.main}}
		for k, v := range tc.settings {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: k, Value: v})
		}
		if got := versionFrom(info); got != tc.want {
			t.Errorf("%s %v: %q, want %q", tc.main, tc.settings, got, tc.want)
		}
	}
}
