package daemon

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cfg.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func noEnv(string) string { return "" }

// The official daemon's shipped cfg.yaml (version 2) and a version 1 file
// load; flags override the file.
func TestConfigFileAndFlags(t *testing.T) {
	v2 := writeFile(t, `TotalBufferSizeMB: 24
Concurrency: 3
Region: "eu-west-1"
Endpoint: "http://roentgen:2020"
Socket:
  UDPAddress: "0.0.0.0:2000"
  TCPAddress: "0.0.0.0:2001"
Logging:
  LogRotation: false
  LogLevel: "warn"
  LogPath: "/var/log/xray.log"
LocalMode: true
ResourceARN: "arn:aws:ec2:eu-west-1:1:instance/i-1"
RoleARN: ""
NoVerifySSL: false
ProxyAddress: ""
Version: 2
`)
	cfg, err := ParseArgs([]string{"-c", v2, "-n", "us-west-2", "--bind=127.0.0.1:3000"}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BufferMemoryMB != 24 || cfg.Concurrency != 3 || cfg.Region != "us-west-2" || cfg.Endpoint != "http://roentgen:2020" ||
		cfg.UDPAddr != "127.0.0.1:3000" || cfg.TCPAddr != "0.0.0.0:2001" || cfg.LogRotation || cfg.LogLevel != "warn" ||
		cfg.LogFile != "/var/log/xray.log" || !cfg.LocalMode || cfg.ResourceARN != "arn:aws:ec2:eu-west-1:1:instance/i-1" {
		t.Errorf("config = %+v", cfg)
	}

	v1 := writeFile(t, "Version: 1\nRegion: ap-south-1\nSocket:\n  UDPAddress: \"\"\n")
	cfg, err = ParseArgs([]string{"--config=" + v1}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "ap-south-1" || cfg.UDPAddr != DefaultAddr || cfg.Concurrency != DefaultConcurrency || !cfg.LogRotation {
		t.Errorf("version 1 config = %+v", cfg)
	}
}

func TestConfigFileRefusals(t *testing.T) {
	for body, want := range map[string]string{
		"Region: x\n":  "Version is missing",
		"Version: 3\n": "Version 3 is not supported",
		"Version: 2\nSocket:\n  BufferSizeKB: 64\n": "Socket.BufferSizeKB is not supported any more",
		"Version: 2\nMemoryLimit: 10\n":             "migration script",
		"Version: 2\nRegoin: us-east-1\n":           "Regoin is not a cfg.yaml key",
		"Version: 2\nConcurrency: many\n":           "cannot unmarshal",
	} {
		_, err := ParseArgs([]string{"-c", writeFile(t, body)}, noEnv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", body, err, want)
		}
	}
	if _, err := ParseArgs([]string{"-c", "/nonexistent/cfg.yaml"}, noEnv, io.Discard); err == nil {
		t.Error("a missing -c file was accepted")
	}
}

func TestAddressEnvAndFlags(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "AWS_XRAY_DAEMON_ADDRESS" {
				return v
			}
			return ""
		}
	}
	cfg, err := ParseArgs(nil, env("0.0.0.0:2500"), io.Discard)
	if err != nil || cfg.UDPAddr != "0.0.0.0:2500" || cfg.TCPAddr != "0.0.0.0:2500" {
		t.Errorf("host:port form: %+v %v", cfg, err)
	}
	cfg, err = ParseArgs(nil, env("udp:10.0.0.1:2000 tcp:10.0.0.1:2001"), io.Discard)
	if err != nil || cfg.UDPAddr != "10.0.0.1:2000" || cfg.TCPAddr != "10.0.0.1:2001" {
		t.Errorf("two-part form: %+v %v", cfg, err)
	}
	cfg, err = ParseArgs([]string{"-b", "127.0.0.1:9"}, env("0.0.0.0:2500"), io.Discard)
	if err != nil || cfg.UDPAddr != "127.0.0.1:9" || cfg.TCPAddr != "0.0.0.0:2500" {
		t.Errorf("a flag overrides the environment: %+v %v", cfg, err)
	}
	if _, err := ParseArgs(nil, env("udp:1.2.3.4:5"), io.Discard); err == nil {
		t.Error("an address with only udp: was accepted")
	}

	cfg, err = ParseArgs([]string{"-o", "-m", "8", "-r", "arn:aws:iam::1:role/x", "-a", "arn:r", "-p", "http://proxy:3128",
		"-e", "http://r:2020", "-l", "debug", "-f", "/tmp/x.log", "-t", "127.0.0.1:7",
		"--spool-dir", "/var/spool/rd", "--spool-size", "256MB", "--shutdown-timeout", "9s", "--metrics", "127.0.0.1:2021"}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.LocalMode || cfg.BufferMemoryMB != 8 || cfg.RoleARN != "arn:aws:iam::1:role/x" || cfg.ResourceARN != "arn:r" ||
		cfg.ProxyAddress != "http://proxy:3128" || cfg.Endpoint != "http://r:2020" || cfg.LogLevel != "debug" || cfg.LogFile != "/tmp/x.log" ||
		cfg.TCPAddr != "127.0.0.1:7" || cfg.SpoolDir != "/var/spool/rd" || cfg.SpoolSize != 256<<20 || cfg.ShutdownTimeout != 9*time.Second ||
		cfg.MetricsAddr != "127.0.0.1:2021" {
		t.Errorf("flags = %+v", cfg)
	}
	if _, err := ParseArgs([]string{"--version"}, noEnv, io.Discard); !errors.Is(err, ErrVersion) {
		t.Errorf("--version: %v", err)
	}
	if _, err := ParseArgs([]string{"-h"}, noEnv, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	for _, bad := range [][]string{{"-l", "loud"}, {"--spool-size", "lots"}, {"--shutdown-timeout", "0s"}, {"extra"}} {
		if _, err := ParseArgs(bad, noEnv, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestBufferMemory(t *testing.T) {
	c := Config{BufferMemoryMB: 2}
	if _, err := c.bufferBytes(); err == nil {
		t.Error("2 MB accepted; the minimum is 3")
	}
	c.BufferMemoryMB = 0
	if n, err := c.bufferBytes(); err != nil || n < 3<<20 {
		t.Errorf("1%% of RAM: %d %v", n, err)
	}
}
