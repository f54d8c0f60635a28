package pebble

import (
	"os"
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Acknowledged writes must survive the process (a crash, SIGKILL, the OOM
// killer): their write-ahead log records must be in the OS before the
// write returns. Pebble gives no such commit. Without Sync it returns with
// the record in the log's 32 KiB user-space block, written out when the
// block fills: a SIGKILL right after PutTraceSegments answered lost every
// segment of it (TestBinarySIGKILLKeepsAcknowledgedData). With Sync it
// writes the block out and then fsyncs, a disk flush per commit group.
//
// So ingest commits with Sync, and the logs this FS hands out skip the
// fsync: records reach the OS, which keeps them through a crash of the
// process, not of the machine; a clean Close flushes every memtable into
// synced tables. Writes that must reach the disk itself (metadata: sampling
// rules, groups) hold durable while they commit, and every log sync in that
// time is real. Tables and the MANIFEST are synced as Pebble does.
type walFS struct {
	vfs.FS
	durable *atomic.Int32 // > 0: a write that must reach the disk is committing
	space   *space        // every write waits for space rather than fail (space.go)
}

func newWALFS(sp *space) walFS { return walFS{FS: vfs.Default, durable: new(atomic.Int32), space: sp} }

// syncingDurably runs commit with every log sync real.
func (fs walFS) syncingDurably(commit func() error) error {
	fs.durable.Add(1)
	defer fs.durable.Add(-1)
	return commit()
}

func (fs walFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return f, err
	}
	f = spaceFile{File: f, path: name, sp: fs.space}
	if !strings.HasSuffix(name, ".log") {
		return f, nil
	}
	return walFile{File: f, durable: fs.durable}, nil
}

func (fs walFS) Create(name string, c vfs.DiskWriteCategory) (f vfs.File, err error) {
	err = fs.space.retry(name, func() (err error) { f, err = fs.FS.Create(name, c); return err })
	f, err = fs.wrap(name, f, err)
	if err == nil && buffered(name) {
		f = &bufferedFile{File: f}
	}
	return f, err
}

func (fs walFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (f vfs.File, err error) {
	err = fs.space.retry(newname, func() (err error) { f, err = fs.FS.ReuseForWrite(oldname, newname, c); return err })
	return fs.wrap(newname, f, err)
}

func (fs walFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (f vfs.File, err error) {
	err = fs.space.retry(name, func() (err error) { f, err = fs.FS.OpenReadWrite(name, c, opts...); return err })
	return fs.wrap(name, f, err)
}

func (fs walFS) Link(oldname, newname string) error {
	return fs.space.retry(newname, func() error { return fs.FS.Link(oldname, newname) })
}

func (fs walFS) Rename(oldname, newname string) error {
	return fs.space.retry(newname, func() error { return fs.FS.Rename(oldname, newname) })
}

func (fs walFS) MkdirAll(dir string, perm os.FileMode) error {
	return fs.space.retry(dir, func() error { return fs.FS.MkdirAll(dir, perm) })
}

// walFile is a write-ahead log whose syncs stop at the OS unless a durable
// write is committing.
type walFile struct {
	vfs.File
	durable *atomic.Int32
}

func (f walFile) Sync() error {
	if f.durable.Load() > 0 {
		return f.File.Sync()
	}
	return nil
}

func (f walFile) SyncData() error {
	if f.durable.Load() > 0 {
		return f.File.SyncData()
	}
	return nil
}

func (f walFile) SyncTo(length int64) (bool, error) {
	if f.durable.Load() > 0 {
		return f.File.SyncTo(length)
	}
	return false, nil
}

// Preallocate does nothing for a write-ahead log: Pebble reserves 110% of a
// memtable for each log up front, ~1.2 GB on disk across the three LSMs
// before any traffic. The log grows with what is written instead.
func (f walFile) Preallocate(off, length int64) error { return nil }
