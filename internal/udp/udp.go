// Package udp receives segment documents as the X-Ray daemon does: one
// document per datagram behind a {"format":"json","version":1} header line
// (spec §2.1). Datagrams are batched into the shared ingest path.
package udp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// Tuning that needs no configuration: the daemon's own numbers where it has them.
const (
	readers   = 2  // the daemon's ReceiverRoutines
	workers   = 2  // ingest goroutines (one per core here)
	batchSize = 50 // documents per ingest call, as the daemon batches
	queueSize = 8192
	maxWait   = 5 * time.Millisecond
)

// Server is a UDP segment listener.
type Server struct {
	Ingest  *ingest.Ingester
	Metrics *metrics.Metrics // optional
	Logger  *slog.Logger     // optional

	conn     net.PacketConn
	queues   []chan []byte // one per worker; a trace always uses the same one
	wg       sync.WaitGroup
	readers  sync.WaitGroup
	stopping atomic.Bool
}

// drainFor is how long Stop keeps reading datagrams already in the socket
// buffer, so that a clean stop does not discard what clients sent just before.
const drainFor = 100 * time.Millisecond

// Start listens on addr and serves until Stop.
func (s *Server) Start(addr string) error {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	conn, _, err := Listen(addr, 8<<20) // absorb bursts while ingest catches up
	if err != nil {
		return err
	}
	s.conn = conn
	s.queues = make([]chan []byte, workers)
	for i := range s.queues {
		s.queues[i] = make(chan []byte, queueSize/workers)
	}
	for range readers {
		s.readers.Add(1)
		go func() { defer s.readers.Done(); s.read() }()
	}
	for _, q := range s.queues {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.work(q) }()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.readers.Wait()
		for _, q := range s.queues {
			close(q)
		}
	}()
	return nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() net.Addr { return s.conn.LocalAddr() }

// Stop reads what is already in the socket buffer, closes the socket and
// waits until every queued document is stored.
func (s *Server) Stop() error {
	s.stopping.Store(true)
	_ = s.conn.SetReadDeadline(time.Now().Add(drainFor))
	s.readers.Wait()
	err := s.conn.Close()
	s.wg.Wait()
	return err
}

func (s *Server) read() {
	buf := make([]byte, segment.MaxDatagramSize+1)
	for {
		n, _, err := s.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || (s.stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded)) {
				return
			}
			s.Logger.Warn("udp read", "err", err)
			continue
		}
		s.count(func(m *metrics.Metrics) { m.DatagramsReceived.Inc() })
		body, err := segment.SplitDatagram(buf[:n])
		if err != nil {
			reason := RejectReason(err)
			s.count(func(m *metrics.Metrics) { m.DatagramsRejected.WithLabelValues(reason).Inc() })
			s.Logger.Debug("udp datagram rejected", "reason", reason, "bytes", n)
			continue
		}
		select {
		case s.queues[shard(body, len(s.queues))] <- append([]byte(nil), body...):
		default:
			s.count(func(m *metrics.Metrics) { m.DatagramsDropped.Inc() })
		}
	}
}

// shard picks a trace's worker, so that the documents of one trace are
// stored in the order they arrived (a later version of a document replaces
// an earlier one). The trace id is found without parsing the document.
func shard(body []byte, n int) int {
	i := bytes.Index(body, []byte(`"trace_id"`))
	if i < 0 {
		return 0
	}
	rest := body[i+len(`"trace_id"`):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 && j+36 <= len(rest) {
		var h uint32 = 2166136261 // FNV-1a
		for _, c := range rest[j+1 : j+36] {
			h = (h ^ uint32(c|0x20)) * 16777619
		}
		return int(h % uint32(n))
	}
	return 0
}

// work batches queued documents into ingest calls.
func (s *Server) work(queue chan []byte) {
	batch := make([][]byte, 0, batchSize)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		s.ingest(batch)
		batch = batch[:0]
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		doc, ok := <-queue
		if !ok {
			flush()
			return
		}
		batch = append(batch, doc)
		timer.Reset(maxWait)
	fill:
		for len(batch) < batchSize {
			select {
			case doc, ok = <-queue:
				if !ok {
					break fill
				}
				batch = append(batch, doc)
			case <-timer.C:
				break fill
			}
		}
		flush()
		if !ok {
			return
		}
	}
}

// ingest stores one batch. A bug that panics on some document must cost
// that batch, not the listener.
func (s *Server) ingest(batch [][]byte) {
	defer func() {
		if p := recover(); p != nil {
			s.Logger.Error("udp ingest panicked; batch dropped", "documents", len(batch), "panic", p)
			s.count(func(m *metrics.Metrics) {
				m.DatagramsRejected.WithLabelValues("internal_error").Add(float64(len(batch)))
			})
		}
	}()
	for _, r := range s.Ingest.Ingest(context.Background(), batch, ingest.Options{Source: "udp"}) {
		s.Logger.Debug("udp document rejected", "id", r.ID, "code", r.Code, "message", r.Message)
	}
}

func (s *Server) count(f func(*metrics.Metrics)) {
	if s.Metrics != nil {
		f(s.Metrics)
	}
}
