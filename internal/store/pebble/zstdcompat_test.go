package pebble_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// The default build has no cgo, so Pebble compresses with the pure-Go zstd
// (klauspost/compress); stores written before compressed with the C
// library (DataDog/zstd). Both write standard zstd frames: testdata/zstd-cgo
// is a store written by the cgo build, fully compacted so that every LSM's
// tables and the documents' blob files are zstd, and it must read whole.
// ROENTGEN_WRITE_ZSTD_FIXTURE=1 rewrites it (with the build at hand).
func TestReadsStoreCompressedByTheOtherZstd(t *testing.T) {
	const traces, docs = 40, 5
	fixture := filepath.Join("testdata", "zstd-cgo")
	docBody := func(tr, d int) string {
		r := rand.New(rand.NewPCG(uint64(tr), uint64(d)))
		// Over 256 bytes, so that it goes to a blob file, and compressible.
		return fmt.Sprintf(`{"id":"%016x","name":"svc-%d","pad":"%x","http":%s}`, d, r.IntN(5), r.Uint64(),
			strings.Repeat(`{"request":{"method":"GET","url":"https://example.com/"}},`, 4+r.IntN(4))+"null")
	}
	ctx := context.Background()
	if os.Getenv("ROENTGEN_WRITE_ZSTD_FIXTURE") != "" {
		os.RemoveAll(fixture)
		s := open(t, fixture)
		for i := range traces {
			id := storetest.TraceID(storetest.Base+int64(i), i)
			var ds []store.Doc
			for d := range docs {
				ds = append(ds, storetest.Doc(fmt.Sprintf("%016x", d), docBody(i, d)))
			}
			storetest.Put(t, s, storetest.Summary(id, storetest.Base+int64(i)), ds...)
		}
		if err := s.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(fixture)); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir)
	defer s.Close()
	for i := range traces {
		id := storetest.TraceID(storetest.Base+int64(i), i)
		tr, err := s.Trace(ctx, id)
		if err != nil {
			t.Fatalf("trace %s: %v", id, err)
		}
		if tr.Summary == nil || len(tr.Docs) != docs {
			t.Fatalf("trace %s: summary %v, %d documents", id, tr.Summary != nil, len(tr.Docs))
		}
		for d, doc := range tr.Docs {
			if string(doc.Raw) != docBody(i, d) {
				t.Fatalf("trace %s document %d: %s", id, d, doc.Raw)
			}
		}
	}
	n := 0
	if err := s.Summaries(ctx, store.SummaryQuery{From: storetest.Base, To: storetest.Base + traces}, func(*trace.Summary) bool { n++; return true }); err != nil || n != traces {
		t.Fatalf("%d summaries, %v", n, err)
	}
}
