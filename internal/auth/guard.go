package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// MaxBodyBytes bounds a body read to check its signature (the API's own
// bound).
const MaxBodyBytes = 16 << 20

// Guard checks who calls: with access keys configured, every request that
// can change or read anything must be signed with SigV4 (or come from a
// logged-in console session, or use HTTP Basic with a key's id and secret
// for scrapers and curl), by a key whose role allows the operation, within
// its request rate.
type Guard struct {
	Keys     *KeyRing
	Verifier *Verifier
	Sessions *Sessions // the console's logins
	Limiter  *Limiter  // nil: no rate limit
	// Logins bounds console login attempts per client address (guessing
	// secrets); nil: none.
	Logins *Limiter
	Log    *slog.Logger
	// Policies are the resource policies in force (nil: none); Account
	// (--account-id) names the keys' default principals in them.
	Policies *ResourcePolicies
	Account  string
}

// NewLoginLimiter allows 20 login attempts at once per client address,
// then one every 6 seconds.
func NewLoginLimiter(now func() time.Time) *Limiter { return NewLimiterBurst(1.0/6, 20, now) }

// Policy is how one listener treats requests.
type Policy struct {
	// UnsignedRole is the role of a request that carries no credentials
	// ("" refuses it). The daemon's TCP side on loopback gives ingest: the
	// official SDKs call it unsigned, as they call the X-Ray daemon.
	UnsignedRole Role
	// Console serves /console/login, /console/logout and /console/session
	// and accepts the session cookie.
	Console bool
}

// caller is who a request comes from.
type caller struct {
	id   string
	role Role
	// limited: counted against the key's rate (not the unsigned local SDKs).
	limited bool
	key     *Key // nil for callers without a key
}

// Wrap puts the guard in front of next.
func (g *Guard) Wrap(next http.Handler, p Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.Console && strings.HasPrefix(r.URL.Path, "/console/") && g.serveConsole(w, r) {
			return
		}
		op, public := classify(r)
		if public {
			next.ServeHTTP(w, r)
			return
		}
		c, buf, e := g.identify(r, p)
		if buf != nil {
			defer putBuffer(buf)
		}
		if e == nil {
			e = g.authorize(c, op)
		}
		if e == nil && c.limited && !g.Limiter.Allow(c.id) {
			e = errThrottled(c.id)
		}
		if e != nil {
			g.Log.Debug("request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "type", e.Type, "message", e.Message)
			WriteError(w, e)
			return
		}
		if op == "PutResourcePolicy" {
			r = r.WithContext(context.WithValue(r.Context(), callerKey{}, g.callerOf(c)))
		}
		next.ServeHTTP(w, r)
	})
}

func opName(op string) string {
	if op == "" {
		return "UnknownOperation"
	}
	return op
}

// classify names the operation of a request, or says it is public: the
// console's files and /health, which are GETs that read nothing stored.
func classify(r *http.Request) (op string, public bool) {
	p := r.URL.Path
	switch {
	case p == "/metrics":
		return OpMetrics, false
	case strings.HasPrefix(p, "/debug/pprof"):
		return OpPprof, false
	case p == "/console/info":
		return OpConsole, false
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		// The API answers GETs with an error without running anything.
		return "", true
	}
	return Operation(p), false
}

func (g *Guard) identify(r *http.Request, p Policy) (caller, *bytes.Buffer, *Error) {
	if IsSigV4(r) {
		buf := getBuffer()
		n, err := buf.ReadFrom(io.LimitReader(r.Body, MaxBodyBytes+1))
		if err != nil {
			return caller{}, buf, &Error{http.StatusBadRequest, "InvalidRequestException", "the request body could not be read: " + err.Error()}
		}
		if n > MaxBodyBytes {
			return caller{}, buf, &Error{http.StatusRequestEntityTooLarge, "InvalidRequestException", "the request body is larger than 16 MiB"}
		}
		r.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
		k, e := g.Verifier.Verify(r, buf.Bytes())
		if e != nil {
			return caller{}, buf, e
		}
		return caller{k.ID, k.Role, true, k}, buf, nil
	}
	if id, secret, ok := r.BasicAuth(); ok {
		k := g.Keys.Keys().Check(id, secret)
		if k == nil {
			// One answer for an unknown id and a wrong secret: no probing for ids.
			return caller{}, nil, &Error{http.StatusForbidden, "UnrecognizedClientException", "the access key id or the secret is wrong"}
		}
		return caller{k.ID, k.Role, true, k}, nil, nil
	}
	if p.Console && g.Sessions != nil {
		if ck, err := r.Cookie(SessionCookie); err == nil {
			if id, ok := g.Sessions.Lookup(ck.Value); ok {
				if k := g.Keys.Keys().Lookup(id); k != nil {
					return caller{k.ID, k.Role, true, k}, nil, nil
				}
			}
		}
	}
	if r.Header.Get("Authorization") != "" {
		return caller{}, nil, errIncomplete("the Authorization header is neither AWS4-HMAC-SHA256 nor Basic")
	}
	if p.UnsignedRole != "" {
		return caller{"unsigned", p.UnsignedRole, false, nil}, nil, nil
	}
	return caller{}, nil, errMissingToken()
}

// serveConsole answers the console's login endpoints; false passes the
// request on.
func (g *Guard) serveConsole(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/console/login":
		if r.Method != http.MethodPost {
			return false
		}
		if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil && !g.Logins.Allow(ip) {
			WriteError(w, &Error{http.StatusTooManyRequests, "ThrottledException", "too many login attempts from " + ip + "; wait a minute"})
			return true
		}
		var in struct{ AccessKeyID, SecretAccessKey string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil {
			WriteError(w, &Error{http.StatusBadRequest, "InvalidRequestException", "send {\"AccessKeyId\": ..., \"SecretAccessKey\": ...}"})
			return true
		}
		k := g.Keys.Keys().Check(in.AccessKeyID, in.SecretAccessKey)
		if k == nil {
			g.Log.Info("console login refused", "access_key", in.AccessKeyID, "remote", r.RemoteAddr)
			WriteError(w, &Error{http.StatusForbidden, "UnrecognizedClientException", "the access key id or the secret is wrong"})
			return true
		}
		if !g.Limiter.Allow(k.ID) {
			WriteError(w, errThrottled(k.ID))
			return true
		}
		id, exp := g.Sessions.New(k.ID)
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", Expires: exp,
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
		g.Log.Info("console login", "access_key", k.ID, "role", k.Role, "remote", r.RemoteAddr)
		writeSession(w, http.StatusOK, k, exp)
		return true
	case "/console/logout":
		if r.Method != http.MethodPost {
			return false
		}
		if ck, err := r.Cookie(SessionCookie); err == nil {
			g.Sessions.End(ck.Value)
		}
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
		writeSession(w, http.StatusOK, nil, time.Time{})
		return true
	case "/console/session":
		if r.Method != http.MethodGet {
			return false
		}
		if ck, err := r.Cookie(SessionCookie); err == nil {
			if id, ok := g.Sessions.Lookup(ck.Value); ok {
				if k := g.Keys.Keys().Lookup(id); k != nil {
					writeSession(w, http.StatusOK, k, time.Time{})
					return true
				}
			}
		}
		writeSession(w, http.StatusUnauthorized, nil, time.Time{})
		return true
	}
	return false
}

// writeSession tells the console whether login is required and who is
// logged in.
func writeSession(w http.ResponseWriter, status int, k *Key, exp time.Time) {
	out := map[string]any{"AuthRequired": true}
	if k != nil {
		out["AccessKeyId"], out["Role"] = k.ID, k.Role
		if !exp.IsZero() {
			out["Expires"] = exp.Unix()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { b := bufPool.Get().(*bytes.Buffer); b.Reset(); return b }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		bufPool.Put(b)
	}
}
