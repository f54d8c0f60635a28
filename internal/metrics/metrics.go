// Package metrics is Roentgen's self-monitoring: Prometheus collectors for
// ingest, the API and the store, served on /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every collector; one per process, passed to components.
type Metrics struct {
	Registry *prometheus.Registry

	DatagramsReceived prometheus.Counter
	DatagramsRejected *prometheus.CounterVec // reason
	DatagramsDropped  prometheus.Counter     // queue full: shed under overload

	DocumentsReceived *prometheus.CounterVec // source
	DocumentsAccepted *prometheus.CounterVec // source
	DocumentsRejected *prometheus.CounterVec // source, code

	APIRequests *prometheus.CounterVec   // operation, status
	APILatency  *prometheus.HistogramVec // operation

	TelemetryRecords prometheus.Counter

	TracesSummarised prometheus.Counter // summaries written (ingest's flush)

	TracesKept *prometheus.CounterVec // policy, decision: keep policies' decisions
}

// New registers all collectors in a fresh registry. storeBytes reports the
// store's size on disk at scrape time.
func New(storeBytes func() float64) *Metrics {
	r := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m := &Metrics{
		Registry: r,
		DatagramsReceived: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roentgen_udp_datagrams_received_total", Help: "UDP datagrams read from the segment socket."}),
		DatagramsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roentgen_udp_datagrams_rejected_total", Help: "UDP datagrams dropped for a bad header, empty body or size."}, []string{"reason"}),
		DatagramsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roentgen_udp_datagrams_dropped_total", Help: "UDP datagrams shed because ingest was saturated."}),
		DocumentsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roentgen_documents_received_total", Help: "Segment documents received, by source."}, []string{"source"}),
		DocumentsAccepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roentgen_documents_accepted_total", Help: "Segment documents stored, by source."}, []string{"source"}),
		DocumentsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roentgen_documents_rejected_total", Help: "Segment documents rejected, by source and error code."}, []string{"source", "code"}),
		APIRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roentgen_api_requests_total", Help: "X-Ray API requests by operation and HTTP status."}, []string{"operation", "status"}),
		APILatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "roentgen_api_request_duration_seconds", Help: "X-Ray API request latency by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"operation"}),
		TelemetryRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roentgen_telemetry_records_total", Help: "Daemon telemetry records received via PutTelemetryRecords."}),
		TracesSummarised: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roentgen_traces_summarised_total", Help: "Trace summaries written, each once its trace was quiet (or read)."}),
		TracesKept: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roentgen_keep_decisions_total", Help: "Traces kept or dropped by keep policies, by deciding policy and decision."}, []string{"policy", "decision"}),
	}
	f(m.DatagramsReceived)
	f(m.DatagramsRejected)
	f(m.DatagramsDropped)
	f(m.DocumentsReceived)
	f(m.DocumentsAccepted)
	f(m.DocumentsRejected)
	f(m.APIRequests)
	f(m.APILatency)
	f(m.TelemetryRecords)
	f(m.TracesSummarised)
	f(m.TracesKept)
	if storeBytes != nil {
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "roentgen_store_disk_bytes", Help: "Size of the store on disk."}, storeBytes))
	}
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// WatchPending reports, at scrape time, how many traces have documents
// stored and await their summary.
func (m *Metrics) WatchPending(pending func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "roentgen_ingest_pending_traces", Help: "Traces whose stored documents await their summary."}, pending))
}

// StoreHealth is what the store reports of its own state.
type StoreHealth interface {
	Writable() bool           // takes writes now (false while the disk is full)
	WritesRefused() uint64    // writes refused for want of disk space
	CorruptSummaries() uint64 // stored summaries skipped because they did not decode
}

// WatchStore reports the store's health at scrape time.
func (m *Metrics) WatchStore(h StoreHealth) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "roentgen_store_writable", Help: "1 while the store takes writes; 0 while its disk is full (reads go on) or after a fatal store error."},
			func() float64 {
				if h.Writable() {
					return 1
				}
				return 0
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "roentgen_store_writes_refused_total", Help: "Store writes refused because its disk was full."},
			func() float64 { return float64(h.WritesRefused()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "roentgen_store_corrupt_summaries_total", Help: "Stored trace summaries skipped by reads because they did not decode."},
			func() float64 { return float64(h.CorruptSummaries()) }),
	)
}
