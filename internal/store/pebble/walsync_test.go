package pebble

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

type countingFS struct {
	vfs.FS
	syncs *atomic.Int32
}

func (fs countingFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return countingFile{f, fs.syncs}, err
}

type countingFile struct {
	vfs.File
	syncs *atomic.Int32
}

func (f countingFile) SyncData() error { f.syncs.Add(1); return f.File.SyncData() }

// Logs skip their syncs unless a durable write is committing; other files
// always sync.
func TestWALSyncsOnlyWhenDurable(t *testing.T) {
	syncs := new(atomic.Int32)
	fs := walFS{FS: countingFS{vfs.NewMem(), syncs}, durable: new(atomic.Int32)}
	log, err := fs.Create("000001.log", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if err := log.SyncData(); err != nil || syncs.Load() != 0 {
		t.Fatalf("log sync reached the file: %d syncs, %v", syncs.Load(), err)
	}
	if err := fs.syncingDurably(log.SyncData); err != nil || syncs.Load() != 1 {
		t.Fatalf("durable log sync: %d syncs, %v", syncs.Load(), err)
	}
	table, err := fs.Create("000002.sst", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if err := table.SyncData(); err != nil || syncs.Load() != 2 {
		t.Fatalf("table sync: %d syncs, %v", syncs.Load(), err)
	}
}

// What a killed process leaves is what its files hold in the OS: an
// acknowledged PutDocs must be there while the store is still open, its
// log records handed to the OS by the commit's sync at the latest, however
// the log's writes are buffered (TestBinarySIGKILLKeepsAcknowledgedData
// kills a real server).
func TestAcknowledgedWritesInTheOSBeforeClose(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Commits of a kilobyte to several 32 KiB log blocks (of documents
	// small enough to keep blob blocks within 64 KiB: TestBlobBlocksSkipZstdsHistory
	// reads the whole process's memory profile).
	docs := []int{1, 5, 40, 70, 130, 2}
	for i, n := range docs {
		if err := s.PutDocs(context.Background(), []store.DocPut{docPut(testTraceID(i), n, 1000)}); err != nil {
			t.Fatal(err)
		}
	}
	killed := t.TempDir()
	if err := os.CopyFS(killed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	c, err := Open(killed, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, n := range docs {
		assertDocs(t, c, testTraceID(i), n)
	}
}
