package auth

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// HostCheck refuses requests whose Host header is not a name the server
// answers to. A page on an attacker's domain that re-points its DNS name at
// 127.0.0.1 (DNS rebinding) reaches the server as same-origin to the
// browser, but its requests still carry the attacker's name in Host.
//
// Allowed: loopback names (localhost, *.localhost), any IP literal (a
// browser sends one only to the address it connected to, so it cannot be a
// rebound name), and the configured names.
type HostCheck struct {
	names map[string]bool
}

// NewHostCheck allows the given names (ports ignored, case-insensitive).
func NewHostCheck(names []string) *HostCheck {
	h := &HostCheck{names: map[string]bool{}}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if host, _, err := net.SplitHostPort(n); err == nil {
			n = host
		}
		h.names[strings.ToLower(strings.TrimSuffix(n, "."))] = true
	}
	return h
}

// Allowed reports whether a Host header value is one the server answers to.
func (h *HostCheck) Allowed(hostport string) bool {
	host := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		host = hh
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	return h.names[host]
}

// Wrap refuses requests with a foreign Host with 421 Misdirected Request.
func (h *HostCheck) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.Allowed(r.Host) {
			WriteError(w, &Error{http.StatusMisdirectedRequest, "InvalidRequestException",
				fmt.Sprintf("Host %q is not a name this server answers to; add it to --allowed-hosts", r.Host)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// IsLoopback reports whether a listen address binds loopback only: a
// loopback IP or "localhost". An empty host (all interfaces) or any other
// name is not.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// HostOf is the host part of a listen address, "" when it binds every
// interface.
func HostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return ""
	}
	return host
}
