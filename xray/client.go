package xray

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

const emptyHostRename = "empty_host_error"

// Client returns a copy of c (nil: http.DefaultClient) whose calls are
// traced: a remote subsegment per request with the trace header injected.
func Client(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	t := c.Transport
	if t == nil {
		t = http.DefaultTransport
	}
	return &http.Client{Transport: RoundTripper(t), CheckRedirect: c.CheckRedirect, Jar: c.Jar, Timeout: c.Timeout}
}

// RoundTripper traces the requests rt makes.
func RoundTripper(rt http.RoundTripper) http.RoundTripper { return &roundTripper{Base: rt} }

type roundTripper struct {
	Base http.RoundTripper
}

func (rt *roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	host, emptyHost := r.Host, false
	if host == "" {
		if host = r.URL.Host; host == "" {
			host, emptyHost = emptyHostRename, true
		}
	}
	var resp *http.Response
	err := Capture(r.Context(), host, func(ctx context.Context) error {
		seg := GetSegment(ctx)
		if seg == nil {
			var err error
			resp, err = rt.Base.RoundTrip(r)
			return err
		}
		ct := newClientTrace(ctx)
		// RoundTrippers must not change the caller's request.
		r2 := r.WithContext(httptrace.WithClientTrace(ctx, ct.trace()))
		r2.Header = r.Header.Clone()
		if r2.Header == nil {
			r2.Header = http.Header{}
		}
		seg.Lock()
		if !emptyHost {
			seg.Namespace = "remote"
		}
		req := seg.GetHTTP().GetRequest()
		req.Method = r.Method
		req.URL = stripURL(*r.URL)
		r2.Header[traceHeaderCanonical] = []string{seg.DownstreamHeader().String()}
		seg.Unlock()

		var err error
		resp, err = rt.Base.RoundTrip(r2)
		ct.end(err)
		if resp != nil {
			seg.Lock()
			res := seg.GetHTTP().GetResponse()
			res.Status = resp.StatusCode
			res.ContentLength, _ = strconv.Atoi(resp.Header.Get("Content-Length"))
			markStatus(seg, resp.StatusCode)
			seg.Unlock()
		}
		return err
	})
	return resp, err
}

// stripURL drops the query and hides a password.
func stripURL(u url.URL) string {
	u.RawQuery, u.Fragment = "", ""
	if _, ok := u.User.Password(); ok {
		return strings.Replace(u.String(), u.User.String()+"@", u.User.Username()+":***@", 1)
	}
	return u.String()
}

// clientTrace records the phases of one HTTP call as subsegments, as
// aws-xray-sdk-go does: connect (with dns, dial, tls), request, response.
type clientTrace struct {
	mu                                 sync.Mutex
	op                                 context.Context
	conn, dns, dial, tlsSeg, req, resp *Segment
	connCtx                            context.Context
}

func newClientTrace(op context.Context) *clientTrace { return &clientTrace{op: op} }

func (t *clientTrace) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) {
			t.mu.Lock()
			t.connCtx, t.conn = BeginSubsegment(t.op, "connect")
			t.mu.Unlock()
		},
		DNSStart: func(httptrace.DNSStartInfo) {
			t.mu.Lock()
			if t.connCtx != nil {
				_, t.dns = BeginSubsegment(t.connCtx, "dns")
			}
			t.mu.Unlock()
		},
		DNSDone: func(info httptrace.DNSDoneInfo) {
			t.mu.Lock()
			if t.dns != nil {
				addrs := make([]string, len(info.Addrs))
				for i, a := range info.Addrs {
					addrs[i] = a.String()
				}
				_ = t.dns.AddMetadataToNamespace("http", "dns", map[string]interface{}{"addresses": addrs, "coalesced": info.Coalesced})
				t.dns.Close(info.Err)
				t.dns = nil
			}
			t.mu.Unlock()
		},
		ConnectStart: func(network, addr string) {
			t.mu.Lock()
			if t.connCtx != nil {
				_, t.dial = BeginSubsegment(t.connCtx, "dial")
			}
			t.mu.Unlock()
		},
		ConnectDone: func(network, addr string, err error) {
			t.mu.Lock()
			if t.dial != nil {
				_ = t.dial.AddMetadataToNamespace("http", "connect", map[string]interface{}{"network": network})
				t.dial.Close(err)
				t.dial = nil
			}
			t.mu.Unlock()
		},
		TLSHandshakeStart: func() {
			t.mu.Lock()
			if t.connCtx != nil {
				_, t.tlsSeg = BeginSubsegment(t.connCtx, "tls")
			}
			t.mu.Unlock()
		},
		TLSHandshakeDone: func(st tls.ConnectionState, err error) {
			t.mu.Lock()
			if t.tlsSeg != nil {
				_ = t.tlsSeg.AddMetadataToNamespace("http", "tls", map[string]interface{}{
					"did_resume": st.DidResume, "negotiated_protocol": st.NegotiatedProtocol, "cipher_suite": st.CipherSuite})
				t.tlsSeg.Close(err)
				t.tlsSeg = nil
			}
			t.mu.Unlock()
		},
		GotConn: func(info httptrace.GotConnInfo) {
			t.mu.Lock()
			if t.conn != nil {
				md := map[string]interface{}{"reused": info.Reused, "was_idle": info.WasIdle}
				if info.WasIdle {
					md["idle_time"] = info.IdleTime.String()
				}
				_ = t.conn.AddMetadataToNamespace("http", "connection", md)
				t.conn.Close(nil)
				t.conn = nil
			}
			_, t.req = BeginSubsegment(t.op, "request")
			t.mu.Unlock()
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			t.mu.Lock()
			if t.req != nil {
				t.req.Close(info.Err)
				t.req = nil
			}
			_, t.resp = BeginSubsegment(t.op, "response")
			t.mu.Unlock()
		},
	}
}

// end closes whatever phase is still open when the call returns.
func (t *clientTrace) end(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range []**Segment{&t.dns, &t.dial, &t.tlsSeg, &t.conn, &t.req, &t.resp} {
		if *s != nil {
			(*s).Close(err)
			*s = nil
		}
	}
}
