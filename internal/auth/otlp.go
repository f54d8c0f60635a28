package auth

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// OTLP guards the OTLP receivers: a request must carry
// `Authorization: Bearer <token>` with a token of the --otlp-tokens file
// (the header option every OpenTelemetry SDK and the Collector have), or,
// over HTTP, a SigV4 signature by an ingest or admin key.
type OTLP struct {
	Guard  *Guard
	Tokens func() *Tokens
}

// otlpOp names OTLP export for roles and messages.
const otlpOp = "PutTraceSegments"

func bearer(h string) (string, bool) {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}

// check decides on an Authorization value; sigv4 verifies a signature
// (nil where there is no body to sign, as over gRPC).
func (o *OTLP) check(authz string, sigv4 func() (caller, *Error)) (caller, *Error) {
	if tok, ok := bearer(authz); ok {
		name, ok := o.Tokens().Check(tok)
		if !ok {
			return caller{}, &Error{http.StatusUnauthorized, "UnrecognizedClientException", "the bearer token is not one of the server's --otlp-tokens"}
		}
		c := caller{"otlp:" + name, RoleIngest, true, nil}
		return c, o.Guard.authorize(c, otlpOp)
	}
	if strings.HasPrefix(authz, sigAlgorithm+" ") && sigv4 != nil {
		c, e := sigv4()
		if e == nil {
			e = o.Guard.authorize(c, otlpOp)
		}
		return c, e
	}
	return caller{}, &Error{http.StatusUnauthorized, "MissingAuthenticationTokenException",
		"send Authorization: Bearer <token> with a token of the server's --otlp-tokens file (or sign with SigV4 over HTTP)"}
}

// HTTP is middleware for the OTLP/HTTP receiver.
func (o *OTLP) HTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf *bytes.Buffer
		c, e := o.check(r.Header.Get("Authorization"), func() (c caller, e *Error) {
			c, buf, e = o.Guard.identify(r, Policy{})
			return c, e
		})
		if buf != nil {
			defer putBuffer(buf)
		}
		if e == nil && c.limited && !o.Guard.Limiter.Allow(c.id) {
			e = errThrottled(c.id)
		}
		if e != nil {
			if e.Status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="roentgen-otlp"`)
			}
			WriteError(w, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// UnaryInterceptor guards OTLP/gRPC: the bearer token comes in the
// "authorization" metadata.
func (o *OTLP) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		var authz string
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if v := md.Get("authorization"); len(v) > 0 {
				authz = v[0]
			}
		}
		c, e := o.check(authz, nil)
		if e == nil && c.limited && !o.Guard.Limiter.Allow(c.id) {
			return nil, status.Error(codes.ResourceExhausted, errThrottled(c.id).Message)
		}
		if e != nil {
			if e.Type == "AccessDeniedException" {
				return nil, status.Error(codes.PermissionDenied, e.Message)
			}
			return nil, status.Error(codes.Unauthenticated, e.Message)
		}
		return handler(ctx, req)
	}
}
