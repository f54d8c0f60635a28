package translate

import (
	"net/url"
	"strconv"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// makeHTTP reads HTTP attributes of both the old (≤ v1.20) and the current
// (stable HTTP) semantic conventions.
func makeHTTP(a *attrs, kind ptrace.SpanKind) *segment.HTTP {
	if !isHTTP(a) {
		return nil // leave net/server attributes of other protocols alone
	}
	var req segment.HTTPRequest
	var resp segment.HTTPResponse
	req.Method = a.str("http.request.method", "http.method")
	if st, ok := a.int("http.response.status_code", "http.status_code"); ok {
		resp.Status = int(st)
	}
	if n, ok := a.int("http.response.body.size", "http.response_content_length", "http.response_content_length_uncompressed"); ok {
		resp.ContentLength = n
	}
	req.UserAgent = a.str("user_agent.original", "http.user_agent")
	if ip := a.str("http.client_ip"); ip != "" {
		req.ClientIP, req.XForwardedFor = ip, true
	} else if ip := a.str("client.address"); ip != "" {
		// client.address is the original client, behind proxies when
		// network.peer.address differs.
		req.ClientIP = ip
		if peer := a.peek("network.peer.address"); peer != "" && peer != ip {
			req.XForwardedFor = true
		}
	} else if kind == ptrace.SpanKindServer {
		req.ClientIP = a.str("network.peer.address", "net.sock.peer.addr", "net.peer.ip")
	}
	req.URL = httpURL(a, kind)
	if req.Method == "" && req.URL == "" && resp.Status == 0 {
		return nil
	}
	// Copies, so that req and resp stay off the heap for spans without HTTP.
	h := &segment.HTTP{}
	if req != (segment.HTTPRequest{}) {
		r := req
		h.Request = &r
	}
	if resp != (segment.HTTPResponse{}) {
		r := resp
		h.Response = &r
	}
	return h
}

// httpURL is url.full / http.url, or the URL rebuilt from its parts.
func httpURL(a *attrs, kind ptrace.SpanKind) string {
	if u := a.str("url.full", "http.url"); u != "" {
		return u
	}
	scheme := a.str("url.scheme", "http.scheme")
	var host, port string
	target := a.str("http.target")
	if target == "" {
		if p := a.str("url.path"); p != "" {
			target = p
			if q := a.str("url.query"); q != "" {
				target += "?" + q
			}
		}
	}
	if kind == ptrace.SpanKindServer {
		host = a.str("http.host", "server.address", "net.host.name", "http.server_name")
		port = a.str("server.port", "net.host.port")
	} else {
		host = a.str("server.address", "net.peer.name", "http.host", "network.peer.address", "net.peer.ip")
		port = a.str("server.port", "net.peer.port")
	}
	if host == "" {
		return target // a path alone still says what was called
	}
	if scheme == "" {
		scheme = "http"
	}
	if port != "" && !defaultPort(scheme, port) && !hasPort(host) {
		host += ":" + port
	}
	return scheme + "://" + host + target
}

func defaultPort(scheme, port string) bool {
	return (scheme == "http" && port == "80") || (scheme == "https" && port == "443")
}

func hasPort(host string) bool {
	u, err := url.Parse("//" + host)
	return err == nil && u.Port() != ""
}

// remoteHost names a client span's downstream when nothing better does.
func remoteHost(a *attrs) string {
	if h := a.peek("server.address"); h != "" {
		return h
	}
	if h := a.peek("net.peer.name"); h != "" {
		return h
	}
	if h := a.peek("http.host"); h != "" {
		return h
	}
	for _, k := range []string{"url.full", "http.url"} {
		if s := a.peek(k); s != "" { // url.Parse("") would allocate an empty URL
			if u, err := url.Parse(s); err == nil && u.Hostname() != "" {
				return u.Hostname()
			}
		}
	}
	return ""
}

// httpStatus reads a status without consuming the attribute.
func httpStatus(a *attrs) int64 {
	for _, k := range []string{"http.response.status_code", "http.status_code"} {
		if v, ok := a.m.Get(k); ok {
			if v.Type() == pcommon.ValueTypeInt {
				return v.Int() // as below, without formatting it first
			}
			if n, err := strconv.ParseInt(v.AsString(), 10, 64); err == nil {
				return n
			}
		}
	}
	return 0
}

// isHTTP: the span carries an HTTP method, status or URL.
func isHTTP(a *attrs) bool {
	for _, k := range []string{"http.request.method", "http.method", "http.response.status_code", "http.status_code", "url.full", "http.url", "http.target"} {
		if _, ok := a.m.Get(k); ok {
			return true
		}
	}
	return false
}
