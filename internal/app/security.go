package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/auth"
	"github.com/roentgen-tracing/roentgen/internal/otlp"
	"golang.org/x/net/netutil"
	"google.golang.org/grpc"
)

// Defaults of the limits a public endpoint needs.
const (
	DefaultReadTimeout    = time.Minute
	DefaultMaxConnections = 4096
	DefaultSessionTTL     = 12 * time.Hour
)

// security is what guards the listeners, built from the Config once.
type security struct {
	keys   *auth.KeyRing   // nil: no keys (loopback only, or --insecure-no-auth)
	tokens *auth.TokenFile // OTLP bearer tokens (optional)
	guard  *auth.Guard
	hosts  *auth.HostCheck
	cert   *auth.CertFile // nil: plain HTTP
}

// setupSecurity checks that nothing is exposed without keys, loads the key,
// token and certificate files and builds the guards.
func (a *App) setupSecurity() error {
	cfg := a.cfg
	if cfg.ReadTimeout <= 0 {
		a.cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.MaxConnections == 0 {
		a.cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.SessionTTL <= 0 {
		a.cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.AccessKeysFile == "" {
		if cfg.OTLPTokensFile != "" {
			return errors.New("--otlp-tokens needs --access-keys: without keys nothing is checked")
		}
		if exposed := a.exposed(); len(exposed) > 0 {
			if !cfg.InsecureNoAuth {
				return fmt.Errorf("%s: not a loopback address, and no --access-keys are configured: anyone who can reach it could write, read and delete traces, rules and groups. "+
					"Add --access-keys FILE (lines of ACCESS_KEY_ID SECRET_ACCESS_KEY ROLE; see docs/security.md), or --insecure-no-auth to accept the risk", strings.Join(exposed, ", "))
			}
			a.log.Warn("INSECURE: serving without authentication on non-loopback addresses (--insecure-no-auth): anyone who can reach them can write, read and delete everything",
				"listeners", strings.Join(exposed, ", "))
		}
	}
	if cfg.Role == RoleAll && cfg.UDPAddr != "" && !auth.IsLoopback(cfg.UDPAddr) {
		a.log.Warn("UDP segments are unauthenticated by protocol: anyone who can reach --bind can send segments (see docs/security.md)", "bind", cfg.UDPAddr)
	}
	s := &security{}
	var names []string
	for _, addr := range []string{cfg.HTTPAddr, cfg.TCPAddr, cfg.OTLPHTTPAddr} {
		if h := auth.HostOf(addr); h != "" {
			names = append(names, h)
		}
	}
	s.hosts = auth.NewHostCheck(append(names, cfg.AllowedHosts...))
	if cfg.AccessKeysFile != "" {
		kr, err := auth.LoadKeyRing(cfg.AccessKeysFile)
		if err != nil {
			return err
		}
		s.keys = kr
		if cfg.OTLPTokensFile != "" {
			if s.tokens, err = auth.LoadTokenFile(cfg.OTLPTokensFile); err != nil {
				return err
			}
		}
		var lim *auth.Limiter
		if cfg.RateLimit > 0 {
			lim = auth.NewLimiter(cfg.RateLimit, cfg.Now)
		}
		s.guard = &auth.Guard{Keys: kr, Verifier: auth.NewVerifier(kr.Keys, cfg.Now),
			Sessions: auth.NewSessions(a.cfg.SessionTTL, cfg.Now), Limiter: lim, Logins: auth.NewLoginLimiter(cfg.Now), Log: a.log}
		if a.svc != nil {
			s.guard.Policies, s.guard.Account = a.svc.ResourcePolicies, cfg.AccountID
			if cfg.AccountID == "" {
				s.guard.Account = "000000000000" // Wire's default
			}
		}
		a.log.Info("access keys loaded; every request must be signed", "file", cfg.AccessKeysFile, "keys", kr.Keys().Len())
		if cfg.OTLPGRPCAddr != "" && cfg.OTLPTokensFile == "" {
			a.log.Warn("OTLP/gRPC refuses every export: gRPC carries no SigV4 signature, so it needs --otlp-tokens", "otlp_grpc", cfg.OTLPGRPCAddr)
		}
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if cfg.TLSCertFile != "" {
		c, err := auth.LoadCertFile(cfg.TLSCertFile, cfg.TLSKeyFile, func(err error) { a.log.Error("tls certificate reload", "err", err) })
		if err != nil {
			return err
		}
		s.cert = c
	}
	a.sec = s
	return nil
}

// exposed lists the flags whose listeners bind more than loopback.
func (a *App) exposed() []string {
	var out []string
	check := func(flag, addr string) {
		if addr != "" && !auth.IsLoopback(addr) {
			out = append(out, fmt.Sprintf("--%s %s", flag, addr))
		}
	}
	check("http", a.cfg.HTTPAddr)
	if a.cfg.Role == RoleAll {
		check("bind-tcp", a.cfg.TCPAddr)
	}
	check("otlp-grpc", a.cfg.OTLPGRPCAddr)
	check("otlp-http", a.cfg.OTLPHTTPAddr)
	return out
}

// Reload reads the access-key and token files again (SIGHUP); on error the
// ones in use stay.
func (a *App) Reload() error {
	var errs []error
	if a.sec != nil && a.sec.keys != nil {
		if err := a.sec.keys.Reload(); err != nil {
			errs = append(errs, err)
		} else {
			a.log.Info("access keys reloaded", "keys", a.sec.keys.Keys().Len())
		}
	}
	if a.sec != nil && a.sec.tokens != nil {
		if err := a.sec.tokens.Reload(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// guardHTTP puts the defences in front of an API listener: the Host check
// (DNS rebinding), cross-origin protection (a page on another origin cannot
// make the browser write), and, with keys, the signature and role check.
func (a *App) guardHTTP(name string, h http.Handler) http.Handler {
	if g := a.sec.guard; g != nil {
		p := auth.Policy{Console: name == "http"}
		if name == "tcp" && auth.IsLoopback(a.cfg.TCPAddr) {
			// The official SDKs call the daemon's TCP side unsigned; on
			// loopback it is trusted as UDP is, for ingest only.
			p.UnsignedRole = auth.RoleIngest
		}
		h = g.Wrap(h, p)
	}
	h = http.NewCrossOriginProtection().Handler(h)
	return a.countRequests(a.sec.hosts.Wrap(h))
}

// tlsFor is the TLS config of a listener, nil for plain HTTP. The TCP side
// on loopback stays plain: SDKs speak plain HTTP to the daemon address.
func (a *App) tlsFor(name string, protos ...string) *tls.Config {
	if a.sec.cert == nil || (name == "tcp" && auth.IsLoopback(a.cfg.TCPAddr)) {
		return nil
	}
	return a.sec.cert.Config(protos...)
}

// limitListener bounds the connections served at once.
func (a *App) limitListener(ln net.Listener) net.Listener {
	if a.cfg.MaxConnections > 0 {
		return netutil.LimitListener(ln, a.cfg.MaxConnections)
	}
	return ln
}

// otlpConfig adds the guards to the OTLP receivers' config.
func (a *App) otlpConfig(c otlp.Config) otlp.Config {
	c.ReadTimeout = a.cfg.ReadTimeout
	c.WrapListener = a.limitListener
	if a.sec.cert != nil {
		c.TLS = a.sec.cert.Config("h2", "http/1.1")
	}
	hosts := a.sec.hosts
	c.HTTPMiddleware = func(h http.Handler) http.Handler { return hosts.Wrap(http.NewCrossOriginProtection().Handler(h)) }
	if g := a.sec.guard; g != nil {
		o := &auth.OTLP{Guard: g, Tokens: a.sec.tokens.Tokens}
		c.HTTPMiddleware = func(h http.Handler) http.Handler {
			return hosts.Wrap(http.NewCrossOriginProtection().Handler(o.HTTP(h)))
		}
		c.GRPCOptions = append(c.GRPCOptions, grpc.UnaryInterceptor(o.UnaryInterceptor()))
	}
	return c
}

// PolicyRefreshInterval is how often a server with access keys reads the
// stored resource policies again, so that a change made through another
// process on a shared store (ClickHouse) is in force here within it.
const PolicyRefreshInterval = 10 * time.Second

// startPolicyRefresh runs the refresh while the app runs (with keys only:
// without, policies are enforced by nobody).
func (a *App) startPolicyRefresh() {
	if a.sec == nil || a.sec.guard == nil || a.api == nil {
		return
	}
	a.every(PolicyRefreshInterval, func() {
		if err := a.api.RefreshResourcePolicies(context.Background()); err != nil {
			a.log.Error("resource policies: refresh", "err", err)
		}
	})
}
