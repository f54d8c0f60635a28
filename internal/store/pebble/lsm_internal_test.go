package pebble

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable/blob"
	"github.com/cockroachdb/pebble/v2/sstable/block"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// separatedByTable counts an LSM's values by the first byte of their keys:
// in a blob file (the iterator hands out a handle to fetch) or inline.
func separatedByTable(t *testing.T, db *pebble.DB) (blobs, inline map[byte]int) {
	t.Helper()
	it, err := db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	blobs, inline = map[byte]int{}, map[byte]int{}
	for it.First(); it.Valid(); it.Next() {
		if lv := it.LazyValue(); lv.Fetcher != nil {
			blobs[it.Key()[0]]++
		} else {
			inline[it.Key()[0]]++
		}
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return blobs, inline
}

var blobBlockRE = regexp.MustCompile(`(?m)^block \d+: offset=(\d+) length=(\d+)$`)

// blobCodecs counts the value blocks of the blob files in dir by the codec
// each was written with: the byte after a block is its compression
// indicator (block trailer), and Pebble's layout of a file lists where its
// blocks lie.
func blobCodecs(t *testing.T, dir string) map[block.CompressionIndicator]int {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.blob"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[block.CompressionIndicator]int{}
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := vfs.Default.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		readable, err := objstorageprovider.NewFileReadable(f, vfs.Default, objstorageprovider.NewReadaheadConfig(), name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := blob.NewFileReader(context.Background(), readable, blob.FileReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		layout, err := r.Layout()
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		blocks := blobBlockRE.FindAllStringSubmatch(layout, -1)
		if len(blocks) == 0 {
			t.Fatalf("%s: no value blocks in its layout:\n%s", name, layout)
		}
		for _, m := range blocks {
			off, _ := strconv.Atoi(m[1])
			n, _ := strconv.Atoi(m[2])
			out[block.CompressionIndicator(raw[off+n])]++
		}
	}
	return out
}

// Summaries go to the main LSM's blob files at the flush, compressed with
// zstd (the codec a blob file keeps for good), and compactions leave them
// there; statistics, metadata and aliases, read by key, stay in the
// tables however large; the documents LSM keeps its pending marks inline.
func TestSummariesGoToZstdBlobFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const flushes, perFlush = 4, 200
	var hist graph.Histogram
	for ms := range 300 {
		hist = append(hist, graph.Bin{Ms: int64(ms * 7), Count: int64(ms + 1)})
	}
	stat := (&graph.Stats{OK: hist.Total(), Response: hist}).Encode()
	if len(stat) < 256 {
		t.Fatalf("a statistics record of %d bytes would stay inline anyway", len(stat))
	}
	bigMeta := bytes.Repeat([]byte("insights state "), 40)
	for f := range flushes {
		var us []store.TraceUpdate
		for j := range perFlush {
			i := f*perFlush + j
			id := storetest.TraceID(storetest.Base+int64(i), i)
			sum := storetest.Summary(id, storetest.Base+int64(i))
			for n := range 8 { // a summary well over MinimumSize
				sum.Nodes = append(sum.Nodes, trace.Node{NodeID: trace.NodeID{Name: fmt.Sprintf("checkout-service-%d", n), Type: "AWS::ECS::Container"}})
			}
			us = append(us, store.TraceUpdate{TraceID: id, Epoch: sum.Epoch, Summary: sum,
				Docs: []store.Doc{storetest.Doc(fmt.Sprintf("%016x", i), fmt.Sprintf(`{"id":"%016x","pad":"%s"}`, i, strings.Repeat("ab", 200)))}})
		}
		if err := s.Apply(ctx, us); err != nil {
			t.Fatal(err)
		}
		key := store.StatKey{Resolution: 60, Bucket: storetest.Base + int64(f)*60, Group: "Default", Entity: "checkout"}
		if err := s.AddStats(ctx, []store.StatRecord{{StatKey: key, Value: stat}}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutMeta(ctx, "insights", fmt.Sprint(f), bigMeta); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		blobs, inline := separatedByTable(t, s.main)
		if blobs[summaryTable] != flushes*perFlush || inline[summaryTable] != 0 {
			t.Errorf("%s: %d summaries in blob files, %d inline; want all %d in blob files", when,
				blobs[summaryTable], inline[summaryTable], flushes*perFlush)
		}
		delete(blobs, summaryTable)
		if len(blobs) != 0 {
			t.Errorf("%s: values other than summaries in blob files, by table: %v", when, blobs)
		}
		if inline[statTable] == 0 || inline[metaTable] == 0 {
			t.Errorf("%s: statistics or metadata missing from the tables: %v", when, inline)
		}
		docBlobs, docInline := separatedByTable(t, s.docs)
		for table, n := range docBlobs {
			if table != 't' {
				t.Errorf("%s: %d values of the documents LSM's table %q in blob files", when, n, table)
			}
		}
		if docBlobs['t'] != flushes*perFlush {
			t.Errorf("%s: %d documents in blob files, want %d (inline by table: %v)", when, docBlobs['t'], flushes*perFlush, docInline)
		}
		codecs := blobCodecs(t, dir)
		if len(codecs) == 0 {
			t.Fatalf("%s: the main LSM has no blob files", when)
		}
		for c, n := range codecs {
			if c != block.ZstdCompressionIndicator {
				t.Errorf("%s: %d blocks of the main LSM's blob files written with %v, not zstd", when, n, c)
			}
		}
	}
	check("flushed")
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	s.WaitForCleaning()
	check("compacted")
	for _, i := range []int{0, flushes*perFlush - 1} {
		id := storetest.TraceID(storetest.Base+int64(i), i)
		sum, err := s.summary(storetest.Base+int64(i), id)
		if err != nil || len(sum.Nodes) != 9 {
			t.Fatalf("summary %d after compaction: %v, %+v", i, err, sum)
		}
	}
	got, err := s.GetMeta(ctx, "insights", "0")
	if err != nil || !bytes.Equal(got, bigMeta) {
		t.Fatalf("metadata after compaction: %v", err)
	}
}
