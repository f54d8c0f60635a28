package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Daemon is a running `roentgen daemon`.
type Daemon struct {
	cfg   Config
	up    *upstream
	spool spooler
	m     *metrics
	tel   *telemetry
	fwd   *forwarder
	bt    *batcher
	recv  *receiver

	servers []*http.Server
	addrs   map[string]net.Addr

	runCtx       context.Context // uploads; ends at the shutdown deadline
	runCancel    context.CancelFunc
	replayCancel context.CancelFunc
	telStop      chan struct{}
	telDone      chan struct{} // the telemetry loop has returned
	wg           sync.WaitGroup
	stopOnce     sync.Once
	stopErr      error
}

// Start binds the UDP socket, the signing proxy and /metrics, opens the
// spool (replaying what a previous run left) and starts uploading.
func Start(ctx context.Context, cfg Config) (*Daemon, error) {
	cfg.withDefaults()
	budget, err := cfg.bufferBytes()
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, addrs: map[string]net.Addr{}, telStop: make(chan struct{}), telDone: make(chan struct{}), tel: &telemetry{resourceARN: cfg.ResourceARN}}
	if d.up, err = newUpstream(ctx, cfg); err != nil {
		return nil, err
	}
	d.tel.instanceID, d.tel.hostname = instanceIdentity(ctx, cfg.LocalMode)
	d.m = newMetrics(func() spooler { return d.spool }, func() int64 {
		if d.fwd == nil {
			return 0
		}
		return d.fwd.held.Load()
	})
	drop := func(n int, reason string) {
		d.m.dropped.WithLabelValues(reason).Add(float64(n))
		d.tel.spillover.Add(int64(n))
	}
	if cfg.SpoolDir != "" {
		if d.spool, err = openDiskSpool(cfg.SpoolDir, cfg.SpoolSize, drop); err != nil {
			return nil, fmt.Errorf("spool %s: %w", cfg.SpoolDir, err)
		}
		if _, docs, bytes := d.spool.stats(); docs > 0 {
			cfg.Logger.Info("spool holds segments from an earlier run; replaying", "segments", docs, "bytes", bytes)
		}
		d.fwd = newForwarder(cfg, d.up, d.spool, d.m, d.tel, budget)
	} else {
		// Without a disk spool, the memory budget is shared: half for
		// batches waiting to upload, half for those kept while uploads fail.
		d.spool = newMemSpool(budget/2, drop)
		d.fwd = newForwarder(cfg, d.up, d.spool, d.m, d.tel, budget/2)
	}
	d.bt = &batcher{wait: cfg.BatchWait, held: &d.fwd.held, submit: d.fwd.submit}

	conn, rbuf, err := listenUDP(cfg.UDPAddr)
	if err != nil {
		d.spool.close()
		return nil, fmt.Errorf("udp %s: %w", cfg.UDPAddr, err)
	}
	d.recv = &receiver{granted: rbuf, add: d.bt.add, m: d.m, tel: d.tel}
	d.addrs["udp"] = conn.LocalAddr()
	if err := d.recv.open(conn); err != nil {
		d.spool.close()
		return nil, fmt.Errorf("udp %s: %w", cfg.UDPAddr, err)
	}
	d.m.rcvbuf.Set(float64(rbuf))
	if rbuf >= 0 && rbuf < readBuffer {
		cfg.Logger.Warn("the kernel capped the UDP receive buffer: bursts may be dropped; raise net.core.rmem_max (or grant CAP_NET_ADMIN)", "bytes", rbuf, "wanted", readBuffer)
	}
	if cfg.TCPAddr != "" {
		if err := d.serve("tcp", cfg.TCPAddr, newProxy(d.up, d.m, cfg.Logger)); err != nil {
			d.abort()
			return nil, err
		}
	}
	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(d.m.reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"status":"ok","role":"daemon","upstream_up":%v}`+"\n", !d.fwd.down.Load())
		})
		if err := d.serve("metrics", cfg.MetricsAddr, mux); err != nil {
			d.abort()
			return nil, err
		}
	}

	d.runCtx, d.runCancel = context.WithCancel(context.Background())
	var rctx context.Context
	rctx, d.replayCancel = context.WithCancel(d.runCtx)
	d.fwd.start(d.runCtx, rctx)
	d.recv.start()
	d.wg.Add(1)
	go func() { defer d.wg.Done(); d.telemetryLoop() }()
	cfg.Logger.Info("daemon started", "udp", d.addrs["udp"].String(), "tcp", addrString(d.addrs["tcp"]),
		"endpoint", d.up.endpoint.String(), "region", d.up.aws.Region, "buffer_mb", budget>>20, "spool", cfg.SpoolDir)
	return d, nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func (d *Daemon) serve(name, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	d.servers = append(d.servers, srv)
	d.addrs[name] = ln.Addr()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.cfg.Logger.Error("http server", "listener", name, "err", err)
		}
	}()
	return nil
}

// abort undoes a Start that failed half-way.
func (d *Daemon) abort() {
	for _, s := range d.servers {
		_ = s.Close()
	}
	d.recv.close()
	d.wg.Wait()
	_ = d.spool.close()
}

// Addr is a bound address: "udp", "tcp" (the proxy) or "metrics".
func (d *Daemon) Addr(name string) net.Addr { return d.addrs[name] }

func (d *Daemon) telemetryLoop() {
	defer close(d.telDone)
	t := time.NewTicker(d.cfg.TelemetryInterval)
	defer t.Stop()
	for {
		select {
		case <-d.telStop:
			return
		case now := <-t.C:
			d.tel.cut(now)
			ctx, cancel := context.WithTimeout(d.runCtx, d.cfg.RequestTimeout)
			_ = d.tel.send(ctx, d.up.client)
			cancel()
		}
	}
}

// Stop shuts the daemon down within the shutdown timeout: it reads what is
// left in the socket, uploads every batch it holds (or, past the
// deadline, puts it in the spool), sends a last telemetry record and
// closes the spool. With a disk spool nothing received is lost; with the
// memory spool, what the upstream did not take by the deadline is
// dropped and counted.
func (d *Daemon) Stop() error {
	d.stopOnce.Do(func() { d.stopErr = d.stop() })
	return d.stopErr
}

func (d *Daemon) stop() error {
	start := time.Now()
	deadline := start.Add(d.cfg.ShutdownTimeout)
	// Keep a tenth of the time to spool what the upstream has not taken.
	uploadBy := start.Add(d.cfg.ShutdownTimeout * 9 / 10)
	log := d.cfg.Logger
	log.Info("daemon stopping", "timeout", d.cfg.ShutdownTimeout.String())

	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for _, s := range d.servers {
		if s != nil {
			go func() { _ = s.Shutdown(ctx) }()
		}
	}
	d.recv.stop(start.Add(d.cfg.ShutdownTimeout / 4))
	d.bt.flush()
	close(d.fwd.queue)

	// Uploads past uploadBy are abandoned: their batches go to the spool.
	timer := time.AfterFunc(time.Until(uploadBy), d.runCancel)
	defer timer.Stop()
	d.fwd.uploaders.Wait()
	if _, isMem := d.spool.(*memSpool); !isMem {
		d.replayCancel() // the disk spool keeps its batches for the next run
	} else {
		for {
			if _, docs, _ := d.spool.stats(); docs == 0 || d.runCtx.Err() != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		d.replayCancel()
	}
	d.fwd.replayer.Wait()

	// The loop's send in flight ends first (or by uploadBy, with runCtx):
	// cancelled mid-body by the runCancel below, its records would miss
	// the last send that carries them.
	close(d.telStop)
	<-d.telDone
	d.tel.cut(time.Now())
	tctx, tcancel := context.WithDeadline(context.Background(), deadline)
	_ = d.tel.send(tctx, d.up.client)
	tcancel()
	d.runCancel()
	for _, s := range d.servers {
		_ = s.Close()
	}
	d.wg.Wait()
	_, left, _ := d.spool.stats()
	err := d.spool.close()
	d.up.hc.CloseIdleConnections()
	log.Info("daemon stopped", "took", time.Since(start).Round(time.Millisecond).String(), "spooled_segments_left", left)
	return err
}
