package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// TestSharedSummaryDecodesOnlyOthersDocuments splits a trace between two
// ingesters on one ClickHouse database: each summary decodes only the
// stored documents the process does not hold decoded with the same bytes
// (the other's, and a newer version of its own), and the final summary is
// the one an embedded Roentgen computes from the same documents.
func TestSharedSummaryDecodesOnlyOthersDocuments(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	ctx := context.Background()
	open := func() (store.Store, *ingest.Ingester) {
		st, err := clickhouse.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		in := ingest.New(ingest.Config{Store: st, FlushDelay: time.Hour, MaxFlushDelay: time.Hour})
		t.Cleanup(func() { in.Close(); st.Close() })
		return st, in
	}
	stA, inA := open()
	_, inB := open()

	at := time.Now().Add(-time.Minute)
	id := fmt.Sprintf("1-%08x-%024x", at.Unix(), 7)
	st := float64(at.Unix())
	doc := func(n int, parent, extra string) string {
		p := ""
		if parent != "" {
			p = fmt.Sprintf(`,"parent_id":%q`, parent)
		}
		return fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"svc%d","start_time":%f%s%s}`, id, n, n, st+float64(n)/10, p, extra)
	}
	rootOpen := doc(1, "", `,"in_progress":true`)
	rootDone := doc(1, "", fmt.Sprintf(`,"end_time":%f,"http":{"response":{"status":500}},"fault":true`, st+2))
	child := func(n int) string {
		return doc(n, "0000000000000001", fmt.Sprintf(`,"end_time":%f`, st+float64(n)/10+0.05))
	}
	var all []string
	step := func(in *ingest.Ingester, wantDecoded int64, docs ...string) {
		t.Helper()
		raw := make([][]byte, len(docs))
		for i, d := range docs {
			raw[i] = []byte(d)
		}
		all = append(all, docs...)
		before := in.Reparsed()
		if r := in.Ingest(ctx, raw, ingest.Options{Source: "api"}); len(r) != 0 {
			t.Fatalf("rejected: %+v", r[0].Error)
		}
		in.Sync(ctx)
		if got := in.Reparsed() - before; got != wantDecoded {
			t.Errorf("decoded %d stored documents again, want %d", got, wantDecoded)
		}
	}
	step(inA, 0, rootOpen, child(2)) // all A's own, pending
	step(inB, 2, child(3))           // A's two
	step(inA, 1, child(4))           // B's one; its own from the cache and pending
	step(inB, 1, rootDone)           // A's child 4; the rest from its cache
	step(inA, 1, child(5))           // the root B completed: same id, other bytes

	got, err := stA.Trace(ctx, id)
	if err != nil || got.Summary == nil {
		t.Fatalf("stored trace: %+v, %v", got, err)
	}
	if n := pending(t, stA); n != 0 {
		t.Errorf("%d traces still pending", n)
	}

	// One embedded Roentgen given the same documents (the complete root
	// replaces the in-progress one in both).
	if g, w := comparable(t, got.Summary), comparable(t, embeddedSummary(t, id, all)); g != w {
		t.Errorf("summary on ClickHouse\n %s\nembedded\n %s", g, w)
	}
	if got.Summary.SegmentCount != 5 || !got.Summary.HasFault {
		t.Errorf("summary has %d segments, fault %v; want 5 and the completed root's fault", got.Summary.SegmentCount, got.Summary.HasFault)
	}
}

// comparable is a summary's JSON without what differs by when and how
// often it was summarised.
func comparable(t *testing.T, s *trace.Summary) string {
	c := *s
	c.UpdatedAt, c.Revision = 0, 0
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// embeddedSummary is the summary one embedded Roentgen makes of trace id
// given docs one by one: what a shared store's summary must equal.
func embeddedSummary(t *testing.T, id string, docs []string) *trace.Summary {
	t.Helper()
	ctx := context.Background()
	emb, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(ingest.Config{Store: emb, FlushDelay: time.Hour, MaxFlushDelay: time.Hour})
	t.Cleanup(func() { in.Close(); emb.Close() })
	for _, d := range docs {
		if r := in.Ingest(ctx, [][]byte{[]byte(d)}, ingest.Options{Source: "api"}); len(r) != 0 {
			t.Fatalf("embedded rejected: %+v", r[0].Error)
		}
	}
	in.Sync(ctx)
	want, err := emb.Trace(ctx, id)
	if err != nil || want.Summary == nil {
		t.Fatalf("embedded trace: %+v, %v", want, err)
	}
	return want.Summary
}
