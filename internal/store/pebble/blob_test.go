package pebble_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// blobBytes sums the blob files of the documents LSM, where value
// separation keeps the documents themselves.
func blobBytes(t testing.TB, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "documents"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".blob") {
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			n += info.Size()
		}
	}
	return n
}

// Documents are written once to blob files at flush; dropping their
// partition must free those files too, not only the tables that point
// into them.
func TestDroppedPartitionsFreeTheirBlobFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	P := int64(store.PartitionSeconds)
	// Random padding: zstd would shrink a repeated one to nothing.
	doc := func(i int) string {
		r := rand.New(rand.NewPCG(uint64(i), 1))
		pad := make([]byte, 500)
		for j := range pad {
			pad[j] = byte(r.Uint32())
		}
		return fmt.Sprintf(`{"id":"%016x","pad":"%x"}`, i, pad)
	}
	put := func(epoch int64, from, n int) {
		var us []store.TraceUpdate
		for i := from; i < from+n; i++ {
			id := storetest.TraceID(epoch, i)
			us = append(us, store.TraceUpdate{TraceID: id, Epoch: epoch, Summary: storetest.Summary(id, epoch),
				Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", i), doc(i))}})
		}
		if err := s.Apply(ctx, us); err != nil {
			t.Fatal(err)
		}
	}
	// Separate flushes, as an hour's partition spans many in a store in
	// use: a blob file shared with kept documents stays until Pebble
	// rewrites it for its garbage.
	put(storetest.Base-2*P, 0, 2000) // ~2 MB of documents to drop
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	put(storetest.Base, 2000, 100) // to keep
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	before := blobBytes(t, dir)
	if before < 1<<20 {
		t.Fatalf("blob files hold %d bytes after 2 MB of documents: value separation is off", before)
	}
	if n, err := s.DropBefore(ctx, time.Unix(storetest.Base, 0)); err != nil || n != 1 {
		t.Fatalf("DropBefore = %d, %v", n, err)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	s.WaitForCleaning() // obsolete files go in the background (it failed once under load)
	if after := blobBytes(t, dir); after > before/5 {
		t.Errorf("blob files hold %d bytes after the drop, %d before", after, before)
	}
	if _, err := s.Trace(ctx, storetest.TraceID(storetest.Base-2*P, 5)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dropped trace: %v", err)
	}
	for _, i := range []int{2000, 2099} {
		st, err := s.Trace(ctx, storetest.TraceID(storetest.Base, i))
		if err != nil || len(st.Docs) != 1 || string(st.Docs[0].Raw) != doc(i) {
			t.Fatalf("kept trace %d: %v", i, err)
		}
	}
}

// blobFiles lists the documents LSM's blob files by name.
func blobFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "documents"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".blob") {
			out[e.Name()] = true
		}
	}
	return out
}

// Compactions of the documents LSM move keys and blob handles and leave
// the documents where their flush wrote them, however many flushes'
// tables overlap. With Pebble's reference depth at 10, a compaction whose
// inputs overlapped more than 10 blob files rewrote every document into
// new ones: by 2M segments that was most of the documents LSM's
// compaction CPU, and it grew with the store (lsm.go).
func TestCompactionsKeepDocumentsInTheirBlobFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	const flushes, perFlush = 16, 100
	body := func(i int) string {
		r := rand.New(rand.NewPCG(uint64(i), 2))
		pad := make([]byte, 300)
		for j := range pad {
			pad[j] = byte(r.Uint32())
		}
		return fmt.Sprintf(`{"id":"%016x","pad":"%x"}`, i, pad)
	}
	// Every flush's documents interleave with every other's, so their L0
	// tables all overlap: 16 sublevels, each referencing its own blob file.
	for f := range flushes {
		var us []store.TraceUpdate
		for j := range perFlush {
			i := j*flushes + f
			id := storetest.TraceID(storetest.Base, i)
			us = append(us, store.TraceUpdate{TraceID: id, Epoch: storetest.Base, Summary: storetest.Summary(id, storetest.Base),
				Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", i), body(i))}})
		}
		if err := s.Apply(ctx, us); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(blobFiles(t, dir)); n < flushes {
		t.Fatalf("%d blob files after %d flushes: value separation is off (or a compaction already rewrote them)", n, flushes)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	s.WaitForCleaning()
	// Each flush's blob file still holds its documents. (Rewritten, they
	// went to one new file and the flushes' files were deleted; listing
	// the names before the compaction would race the one Pebble starts
	// itself at 16 sublevels.)
	if n := len(blobFiles(t, dir)); n < flushes {
		t.Errorf("%d blob files after compacting %d flushes' documents: compactions rewrote them", n, flushes)
	}
	for _, i := range []int{0, 7, flushes*perFlush - 1} {
		st, err := s.Trace(ctx, storetest.TraceID(storetest.Base, i))
		if err != nil || len(st.Docs) != 1 || string(st.Docs[0].Raw) != body(i) {
			t.Fatalf("trace %d after compaction: %v", i, err)
		}
	}
}
