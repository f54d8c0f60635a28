package pebble

import (
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Pebble writes a table or blob file through a 4 KiB bufio.Writer, so a
// compressed block of 10-30 KiB goes to the kernel as two or three write
// calls, one of them 4 KiB. On this kind of VM a 4 KiB write costs ~1 ns of
// CPU a byte and a 64 KiB one ~0.25 (page-cache writes alike, the rest is
// the call), and flushes and compactions write ~650 bytes of tables and
// blob files per single-segment segment. So tables and blob files are
// written through a bigger buffer below Pebble's: every byte reaches the
// OS before the file's Sync, SyncData or Close returns, as before.
// docs/performance.md ("Tables and blob files written in 128 KiB",
// session 25).

// writeBufSize is a written table's or blob file's buffer.
const writeBufSize = 128 << 10

var writeBufs = sync.Pool{New: func() any { return new([writeBufSize]byte) }}

// buffered reports whether a created file is written through a buffer:
// tables and blob files, which Pebble writes whole, syncs and closes
// before any reader opens them. Logs (their syncs are commits) and the
// manifest are written as they come.
func buffered(name string) bool {
	return strings.HasSuffix(name, ".sst") || strings.HasSuffix(name, ".blob")
}

// bufferedFile holds a file's writes until writeBufSize bytes are waiting
// or anything but a write is asked of it.
type bufferedFile struct {
	vfs.File
	mu      sync.Mutex
	buf     *[writeBufSize]byte // nil until the first write; back in the pool at Close
	n       int                 // bytes waiting in buf
	written int64               // bytes handed to File
}

func (f *bufferedFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	done := 0
	for len(p) > done {
		if f.n == 0 && len(p)-done >= writeBufSize {
			m, err := f.File.Write(p[done:])
			f.written += int64(m)
			return done + m, err
		}
		if f.buf == nil {
			f.buf = writeBufs.Get().(*[writeBufSize]byte)
		}
		c := copy(f.buf[f.n:], p[done:])
		f.n += c
		done += c
		if f.n == writeBufSize {
			if err := f.flushLocked(); err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// flushLocked hands what is waiting to the file.
func (f *bufferedFile) flushLocked() error {
	if f.n == 0 {
		return nil
	}
	m, err := f.File.Write(f.buf[:f.n])
	f.written += int64(m)
	if m < f.n {
		// Keep what did not go, so a later flush does not skip it.
		f.n = copy(f.buf[:], f.buf[m:f.n])
		return err
	}
	f.n = 0
	return err
}

func (f *bufferedFile) flushed(fn func() error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.flushLocked(); err != nil {
		return err
	}
	return fn()
}

func (f *bufferedFile) Sync() error     { return f.flushed(f.File.Sync) }
func (f *bufferedFile) SyncData() error { return f.flushed(f.File.SyncData) }

// SyncTo asks the OS to write out a prefix: Pebble asks for one ending a
// MiB behind its writes, so it is usually in the file already.
func (f *bufferedFile) SyncTo(length int64) (full bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if length > f.written {
		if err := f.flushLocked(); err != nil {
			return false, err
		}
	}
	return f.File.SyncTo(length)
}

func (f *bufferedFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.flushLocked()
	if f.buf != nil {
		writeBufs.Put(f.buf)
		f.buf, f.n = nil, 0
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}

func (f *bufferedFile) Stat() (fi vfs.FileInfo, err error) {
	err = f.flushed(func() (err error) { fi, err = f.File.Stat(); return err })
	return fi, err
}

func (f *bufferedFile) Read(p []byte) (n int, err error) {
	err = f.flushed(func() (err error) { n, err = f.File.Read(p); return err })
	return n, err
}

func (f *bufferedFile) ReadAt(p []byte, off int64) (n int, err error) {
	err = f.flushed(func() (err error) { n, err = f.File.ReadAt(p, off); return err })
	return n, err
}

func (f *bufferedFile) WriteAt(p []byte, off int64) (n int, err error) {
	err = f.flushed(func() (err error) { n, err = f.File.WriteAt(p, off); return err })
	return n, err
}
