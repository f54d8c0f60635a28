// Package app wires Roentgen's components into roles, all in this one place:
// "all" (everything in one process, the default), "server" (the X-Ray API,
// OTLP receivers and the console on the store). Each component has the same
// tiny surface: start, stop, and perhaps an http.Handler.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/roentgen-tracing/roentgen/internal/api"
	"github.com/roentgen-tracing/roentgen/internal/budget"
	"github.com/roentgen-tracing/roentgen/internal/console"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/insights"
	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/otlp"
	"github.com/roentgen-tracing/roentgen/internal/otlp/translate"
	"github.com/roentgen-tracing/roentgen/internal/red"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/udp"
)

// Roles.
const (
	RoleAll    = "all"
	RoleServer = "server"
)

// Config is everything a role needs; flags fill it (cmd/roentgen).
type Config struct {
	Role     string
	DataDir  string
	Store    string // --store: a ClickHouse URL, or empty for Pebble in DataDir (storeflag.go)
	HTTPAddr string // API, console, /metrics, /health
	UDPAddr  string // segment datagrams (role all)
	TCPAddr  string // the daemon's TCP side: the same API (role all)
	// OTLP receivers (roles all and server); empty disables one.
	OTLPGRPCAddr string
	OTLPHTTPAddr string
	// OTLPIndexAttributes: span attribute keys indexed as annotations,
	// comma-separated, or "*"/"" for all (up to 50).
	OTLPIndexAttributes string
	Retention           time.Duration
	Region              string
	AccountID           string
	Version             string // shown by the console
	Logger              *slog.Logger
	// Now overrides the clock (tests).
	Now func() time.Time

	// Security (docs/security.md; security.go).
	AccessKeysFile string   // ACCESS_KEY_ID SECRET ROLE lines; every request must be signed
	OTLPTokensFile string   // OTLP bearer tokens (with AccessKeysFile)
	AllowedHosts   []string // Host names served besides loopback names and IPs
	InsecureNoAuth bool     // allow non-loopback listeners without keys
	Pprof          bool     // serve /debug/pprof (admin only with keys)
	TLSCertFile    string   // TLS for --http, OTLP and a non-loopback TCP side
	TLSKeyFile     string
	ReadTimeout    time.Duration // reading a whole request; default 1m
	MaxConnections int           // per listener; default 4096, <0 unlimited
	RateLimit      float64       // requests a second per access key; 0 unlimited
	SessionTTL     time.Duration // console logins; default 12h
	REDSeriesLimit int           // label sets per RED kind on /metrics; default 1000 (docs/metrics.md)
	// Insights (docs/insights.md): NoDefaultInsights turns off anomaly
	// detection on the Default group; InsightsWebhook receives open and
	// close events.
	NoDefaultInsights bool
	InsightsWebhook   string
	// Memory splits the memory budget among the store's memtables and
	// cache and ingest's cache and pending work; the zero value is
	// budget.Split(0). The Go heap's share is the caller's to apply
	// (Budget.Apply), as the runtime's limit is the whole process's.
	Memory budget.Budget
}

// DefaultDataDir is where data lives when --data-dir is not given.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "roentgen")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "roentgen")
	}
	return "roentgen-data"
}

// App is a running role.
type App struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	ingest  *ingest.Ingester
	metrics *metrics.Metrics
	api     *api.Server
	svc     *Services

	udp      *udp.Server
	otlp     *otlp.Receiver
	sec      *security
	servers  []*http.Server
	addrs    map[string]net.Addr
	info     atomic.Pointer[console.Info]
	stopOnce sync.Once
	done     chan struct{}
	wg       sync.WaitGroup
	// requests counts HTTP requests other than scrapes and health checks:
	// a server answering queries is not idle (idle.go).
	requests atomic.Uint64
}

// Start opens the store and starts every listener of the role. It returns
// once all of them are bound.
func Start(cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Role == "" {
		cfg.Role = RoleAll
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 720 * time.Hour
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir()
	}
	if cfg.Memory.Total == 0 {
		cfg.Memory = budget.Split(0)
	}
	a := &App{cfg: cfg, log: cfg.Logger, addrs: map[string]net.Addr{}, done: make(chan struct{})}
	st, err := openStore(cfg, a.log)
	if err != nil {
		return nil, err
	}
	a.store = st
	a.metrics = metrics.New(func() float64 { return float64(st.DiskUsage()) })
	if h, ok := st.(metrics.StoreHealth); ok { // the embedded store's disk
		a.metrics.WatchStore(h)
	}
	a.ingest = ingest.New(ingest.Config{Store: st, Metrics: a.metrics, Logger: a.log, Now: cfg.Now,
		CacheBytes: int(cfg.Memory.IngestCache), PendingBytes: int(cfg.Memory.PendingBytes), MaxPendingBytes: int(cfg.Memory.MaxPendingBytes)})
	a.refreshBeforeSummaries()
	a.api, a.svc, err = Wire(context.Background(), Parts{Store: st, Ingest: a.ingest, Metrics: a.metrics, Logger: a.log,
		Region: cfg.Region, AccountID: cfg.AccountID, RED: red.Config{Limit: cfg.REDSeriesLimit},
		NoDefaultInsights: cfg.NoDefaultInsights, InsightsWebhook: cfg.InsightsWebhook, Retention: cfg.Retention})
	if err != nil {
		a.ingest.Close()
		st.Close()
		return nil, err
	}
	// Documents acknowledged before a crash whose summaries were not yet
	// written get them now (with the API's hooks registered), before
	// serving; on a shared store in the background (startAdopting).
	if !store.IsShared(st) {
		a.recoverPending(context.Background())
	}
	// Expired data goes before anything is served, not racing the first requests.
	a.enforceRetention()
	if err := a.listen(); err != nil {
		a.Stop()
		return nil, err
	}
	a.setConsoleInfo()
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.retentionLoop() }()
	a.startPolicyRefresh()
	a.svc.Insights.Start()
	a.startKeepRefresh()
	a.startAdopting()
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.idleLoop() }() // idle.go
	return a, nil
}

func (a *App) listen() error {
	if err := a.setupSecurity(); err != nil {
		return err
	}
	if err := a.serveHTTP("http", a.cfg.HTTPAddr, a.guardHTTP("http", a.httpHandler())); err != nil {
		return err
	}
	if a.cfg.OTLPGRPCAddr != "" || a.cfg.OTLPHTTPAddr != "" {
		r, err := otlp.Start(a.otlpConfig(otlp.Config{GRPCAddr: a.cfg.OTLPGRPCAddr, HTTPAddr: a.cfg.OTLPHTTPAddr, Ingest: a.ingest,
			Translate: translate.ParseIndexFlag(a.cfg.OTLPIndexAttributes), Logger: a.log}))
		if err != nil {
			return err
		}
		a.otlp = r
		for _, n := range []string{"grpc", "http"} {
			if ad := r.Addr(n); ad != nil {
				a.addrs["otlp-"+n] = ad
			}
		}
	}
	if a.cfg.Role != RoleAll {
		return nil
	}
	// The daemon's TCP side answers any API path, as the daemon's proxy does.
	if err := a.serveHTTP("tcp", a.cfg.TCPAddr, a.guardHTTP("tcp", a.apiHandler())); err != nil {
		return err
	}
	a.udp = &udp.Server{Ingest: a.ingest, Metrics: a.metrics, Logger: a.log}
	if err := a.udp.Start(a.cfg.UDPAddr); err != nil {
		a.udp = nil
		return fmt.Errorf("udp %s: %w", a.cfg.UDPAddr, err)
	}
	a.addrs["udp"] = a.udp.Addr()
	a.log.Info("listening", "what", "segments (udp)", "addr", a.udp.Addr().String())
	return nil
}

func (a *App) serveHTTP(name, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, addr, err)
	}
	// ReadTimeout covers the body too: a client dribbling one is cut off.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: a.cfg.ReadTimeout,
		IdleTimeout: 2 * time.Minute, TLSConfig: a.tlsFor(name, "h2", "http/1.1"),
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)} // TLS handshake noise
	a.servers = append(a.servers, srv)
	a.addrs[name] = ln.Addr()
	a.log.Info("listening", "what", name, "addr", ln.Addr().String(), "tls", srv.TLSConfig != nil)
	ln = a.limitListener(ln)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		serve := srv.Serve
		if srv.TLSConfig != nil {
			serve = func(ln net.Listener) error { return srv.ServeTLS(ln, "", "") }
		}
		if err := serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server", "listener", name, "err", err)
		}
	}()
	return nil
}

// httpHandler is the --http port: the X-Ray API at its paths, health,
// metrics and Go's profiler, and the console for everything else.
func (a *App) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.Registry, promhttp.HandlerOpts{EnableOpenMetrics: true})) // exemplars need OpenMetrics
	// Profiles of the running server (go tool pprof http://<http>/debug/pprof/profile),
	// as VictoriaMetrics serves them: how ingest CPU is measured outside a
	// benchmark's own process. Off unless --pprof: cmdline and heap leak.
	if a.cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	// With keys the guard answers it; without, the console needs no login.
	mux.HandleFunc("GET /console/session", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, `{"AuthRequired":false}`)
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// Still "ok" on a full disk: reads are served; "store" says whether
		// writes are taken.
		state := "writable"
		if h, ok := a.store.(metrics.StoreHealth); ok && !h.Writable() {
			state = "read-only"
		}
		fmt.Fprintf(w, `{"status":"ok","role":%q,"store":%q}`+"\n", a.cfg.Role, state)
	})
	// The console answers GETs for its own files; the rest goes to the API.
	mux.Handle("/", console.New(a.apiHandler(), a.consoleInfo))
	return mux
}

// consoleInfo is set once every listener is bound (see Start).
func (a *App) consoleInfo() console.Info {
	if in := a.info.Load(); in != nil {
		return *in
	}
	return console.Info{Version: a.cfg.Version, Role: a.cfg.Role}
}

func (a *App) setConsoleInfo() {
	addr := func(name string) string {
		if ad := a.addrs[name]; ad != nil {
			return ad.String()
		}
		return ""
	}
	a.info.Store(&console.Info{Version: a.cfg.Version, Role: a.cfg.Role, HTTP: addr("http"), UDP: addr("udp"), TCP: addr("tcp")})
}

// Addr returns the bound address of a listener: "http", "tcp", "udp",
// "otlp-grpc" or "otlp-http".
func (a *App) Addr(name string) net.Addr { return a.addrs[name] }

// Store is the app's store (tests and benchmarks read it directly).
func (a *App) Store() store.Store { return a.store }

// Insights is the insights detector (tests drive it with Evaluate).
func (a *App) Insights() *insights.Detector { return a.svc.Insights }

// Ingester is the shared ingest path.
func (a *App) Ingester() *ingest.Ingester { return a.ingest }

// DataDir is where the store lives.
func (a *App) DataDir() string { return a.cfg.DataDir }

// every runs f every d while the app runs: the app's periodic chores
// (policy refreshes, adoption of other processes' traces).
func (a *App) every(d time.Duration, f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-a.done:
				return
			case <-t.C:
				f()
			}
		}
	}()
}

func (a *App) retentionLoop() {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-a.done:
			return
		case <-t.C:
			a.enforceRetention()
		}
	}
}

func (a *App) enforceRetention() { _, _ = a.EnforceRetention(context.Background()) }

// EnforceRetention drops the time partitions older than the retention
// period now; the app also does it every ten minutes. It returns how many
// partitions it dropped.
func (a *App) EnforceRetention(ctx context.Context) (int, error) {
	now := time.Now()
	if a.cfg.Now != nil {
		now = a.cfg.Now()
	}
	// Pending summaries first: one written after the drop would outlive
	// the documents it summarises.
	a.ingest.Sync(ctx)
	n, err := a.store.DropBefore(ctx, now.Add(-a.cfg.Retention))
	if err == nil {
		_, err = a.svc.Telemetry.Prune(ctx, now.Add(-a.cfg.Retention))
	}
	if err != nil {
		a.log.Error("retention", "err", err)
	} else if n > 0 {
		a.log.Info("retention dropped old partitions", "partitions", n, "retention", a.cfg.Retention.String())
	}
	return n, err
}

// Stop stops listeners (finishing requests in flight), drains UDP ingest and
// closes the store: everything acknowledged is on disk when it returns.
func (a *App) Stop() error {
	var err error
	a.stopOnce.Do(func() {
		close(a.done)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, s := range a.servers {
			_ = s.Shutdown(ctx)
		}
		if a.otlp != nil {
			a.otlp.Stop()
		}
		if a.udp != nil {
			_ = a.udp.Stop()
		}
		a.wg.Wait()
		if a.svc != nil {
			a.svc.Insights.Stop() // before the store closes
		}
		if a.ingest != nil {
			a.ingest.Close() // summaries (and their statistics) of the last documents
		}
		if a.store != nil {
			err = a.store.Close()
		}
	})
	return err
}
