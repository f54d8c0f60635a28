package app

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// On a shared store (several processes on one ClickHouse database) the
// groups and sampling rules another process changed must be what this one
// answers and summarises with: they are read again from the store before
// every API operation that depends on them, and before each batch of
// summaries is matched against the groups.

// metaReaders are the API paths answered from the groups or the sampling
// rules.
var metaReaders = map[string]bool{
	"/TraceSummaries": true, "/ServiceGraph": true, "/TraceGraph": true, "/TimeSeriesServiceStatistics": true,
	"/CreateGroup": true, "/GetGroup": true, "/Groups": true, "/UpdateGroup": true, "/DeleteGroup": true,
	"/GetSamplingRules": true, "/CreateSamplingRule": true, "/UpdateSamplingRule": true, "/DeleteSamplingRule": true,
	"/SamplingTargets": true, "/SamplingStatisticSummaries": true,
	"/TagResource": true, "/UntagResource": true, "/ListTagsForResource": true,
	"/roentgen/TraceAggregates": true,
}

// metaRefresher reloads the groups and rules, coalescing concurrent calls:
// a caller waits for, and reuses, a reload that started after it asked.
type metaRefresher struct {
	reload func(context.Context) error
	mu     sync.Mutex
	last   time.Time // when the newest completed reload started
}

// since reloads unless a reload that started at or after t has completed.
func (r *metaRefresher) since(ctx context.Context, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.last.Before(t) {
		return
	}
	start := time.Now()
	if r.reload(ctx) == nil {
		r.last = start
	}
}

// apiHandler is the API, behind the refresh on a shared store.
func (a *App) apiHandler() http.Handler {
	if !store.IsShared(a.store) {
		return a.api
	}
	r := &metaRefresher{reload: func(ctx context.Context) error {
		if err := a.svc.Groups.Refresh(ctx); err != nil {
			a.log.Warn("reload groups from the shared store; answering with the last ones read", "err", err)
			return err
		}
		if err := a.svc.Sampling.Refresh(ctx); err != nil {
			a.log.Warn("reload sampling rules from the shared store; answering with the last ones read", "err", err)
			return err
		}
		return nil
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if metaReaders[strings.TrimSuffix(req.URL.Path, "/")] {
			r.since(req.Context(), time.Now())
		}
		a.api.ServeHTTP(w, req)
	})
}

// refreshBeforeSummaries registers, on a shared store, a deriver that runs
// before the graph's: the groups a summary is counted under are those
// stored when its batch is summarised.
func (a *App) refreshBeforeSummaries() {
	if !store.IsShared(a.store) {
		return
	}
	r := &metaRefresher{reload: func(ctx context.Context) error {
		err := a.svc.Groups.Refresh(ctx)
		if err != nil {
			a.log.Warn("reload groups from the shared store; matching summaries against the last ones read", "err", err)
		}
		return err
	}}
	a.ingest.AddDeriver(func([]store.TraceUpdate) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r.since(ctx, time.Now())
	})
}

// Traces a process acknowledged and then died before summarising stay
// pending in the shared store; the others summarise them (Ingester.Adopt).
// A live process summarises a trace within MaxFlushDelay (10 s), so one
// pending for adoptAfter is taken as orphaned; if its process is only slow,
// the trace's lease keeps the two from summarising it at once.
const (
	adoptEvery = 10 * time.Second
	adoptAfter = 20 * time.Second
)

// On a shared store a process's start does not wait for Recover: its
// question (every pending mark of the database, grouped by trace) grows
// with the database (14 s at 1M traces on ClickHouse 18.16), and the
// other processes serve meanwhile anyway. A read by trace id summarises
// what it names at once (syncedTraces); searches find the recovered
// traces once this first pass is done.
func (a *App) startAdopting() {
	if !store.IsShared(a.store) {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-a.done: // Stop does not wait for the scan
				cancel()
			case <-ctx.Done():
			}
		}()
		a.recoverPending(ctx)
	}()
	a.every(adoptEvery, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if n, err := a.ingest.Adopt(ctx, time.Now().Add(-adoptAfter)); err != nil {
			a.log.Error("summarise traces other processes left pending", "err", err)
		} else if n > 0 {
			a.log.Info("summarised traces other processes left pending", "traces", n)
		}
	})
}

// recoverPending summarises the traces the store holds as pending
// (Ingester.Recover).
func (a *App) recoverPending(ctx context.Context) {
	if n, err := a.ingest.Recover(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("summarise pending traces", "err", err)
	} else if n > 0 {
		a.log.Info("summarised traces left pending by the last run", "traces", n)
	}
}
