package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestHelpListsEveryFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, &out, &errb); code != 0 {
		t.Fatalf("--help exited %d", code)
	}
	help := errb.String()
	for _, want := range []string{"-data-dir", "-http", "127.0.0.1:2020", "-bind ", "-b ", "-bind-tcp", "-t ", "127.0.0.1:2000", "-retention", "720h", "AWS_XRAY_DAEMON_ADDRESS", "--endpoint-url"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
	errb.Reset()
	if code := run([]string{"help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "-data-dir") {
		t.Errorf("help command: %d", code)
	}
}

func TestBadArgumentsExit2(t *testing.T) {
	for _, args := range [][]string{{"--no-such-flag"}, {"frobnicate"}, {"--retention", "soon"}, {"--log-level", "loud"}, {"--http", "127.0.0.1:0", "extra"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "roentgen ") {
		t.Errorf("version: %d %q", code, out.String())
	}
}

// Listening beyond loopback without access keys is refused at start, naming
// the flag that fixes it.
func TestExposedWithoutKeysExits(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"--http", "0.0.0.0:2020", "--data-dir", t.TempDir(), "--bind", "127.0.0.1:0", "--bind-tcp", "127.0.0.1:0", "--otlp-grpc", "", "--otlp-http", ""}, &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "--access-keys") || !strings.Contains(errb.String(), "--http 0.0.0.0:2020") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"--help"}, &out, &errb); code != 0 {
		t.Fatal(code)
	}
	for _, f := range []string{"-access-keys", "-otlp-tokens", "-allowed-hosts", "-insecure-no-auth", "-pprof", "-tls-cert", "-tls-key", "-read-timeout", "-max-connections", "-rate-limit"} {
		if !strings.Contains(errb.String(), f) {
			t.Errorf("--help does not list %s", f)
		}
	}
}

func TestDaemonCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"daemon", "--version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "AWS X-Ray daemon version: ") {
		t.Errorf("daemon --version: %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"daemon", "-h"}, &out, &errb); code != 0 {
		t.Errorf("daemon -h: %d", code)
	}
	for _, want := range []string{"--bind", "--bind-tcp", "--config", "--role-arn", "--region", "--local-mode", "--endpoint",
		"--buffer-memory", "--log-level", "--log-file", "--resource-arn", "--proxy-address", "--version", "--spool-dir", "--spool-size", "--shutdown-timeout"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("daemon -h does not mention %s", want)
		}
	}
	errb.Reset()
	if code := run([]string{"daemon", "--no-such-flag"}, &out, &errb); code != 2 {
		t.Errorf("daemon --no-such-flag: exit %d", code)
	}
}
