package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

// failingDocs is the real store whose PutDocs fails while fail is set, as
// a full disk would make it.
type failingDocs struct {
	*pebble.Store
	fail atomic.Bool
}

func (f *failingDocs) PutDocs(ctx context.Context, puts []store.DocPut) error {
	if f.fail.Load() {
		return errors.New("no space left on device")
	}
	return f.Store.PutDocs(ctx, puts)
}

// Documents the store could not take are rejected, each with a code the
// client can retry on, and leave nothing behind: no trace, no summary
// pending. Once the store recovers, the same documents go in.
func TestDocumentsTheStoreRefusesAreRejected(t *testing.T) {
	pst, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pst.Close() })
	st := &failingDocs{Store: pst}
	in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(in.Close)
	ctx := context.Background()
	id := traceID(40)
	docs := [][]byte{[]byte(seg(id, "aaaaaaaaaaaaaaaa", "svc", "")), []byte(seg(id, "bbbbbbbbbbbbbbbb", "svc", ""))}

	st.fail.Store(true)
	r := in.Ingest(ctx, docs, ingest.Options{Source: "api"})
	if len(r) != 2 {
		t.Fatalf("rejections = %+v, want both documents", r)
	}
	for _, x := range r {
		if x.Code != ingest.CodeInternal || x.ID == "" {
			t.Errorf("rejection %+v, want %s with the document's id", x, ingest.CodeInternal)
		}
	}
	in.Sync(ctx)
	if _, err := pst.Trace(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused trace was stored: %v", err)
	}
	n := 0
	if err := pst.Pending(ctx, func(string) bool { n++; return true }); err != nil || n != 0 {
		t.Fatalf("%d traces left pending (%v)", n, err)
	}

	st.fail.Store(false)
	if r := in.Ingest(ctx, docs, ingest.Options{Source: "api"}); len(r) != 0 {
		t.Fatalf("after recovery: rejections %+v", r)
	}
	in.Sync(ctx, id)
	got, err := pst.Trace(ctx, id)
	if err != nil || len(got.Docs) != 2 || got.Summary == nil || got.Summary.SegmentCount != 2 {
		t.Fatalf("after recovery: %+v, %v", got, err)
	}
}

// A call holding two versions of one document, complete then in progress,
// keeps the complete one; when the store then refuses it, the in-progress
// version is refused too: acknowledged, it would have been stored nowhere
// (the model, seed 1796520090651685589, found it missing).
func TestSupersededVersionOfARefusedDocumentIsRejected(t *testing.T) {
	pst, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pst.Close() })
	st := &failingDocs{Store: pst}
	in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(in.Close)
	ctx := context.Background()
	id := traceID(41)
	complete := seg(id, "aaaaaaaaaaaaaaaa", "svc", "")
	inProgress := fmt.Sprintf(`{"trace_id":%q,"id":"aaaaaaaaaaaaaaaa","name":"svc","start_time":%f,"in_progress":true}`, id, t0)

	st.fail.Store(true)
	r := in.Ingest(ctx, [][]byte{[]byte(complete), []byte(inProgress)}, ingest.Options{Source: "api"})
	got := map[int]bool{}
	for _, x := range r {
		if x.Code != ingest.CodeInternal || got[x.Index] {
			t.Errorf("rejection %+v: want one %s per document", x, ingest.CodeInternal)
		}
		got[x.Index] = true
	}
	if !got[0] || !got[1] {
		t.Fatalf("rejections = %+v, want both versions refused", r)
	}
	st.fail.Store(false)
	if r := in.Ingest(ctx, [][]byte{[]byte(inProgress)}, ingest.Options{Source: "api"}); len(r) != 0 {
		t.Fatalf("the retried document: %+v", r)
	}
	in.Sync(ctx)
	tr, err := pst.Trace(ctx, id)
	if err != nil || len(tr.Docs) != 1 || string(tr.Docs[0].Raw) != inProgress {
		t.Fatalf("stored after the retry: %+v, %v; want the in-progress version", tr, err)
	}
}
