package daemon

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// forwarder moves sealed batches to the upstream: Concurrency uploaders
// take them from a queue bounded by the buffer memory; a batch that fails
// (after retries with backoff) goes to the spool and marks the upstream
// down, so that later batches go straight to the spool, in order, while a
// replayer probes the upstream with the oldest spooled batches and, once
// they go through, drains the spool.
type forwarder struct {
	cfg   Config
	up    *upstream
	spool spooler
	m     *metrics
	tel   *telemetry
	log   *slog.Logger

	queue  chan *batch
	held   atomic.Int64 // bytes of documents in memory: filling, queued, uploading
	budget int64
	down   atomic.Bool

	uploaders sync.WaitGroup
	replayer  sync.WaitGroup
}

func newForwarder(cfg Config, up *upstream, sp spooler, m *metrics, tel *telemetry, budget int64) *forwarder {
	return &forwarder{cfg: cfg, up: up, spool: sp, m: m, tel: tel, log: cfg.Logger, budget: budget,
		queue: make(chan *batch, 1<<14)}
}

// start runs the uploaders until the queue is closed and the replayer
// until rctx ends; uploads use ctx, which ends at the shutdown deadline.
func (f *forwarder) start(ctx, rctx context.Context) {
	for range f.cfg.Concurrency {
		f.uploaders.Add(1)
		go func() {
			defer f.uploaders.Done()
			for b := range f.queue {
				f.deliver(ctx, b)
			}
		}()
	}
	f.replayer.Add(1)
	go func() { defer f.replayer.Done(); f.replay(rctx) }()
}

// submit queues a sealed batch. Over the memory budget, the oldest queued
// batches go to the spool to make room (with no --spool-dir, the memory
// spool drops its oldest: the official daemon's spillover).
func (f *forwarder) submit(b *batch) {
	if f.down.Load() {
		f.toSpool(b)
		return
	}
	for f.held.Load() > f.budget {
		select {
		case old := <-f.queue:
			f.toSpool(old)
			continue
		default:
		}
		break
	}
	select {
	case f.queue <- b:
	default:
		f.toSpool(b)
	}
}

func (f *forwarder) release(b *batch) { f.held.Add(-int64(b.size())) }

func (f *forwarder) toSpool(b *batch) {
	f.release(b)
	if err := f.spool.append(b); err != nil {
		f.log.Error("spool write failed; batch dropped", "documents", b.len(), "err", err)
		return
	}
	f.m.spooled.Add(float64(b.len()))
}

// deliver uploads a batch, retrying transient failures with exponential
// backoff and full jitter; if they persist, it spools the batch.
func (f *forwarder) deliver(ctx context.Context, b *batch) {
	const attempts = 3
	for attempt := 0; ; attempt++ {
		if f.down.Load() || ctx.Err() != nil {
			f.toSpool(b)
			return
		}
		unprocessed, err := f.put(ctx, b)
		if err == nil {
			f.accepted(b, unprocessed)
			f.release(b)
			f.setUp(true)
			b.recycle() // nothing refers to it now: put copied it into the request body
			return
		}
		if permanent(err) {
			f.log.Error("upstream refused a batch; dropped", "documents", b.len(), "err", err)
			f.dropped(b.len(), "rejected")
			f.release(b)
			b.recycle()
			return
		}
		if attempt+1 >= attempts {
			f.log.Warn("upload failed; spooling until the upstream is back", "documents", b.len(), "err", err)
			f.setUp(false)
			f.toSpool(b)
			return
		}
		if !sleep(ctx, backoff(f.cfg.RetryBase, f.cfg.RetryMax, attempt)) {
			f.toSpool(b)
			return
		}
	}
}

func (f *forwarder) put(ctx context.Context, b *batch) ([]types.UnprocessedTraceSegment, error) {
	rctx, cancel := context.WithTimeout(ctx, f.cfg.RequestTimeout)
	defer cancel()
	start := time.Now()
	unprocessed, err := f.up.put(rctx, b)
	f.m.latency.Observe(time.Since(start).Seconds())
	if err != nil {
		f.m.uploadErrs.WithLabelValues(errorKind(err)).Inc()
		f.tel.countError(err)
	}
	return unprocessed, err
}

// accepted counts an answered batch. Documents the upstream left
// unprocessed with a retryable code go back through the spool; the rest
// are counted as rejected, as the official daemon does.
func (f *forwarder) accepted(b *batch, unprocessed []types.UnprocessedTraceSegment) {
	f.tel.sent.Add(int64(b.len()))
	f.m.uploaded.Add(float64(b.len() - len(unprocessed)))
	if len(unprocessed) == 0 {
		return
	}
	retry := map[string]bool{}
	rejected := 0
	for _, u := range unprocessed {
		if retryableCode(aws.ToString(u.ErrorCode)) && u.Id != nil {
			retry[*u.Id] = true
			continue
		}
		rejected++
		f.log.Warn("upstream rejected a segment", "id", aws.ToString(u.Id), "code", aws.ToString(u.ErrorCode), "message", aws.ToString(u.Message))
	}
	if len(retry) > 0 {
		again := &batch{}
		for i := range b.len() {
			var d struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(b.doc(i), &d) == nil && retry[d.ID] {
				again.add(b.doc(i))
				delete(retry, d.ID)
			}
		}
		rejected += len(retry) // ids not found in the batch cannot be resent
		if again.len() > 0 {
			f.held.Add(int64(again.size()))
			f.toSpool(again)
		}
	}
	if rejected > 0 {
		f.dropped(rejected, "rejected")
	}
}

func (f *forwarder) dropped(n int, reason string) {
	f.m.dropped.WithLabelValues(reason).Add(float64(n))
	if reason == "rejected" {
		f.tel.rejected.Add(int64(n))
	} else {
		f.tel.spillover.Add(int64(n))
	}
}

func (f *forwarder) setUp(up bool) {
	if f.down.Swap(!up) == up {
		if up {
			f.log.Info("upstream is back; replaying the spool")
			f.m.upstreamUp.Set(1)
		} else {
			f.m.upstreamUp.Set(0)
		}
	}
}

// replay uploads spooled batches, oldest first, Concurrency at a time;
// each is removed from the spool once the upstream has it, in order. While
// the upstream is down it probes with the oldest batch, backing off.
func (f *forwarder) replay(ctx context.Context) {
	fails := 0
	for ctx.Err() == nil {
		items := f.spool.peek(f.cfg.Concurrency)
		if len(items) == 0 {
			select {
			case <-f.spool.notify():
			case <-ctx.Done():
			}
			continue
		}
		if f.down.Load() {
			items = items[:1] // a probe
		}
		errs := make([]error, len(items))
		results := make([][]types.UnprocessedTraceSegment, len(items))
		var wg sync.WaitGroup
		for i, it := range items {
			wg.Add(1)
			go func() { defer wg.Done(); results[i], errs[i] = f.put(ctx, it.b) }()
		}
		wg.Wait()
		ok := true
		for i, it := range items {
			switch {
			case errs[i] == nil:
				f.spool.done(it.pos)
				f.m.replayed.Add(float64(it.b.len()))
				f.accepted(it.b, results[i])
			case permanent(errs[i]):
				f.log.Error("upstream refused a spooled batch; dropped", "documents", it.b.len(), "err", errs[i])
				f.spool.done(it.pos)
				f.dropped(it.b.len(), "rejected")
			default:
				ok = false
			}
			if !ok {
				break // later batches stay spooled: they are sent again in order
			}
		}
		if ok {
			fails = 0
			f.setUp(true)
			continue
		}
		f.setUp(false)
		if !sleep(ctx, backoff(f.cfg.RetryBase, f.cfg.RetryMax, fails)) {
			return
		}
		fails++
	}
}

// backoff is exponential with full jitter: uniform in [d/2, d), d doubling
// from base up to most.
func backoff(base, most time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 20)
	if d > most || d <= 0 {
		d = most
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
