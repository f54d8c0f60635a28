package ingest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// racingStore is a ClickHouse store whose batch read of traces to
// summarise runs a hook once it has read, and which says when a lease was
// refused: a test interleaves two processes' summaries there.
type racingStore struct {
	*clickhouse.Store
	afterRead func()
	refused   chan struct{}
}

func (s *racingStore) Traces(ctx context.Context, ids []string) (map[string]*store.StoredTrace, error) {
	out, err := s.Store.Traces(ctx, ids)
	if f := s.afterRead; f != nil {
		s.afterRead = nil
		f()
	}
	return out, err
}

func (s *racingStore) LeaseTraces(ctx context.Context, ids []string) ([]string, error) {
	got, err := s.Store.LeaseTraces(ctx, ids)
	if err == nil && len(got) < len(ids) && s.refused != nil {
		select {
		case s.refused <- struct{}{}:
		default:
		}
	}
	return got, err
}

// TestTwoProcessesSummarisingOneTraceCountItOnce splits a trace's segments
// between two ingesters on one ClickHouse database and makes the second
// summarise the trace while the first is between reading it and storing
// its summary: the second must wait for the first (the trace's lease), so
// the service graph counts each request once.
func TestTwoProcessesSummarisingOneTraceCountItOnce(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	ctx := context.Background()
	open := func() (*racingStore, *ingest.Ingester, *graph.Aggregator) {
		st, err := clickhouse.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		rs := &racingStore{Store: st}
		agg := graph.NewAggregator(graph.AggregatorConfig{Store: rs})
		in := ingest.New(ingest.Config{Store: rs, FlushDelay: time.Hour, MaxFlushDelay: time.Hour})
		in.AddDeriver(agg.Prepare)
		t.Cleanup(func() { in.Close(); st.Close() })
		return rs, in, agg
	}
	stA, inA, agg := open()
	stB, inB, _ := open()
	stB.refused = make(chan struct{}, 1)

	now := time.Now().Add(-time.Minute)
	id := fmt.Sprintf("1-%08x-%024x", now.Unix(), 1)
	st := float64(now.Unix())
	front := fmt.Sprintf(`{"trace_id":%q,"id":"0000000000000001","name":"front","start_time":%f,"end_time":%f,`+
		`"subsegments":[{"id":"0000000000000002","name":"back","namespace":"remote","start_time":%f,"end_time":%f}]}`, id, st, st+1, st+0.1, st+0.9)
	back := fmt.Sprintf(`{"trace_id":%q,"id":"0000000000000003","parent_id":"0000000000000002","name":"back","start_time":%f,"end_time":%f}`,
		id, st+0.1, st+0.8)
	for _, p := range []struct {
		in  *ingest.Ingester
		doc string
	}{{inA, front}, {inB, back}} {
		if r := p.in.Ingest(ctx, [][]byte{[]byte(p.doc)}, ingest.Options{Source: "api"}); len(r) != 0 {
			t.Fatalf("rejected: %+v", r[0].Error)
		}
	}

	var wg sync.WaitGroup
	stA.afterRead = func() {
		// A holds the trace and has read it: B's summary starts now,
		// and is refused until A has stored its own.
		done := make(chan struct{})
		wg.Add(1)
		go func() { defer wg.Done(); inB.Sync(ctx); close(done) }()
		select {
		case <-stB.refused:
		case <-done: // B summarised the trace under A's feet
		}
	}
	inA.Sync(ctx)
	wg.Wait()
	if n := pending(t, stA); n != 0 {
		t.Errorf("%d traces still pending", n)
	}

	from := now.Unix() - now.Unix()%60
	g, err := agg.ServiceGraph(ctx, graph.DefaultGroup, from-60, from+120)
	if err != nil {
		t.Fatal(err)
	}
	svcs := g.Services(float64(from-60), float64(from+120))
	counts := map[string]int64{}
	for _, s := range svcs {
		if s.SummaryStatistics != nil {
			counts[s.Name] = s.SummaryStatistics.TotalCount
		}
	}
	if counts["front"] != 1 || counts["back"] != 1 {
		t.Errorf("requests counted per service = %v, want front 1 and back 1", counts)
	}
}

func pending(t *testing.T, s store.Store) int {
	t.Helper()
	n := 0
	if err := s.Pending(context.Background(), func(string) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	return n
}
