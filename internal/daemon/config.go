// Package daemon is `roentgen daemon`: a drop-in for the AWS X-Ray daemon.
// SDKs send it segment documents over UDP and call its TCP side for
// sampling; it batches the documents into PutTraceSegments calls to
// Roentgen or to AWS X-Ray, signs the SDKs' sampling calls, reports its
// own health with PutTelemetryRecords, and keeps what it cannot upload in a
// bounded spool (on disk with --spool-dir) until the upstream is back.
package daemon

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is everything the daemon needs; ParseArgs fills it from the
// official daemon's flags, its cfg.yaml and the environment.
type Config struct {
	UDPAddr string // -b, Socket.UDPAddress
	TCPAddr string // -t, Socket.TCPAddress; "" disables the sampling proxy

	Region       string // -n, Region
	Endpoint     string // -e, Endpoint: upstream X-Ray API base URL
	RoleARN      string // -r, RoleARN: assumed with STS for uploads
	ResourceARN  string // -a, ResourceARN: named in telemetry
	ProxyAddress string // -p, ProxyAddress: HTTP(S) proxy for upstream calls
	LocalMode    bool   // -o, LocalMode: no EC2/ECS metadata lookups
	NoVerifySSL  bool   // NoVerifySSL

	BufferMemoryMB int // -m, TotalBufferSizeMB; 0 = 1% of RAM; minimum 3
	Concurrency    int // Concurrency: parallel PutTraceSegments calls

	LogLevel    string // -l, Logging.LogLevel: dev, debug, info, warn, error, prod
	LogFile     string // -f, Logging.LogPath; "" = stderr
	LogRotation bool   // Logging.LogRotation: rotate the log file at 50 MB

	SpoolDir        string        // --spool-dir; "" keeps unsent batches in memory only
	SpoolSize       int64         // --spool-size in bytes
	ShutdownTimeout time.Duration // --shutdown-timeout
	MetricsAddr     string        // --metrics: /metrics and /health; "" disables

	Version string
	Logger  *slog.Logger

	// Tuning that tests shorten; zero values take the defaults.
	BatchWait         time.Duration // a batch waits at most this long for more documents
	TelemetryInterval time.Duration // how often a telemetry record is cut (the daemon's 60 s)
	RetryBase         time.Duration // first backoff between upload attempts
	RetryMax          time.Duration // longest backoff (also between probes of a down upstream)
	RequestTimeout    time.Duration // one PutTraceSegments call
}

// Defaults of the official daemon (its cfg.yaml) and of what Roentgen adds.
const (
	DefaultAddr            = "127.0.0.1:2000"
	DefaultConcurrency     = 8
	DefaultSpoolSize       = 1 << 30
	DefaultShutdownTimeout = 5 * time.Second
	minBufferMemoryMB      = 3
)

// Default is the configuration with no file, flags or environment.
func Default() Config {
	return Config{
		UDPAddr: DefaultAddr, TCPAddr: DefaultAddr, Concurrency: DefaultConcurrency,
		LogLevel: "prod", LogRotation: true, SpoolSize: DefaultSpoolSize, ShutdownTimeout: DefaultShutdownTimeout,
	}
}

// configLocations are searched, in order, when -c is not given (as the
// official daemon does).
var configLocations = []string{"/etc/amazon/xray/cfg.yaml", "cfg.yaml"}

// fileConfig is cfg.yaml, versions 1 and 2 (they share their keys; version
// 1 files older than the migration script's are refused below).
type fileConfig struct {
	TotalBufferSizeMB int    `yaml:"TotalBufferSizeMB"`
	Concurrency       int    `yaml:"Concurrency"`
	Endpoint          string `yaml:"Endpoint"`
	Region            string `yaml:"Region"`
	Socket            struct {
		UDPAddress string `yaml:"UDPAddress"`
		TCPAddress string `yaml:"TCPAddress"`
	} `yaml:"Socket"`
	ProxyServer struct {
		IdleConnTimeout     int `yaml:"IdleConnTimeout"`
		MaxIdleConnsPerHost int `yaml:"MaxIdleConnsPerHost"`
		MaxIdleConns        int `yaml:"MaxIdleConns"`
	} `yaml:"ProxyServer"`
	Logging struct {
		LogRotation *bool  `yaml:"LogRotation"`
		LogLevel    string `yaml:"LogLevel"`
		LogPath     string `yaml:"LogPath"`
	} `yaml:"Logging"`
	LocalMode    *bool  `yaml:"LocalMode"`
	ResourceARN  string `yaml:"ResourceARN"`
	RoleARN      string `yaml:"RoleARN"`
	NoVerifySSL  *bool  `yaml:"NoVerifySSL"`
	ProxyAddress string `yaml:"ProxyAddress"`
	Version      int    `yaml:"Version"`
}

var validKeys = map[string]bool{
	"TotalBufferSizeMB": true, "Concurrency": true, "Endpoint": true, "Region": true,
	"Socket.UDPAddress": true, "Socket.TCPAddress": true,
	"ProxyServer.IdleConnTimeout": true, "ProxyServer.MaxIdleConnsPerHost": true, "ProxyServer.MaxIdleConns": true,
	"Logging.LogRotation": true, "Logging.LogLevel": true, "Logging.LogPath": true,
	"LocalMode": true, "ResourceARN": true, "RoleARN": true, "NoVerifySSL": true, "ProxyAddress": true, "Version": true,
}

// Keys the official daemon names when it refuses them.
var (
	removedKeys  = map[string]bool{"Profile.CPU": true, "Profile.Memory": true, "Socket.BufferSizeKB": true, "Logging.LogFormat": true, "Processor.BatchProcessorQueueSize": true}
	migrateKeys  = map[string]bool{"LogRotation": true, "Processor.Region": true, "Processor.Endpoint": true, "Processor.Routine": true, "MemoryLimit": true}
	errNoVersion = errors.New("config Version is missing: update the file with the X-Ray daemon's config migration script")
)

// LoadFile applies the cfg.yaml at path over c. Like the official daemon it
// refuses a file without Version 1 or 2 and any key it does not know;
// empty and zero values keep the defaults.
func (c *Config) LoadFile(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := c.load(raw); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func (c *Config) load(raw []byte) error {
	if err := checkKeys(raw); err != nil {
		return err
	}
	var f fileConfig
	if err := yaml.Unmarshal(raw, &f); err != nil {
		return err
	}
	if f.Version != 1 && f.Version != 2 {
		return fmt.Errorf("config Version %d is not supported (1 or 2): update the file with the X-Ray daemon's config migration script", f.Version)
	}
	setS := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setB := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	if f.TotalBufferSizeMB != 0 {
		c.BufferMemoryMB = f.TotalBufferSizeMB
	}
	if f.Concurrency != 0 {
		c.Concurrency = f.Concurrency
	}
	setS(&c.Endpoint, f.Endpoint)
	setS(&c.Region, f.Region)
	setS(&c.UDPAddr, f.Socket.UDPAddress)
	setS(&c.TCPAddr, f.Socket.TCPAddress)
	setB(&c.LogRotation, f.Logging.LogRotation)
	setS(&c.LogLevel, f.Logging.LogLevel)
	setS(&c.LogFile, f.Logging.LogPath)
	setB(&c.LocalMode, f.LocalMode)
	setS(&c.ResourceARN, f.ResourceARN)
	setS(&c.RoleARN, f.RoleARN)
	setB(&c.NoVerifySSL, f.NoVerifySSL)
	setS(&c.ProxyAddress, f.ProxyAddress)
	return nil
}

// checkKeys lists the file's keys (nested ones as Parent.Child) and refuses
// unknown ones with the official daemon's reasons.
func checkKeys(raw []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return errNoVersion
	}
	var keys []string
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i].Value, top.Content[i+1]
		if v.Kind != yaml.MappingNode {
			keys = append(keys, k)
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			keys = append(keys, k+"."+v.Content[j].Value)
		}
	}
	hasVersion := false
	for _, k := range keys {
		hasVersion = hasVersion || k == "Version"
	}
	if !hasVersion {
		return errNoVersion
	}
	for _, k := range keys {
		switch {
		case validKeys[k]:
		case removedKeys[k]:
			return fmt.Errorf("%s is not supported any more", k)
		case migrateKeys[k]:
			return fmt.Errorf("%s is not supported: update the file with the X-Ray daemon's config migration script", k)
		default:
			return fmt.Errorf("%s is not a cfg.yaml key", k)
		}
	}
	return nil
}

// applyAddressEnv applies AWS_XRAY_DAEMON_ADDRESS, in either of the SDKs'
// forms: "host:port" for both sides, or "tcp:host:port udp:host:port".
func (c *Config) applyAddressEnv(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	parts := strings.Fields(v)
	if len(parts) == 1 && !strings.HasPrefix(parts[0], "tcp:") && !strings.HasPrefix(parts[0], "udp:") {
		c.UDPAddr, c.TCPAddr = parts[0], parts[0]
		return nil
	}
	var udp, tcp string
	for _, p := range parts {
		switch {
		case strings.HasPrefix(p, "udp:"):
			udp = p[4:]
		case strings.HasPrefix(p, "tcp:"):
			tcp = p[4:]
		}
	}
	if len(parts) != 2 || udp == "" || tcp == "" {
		return fmt.Errorf("AWS_XRAY_DAEMON_ADDRESS %q: want host:port or \"tcp:host:port udp:host:port\"", v)
	}
	c.UDPAddr, c.TCPAddr = udp, tcp
	return nil
}

// bufferBytes is the memory budget: -m, or 1% of the machine's memory as
// the official daemon takes when it is 0.
func (c *Config) bufferBytes() (int64, error) {
	mb := c.BufferMemoryMB
	if mb <= 0 {
		mb = int(totalMemory() / 100 >> 20)
	}
	if mb < minBufferMemoryMB {
		return 0, fmt.Errorf("buffer memory %d MB is below the minimum of %d MB", mb, minBufferMemoryMB)
	}
	return int64(mb) << 20, nil
}

// totalMemory reads MemTotal from /proc/meminfo; 1 GiB where there is none.
func totalMemory() int64 {
	raw, err := os.ReadFile("/proc/meminfo")
	if err == nil {
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 1 << 30
}

// slogLevel maps the daemon's levels; "prod" (its default) is info.
func slogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "dev", "debug":
		return slog.LevelDebug, nil
	case "info", "prod", "":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q: want dev, debug, info, warn, error or prod", s)
}

func (c *Config) withDefaults() {
	d := Default()
	if c.Concurrency <= 0 {
		c.Concurrency = d.Concurrency
	}
	if c.SpoolSize <= 0 {
		c.SpoolSize = d.SpoolSize
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = d.ShutdownTimeout
	}
	if c.BatchWait <= 0 {
		// The official daemon's idle flush: at low rates, fuller batches
		// mean fewer requests and wake-ups; no document waits longer.
		c.BatchWait = time.Second
	}
	if c.TelemetryInterval <= 0 {
		c.TelemetryInterval = time.Minute
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 100 * time.Millisecond
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 5 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}
