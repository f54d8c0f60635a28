package pebble

import (
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
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
