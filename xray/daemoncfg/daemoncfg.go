// Package daemoncfg resolves the daemon's UDP (segments) and TCP (sampling
// API) addresses from AWS_XRAY_DAEMON_ADDRESS or a configured string.
package daemoncfg

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// EnvVar names the daemon address variable; it overrides configuration.
const EnvVar = "AWS_XRAY_DAEMON_ADDRESS"

const defaultAddr = "127.0.0.1:2000"

// DaemonEndpoints are the daemon's two sides.
type DaemonEndpoints struct {
	UDPAddr *net.UDPAddr
	TCPAddr *net.TCPAddr
}

// GetDaemonEndpoints returns the endpoints from the environment, else the
// default 127.0.0.1:2000.
func GetDaemonEndpoints() *DaemonEndpoints {
	if d, err := GetDaemonEndpointsFromEnv(); err == nil && d != nil {
		return d
	}
	return GetDefaultDaemonEndpoints()
}

// GetDaemonEndpointsFromEnv parses AWS_XRAY_DAEMON_ADDRESS; (nil, nil) when
// it is unset.
func GetDaemonEndpointsFromEnv() (*DaemonEndpoints, error) {
	if v := os.Getenv(EnvVar); v != "" {
		return GetDaemonEndpointsFromString(v)
	}
	return nil, nil
}

// GetDefaultDaemonEndpoints is 127.0.0.1:2000 for both sides.
func GetDefaultDaemonEndpoints() *DaemonEndpoints {
	d, _ := resolve(defaultAddr, defaultAddr)
	return d
}

// GetDaemonEndpointsFromString parses "host:port" or
// "tcp:host:port udp:host:port" (either order). The environment variable, when
// set, wins over the argument, as in every X-Ray SDK. An empty string with no
// environment variable gives (nil, nil).
func GetDaemonEndpointsFromString(dAddr string) (*DaemonEndpoints, error) {
	if v := os.Getenv(EnvVar); v != "" {
		dAddr = v
	}
	if dAddr == "" {
		return nil, nil
	}
	return Parse(dAddr)
}

// Parse parses an address string without looking at the environment.
func Parse(dAddr string) (*DaemonEndpoints, error) {
	parts := strings.Fields(dAddr)
	switch len(parts) {
	case 1:
		return resolve(parts[0], parts[0])
	case 2:
		var udp, tcp string
		for _, p := range parts {
			switch {
			case strings.HasPrefix(p, "udp:"):
				udp = p[4:]
			case strings.HasPrefix(p, "tcp:"):
				tcp = p[4:]
			}
		}
		if udp == "" || tcp == "" {
			return nil, fmt.Errorf("daemoncfg: %q: want \"tcp:host:port udp:host:port\"", dAddr)
		}
		return resolve(udp, tcp)
	}
	return nil, fmt.Errorf("daemoncfg: %q: want \"host:port\" or \"tcp:host:port udp:host:port\"", dAddr)
}

func resolve(udp, tcp string) (*DaemonEndpoints, error) {
	u, err := net.ResolveUDPAddr("udp", udp)
	if err != nil {
		return nil, fmt.Errorf("daemoncfg: udp address %q: %w", udp, err)
	}
	t, err := net.ResolveTCPAddr("tcp", tcp)
	if err != nil {
		return nil, fmt.Errorf("daemoncfg: tcp address %q: %w", tcp, err)
	}
	return &DaemonEndpoints{UDPAddr: u, TCPAddr: t}, nil
}
