package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics is the daemon's /metrics. Every count is of segment documents.
type metrics struct {
	reg        *prometheus.Registry
	received   prometheus.Counter
	dropped    *prometheus.CounterVec
	spooled    prometheus.Counter
	uploaded   prometheus.Counter
	uploadErrs *prometheus.CounterVec
	latency    prometheus.Histogram
	upstreamUp prometheus.Gauge
	replayed   prometheus.Counter
	proxyCalls *prometheus.CounterVec
	rcvbuf     prometheus.Gauge
}

func newMetrics(spool func() spooler, held func() int64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "roentgen_daemon_segments_received_total",
			Help: "Datagrams read from the UDP socket."}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roentgen_daemon_segments_dropped_total",
			Help: "Segments lost, by reason: a rejected datagram (no_header, bad_header, empty_body, oversize), " +
				"spillover (memory full, no spool), spool_full, spool_corrupt (records), spool_error, rejected (by the upstream), shutdown."}, []string{"reason"}),
		spooled: prometheus.NewCounter(prometheus.CounterOpts{Name: "roentgen_daemon_segments_spooled_total",
			Help: "Segments put in the spool because the upstream could not take them."}),
		uploaded: prometheus.NewCounter(prometheus.CounterOpts{Name: "roentgen_daemon_segments_uploaded_total",
			Help: "Segments the upstream accepted."}),
		uploadErrs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roentgen_daemon_upload_errors_total",
			Help: "Failed PutTraceSegments calls, by kind (the telemetry record's BackendConnectionErrors)."}, []string{"kind"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "roentgen_daemon_upstream_latency_seconds",
			Help: "Duration of PutTraceSegments calls.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		upstreamUp: prometheus.NewGauge(prometheus.GaugeOpts{Name: "roentgen_daemon_upstream_up",
			Help: "1 while uploads succeed, 0 while the upstream is failing and batches go to the spool."}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "roentgen_daemon_segments_replayed_total",
			Help: "Spooled segments uploaded."}),
		rcvbuf: prometheus.NewGauge(prometheus.GaugeOpts{Name: "roentgen_daemon_udp_receive_buffer_bytes",
			Help: "The UDP socket's receive buffer as the kernel reports it (SO_RCVBUF, which counts the kernel's bookkeeping: about twice the data it holds). " +
				"The daemon asks for 32 MB; without CAP_NET_ADMIN the kernel caps it at net.core.rmem_max."}),
		proxyCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roentgen_daemon_proxy_requests_total",
			Help: "Requests through the TCP signing proxy, by upstream status code."}, []string{"code"}),
	}
	spoolGauge := func(name, help string, pick func(b, d int, n int64) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			if s := spool(); s != nil {
				return pick(s.stats())
			}
			return 0
		})
	}
	m.upstreamUp.Set(1)
	m.reg.MustRegister(m.received, m.dropped, m.spooled, m.uploaded, m.uploadErrs, m.latency, m.upstreamUp, m.replayed, m.proxyCalls, m.rcvbuf,
		spoolGauge("roentgen_daemon_spool_segments", "Segments waiting in the spool.", func(_, d int, _ int64) float64 { return float64(d) }),
		spoolGauge("roentgen_daemon_spool_bytes", "Bytes waiting in the spool.", func(_, _ int, n int64) float64 { return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roentgen_daemon_buffered_bytes",
			Help: "Bytes of documents held in memory awaiting upload (bounded by --buffer-memory)."}, func() float64 { return float64(held()) }),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
