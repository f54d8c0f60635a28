package pebble

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// A full disk must cost writes, not the process. Pebble treats a failed
// write of its log or manifest as fatal (the process used to panic, and a
// restart on the still-full disk hung), so the store keeps Pebble from ever
// seeing ENOSPC:
//
//   - New documents and metadata are admitted only while the file system
//     has more than a reserve free (statfs before every write). Below it
//     they are refused at once with store.ErrDiskFull: nothing of them is
//     written, so nothing refused is lost and nothing admitted is. The
//     reserve is for what is owed to data already acknowledged: its
//     summaries (Apply), retention's deletions, Pebble's flushes and
//     compactions; those go on while at least minFree is left.
//   - A file write that meets ENOSPC anyway (another process took the
//     reserve) waits and retries until space comes back instead of
//     failing: Pebble sees a slow disk, never a failed one, and the writes
//     refused meanwhile keep new work off the blocked LSM.
//   - Writes resume by themselves once statfs shows the reserve and half
//     again free (the margin keeps them from flapping at the threshold).
//
// Reads go on throughout: they write nothing.

// DefaultReserveBytes is the free space below which writes are refused.
const DefaultReserveBytes = 256 << 20

// defaultReserve is DefaultReserveBytes, or an eighth of a file system too
// small for it.
func defaultReserve(dir string) uint64 {
	_, total, err := diskSpace(dir)
	if err != nil {
		return DefaultReserveBytes
	}
	return min(DefaultReserveBytes, total/8)
}

// spaceRetry is how often a file write that met ENOSPC tries again.
const spaceRetry = 100 * time.Millisecond

type space struct {
	dir     string
	reserve uint64
	log     *slog.Logger

	mu      sync.Mutex // serialises state changes and their log lines
	full    atomic.Bool
	blocked atomic.Int32 // file writes waiting for space
	refused atomic.Uint64
	closed  chan struct{}
	once    sync.Once

	// onBlocked, if set, is called each time a file write meets ENOSPC
	// (tests wait on it).
	onBlocked func()
}

func newSpace(dir string, reserve uint64, log *slog.Logger) *space {
	return &space{dir: dir, reserve: reserve, log: log, closed: make(chan struct{})}
}

// available is the space unprivileged writers may use on the store's file
// system.
func (sp *space) available() (uint64, error) {
	avail, _, err := diskSpace(sp.dir)
	return avail, err
}

// admit decides whether a write may go ahead, and counts and explains a
// refusal.
func (sp *space) admit() error {
	if sp.check() {
		return nil
	}
	sp.refused.Add(1)
	return fmt.Errorf("%w: less than %d MiB free for the store in %s; writes resume once space is freed",
		store.ErrDiskFull, sp.reserve>>20, sp.dir)
}

// minFree is the space below which even owed writes wait.
const minFree = 1 << 20

// admitAny admits a write owed to acknowledged data, or one that frees
// space (retention), while minFree is left.
func (sp *space) admitAny() error {
	if avail, err := sp.available(); err == nil && avail < minFree {
		sp.refused.Add(1)
		return fmt.Errorf("%w: %d bytes free in %s", store.ErrDiskFull, avail, sp.dir)
	}
	return nil
}

// check re-reads the free space and reports whether writes are admitted.
func (sp *space) check() bool {
	avail, err := sp.available()
	if err != nil {
		// statfs failing says nothing about space; let Pebble decide.
		return !sp.full.Load()
	}
	if avail >= sp.reserve && !sp.full.Load() {
		return true // the common case, without the lock
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.full.Load() {
		if avail >= sp.reserve+sp.reserve/2 && sp.blocked.Load() == 0 {
			sp.full.Store(false)
			sp.log.Warn("store: disk space is back; writes resume", "dir", sp.dir, "available_bytes", avail)
		}
	} else if avail < sp.reserve {
		sp.full.Store(true)
		sp.log.Warn("store: disk nearly full; writes are refused until space is freed, reads go on",
			"dir", sp.dir, "available_bytes", avail, "reserve_bytes", sp.reserve)
	}
	return !sp.full.Load()
}

// waitForSpace is called by a file write that met ENOSPC: it marks the
// store full and waits before the write tries again. It returns false once
// the store is closing, when the error goes to Pebble after all.
func (sp *space) waitForSpace(path string) bool {
	sp.mu.Lock()
	if !sp.full.Load() {
		sp.full.Store(true)
		sp.log.Warn("store: disk full; writes are refused until space is freed, reads go on", "dir", sp.dir, "file", path)
	}
	sp.mu.Unlock()
	if sp.onBlocked != nil {
		sp.onBlocked()
	}
	select {
	case <-sp.closed:
		return false
	case <-time.After(spaceRetry):
		return true
	}
}

func (sp *space) close() { sp.once.Do(func() { close(sp.closed) }) }

func isENOSPC(err error) bool {
	if err == nil {
		return false // without errors.As, whose target escapes: every write asks
	}
	var errno syscall.Errno
	return errors.As(err, &errno) && isNoSpaceErrno(errno)
}

// retry runs op until it stops failing with ENOSPC (or the store closes).
func (sp *space) retry(path string, op func() error) error {
	err := op()
	if sp == nil || !isENOSPC(err) {
		return err
	}
	sp.blocked.Add(1)
	defer sp.blocked.Add(-1)
	for isENOSPC(err) && sp.waitForSpace(path) {
		err = op()
	}
	return err
}

// spaceFile is a file whose writes wait for space rather than fail.
type spaceFile struct {
	vfs.File
	path string
	sp   *space
}

func (f spaceFile) Write(p []byte) (int, error) {
	n := 0
	err := f.sp.retry(f.path, func() error {
		// A short write before ENOSPC went to the file: go on after it.
		m, err := f.File.Write(p[n:])
		n += m
		return err
	})
	return n, err
}

func (f spaceFile) WriteAt(p []byte, off int64) (int, error) {
	n := 0
	err := f.sp.retry(f.path, func() error {
		m, err := f.File.WriteAt(p[n:], off+int64(n))
		n += m
		return err
	})
	return n, err
}

// Preallocate is advice: without the space, the writes that follow wait
// for it instead.
func (f spaceFile) Preallocate(off, length int64) error {
	if err := f.File.Preallocate(off, length); err != nil && !isENOSPC(err) {
		return err
	}
	return nil
}

// write runs a write of the store: refused with store.ErrDiskFull while
// space is short (or store.ErrUnavailable after a fatal error), it first
// makes a store opened read-only writable if space is back.
func (s *Store) write(fn func() error) error {
	return s.writeIf(s.space.admit, fn)
}

func (s *Store) writeIf(admit func() error, fn func() error) (err error) {
	if fe := s.failed.Load(); fe != nil {
		return fmt.Errorf("%w: %v; restart Roentgen", store.ErrUnavailable, fe)
	}
	if err := admit(); err != nil {
		return err
	}
	if s.readOnly.Load() {
		// Opening for writing writes (logs replayed into tables, a new
		// log): only once the reserve is back, whatever this write is.
		if err := s.space.admit(); err != nil {
			return err
		}
		if err := s.reopenWritable(); err != nil {
			return err
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	// Pebble's fatal errors panic (logging.go). On this goroutine, one
	// leaves Pebble unusable for writes but not for reads: refuse writes
	// from now on and keep serving.
	defer func() {
		if r := recover(); r != nil {
			fe, ok := r.(fatalError)
			if !ok {
				panic(r)
			}
			s.failed.Store(&fe)
			err = fmt.Errorf("%w: %v; restart Roentgen", store.ErrUnavailable, fe)
		}
	}()
	return fn()
}

// read runs a read of the store under its read lock.
func (s *Store) read() func() {
	s.mu.RLock()
	return s.mu.RUnlock
}

// reopenWritable replaces the read-only LSMs of a store opened on a full
// disk with writable ones. Pebble lets one DB at a time hold a directory's
// lock, so reads wait while the LSMs reopen (a replay of their logs, once).
// Should the writable open fail, the store goes back to read-only.
func (s *Store) reopenWritable() error {
	s.reopenMu.Lock()
	defer s.reopenMu.Unlock()
	if !s.readOnly.Load() {
		return nil
	}
	s.lockAll()
	defer s.mu.Unlock()
	for _, db := range s.lsms() {
		if err := db.Close(); err != nil {
			s.log.Error("store: close the read-only store", "err", err)
		}
	}
	if err := s.openOrFallBack(); err != nil {
		return err
	}
	s.readOnly.Store(false)
	s.log.Warn("store: disk space is back; the store is open for writing again", "dir", s.dir)
	return nil
}

// openOrFallBack opens the closed LSMs for writing, with mu held; failing
// that, read-only; failing both, the store is failed and only a restart
// helps, which the log says loudly.
func (s *Store) openOrFallBack() error {
	lsms, err := s.open(false)
	if err == nil {
		s.main, s.docs, s.index = lsms[0], lsms[1], lsms[2]
		// The upgrade of an older layout may have moved the marks.
		return s.marks.load(s.lsmOf('p'), s.log)
	}
	s.log.Error("store: open the store for writing; trying read-only", "dir", s.dir, "err", err)
	lsms, rerr := s.open(true)
	if rerr != nil {
		fe := fatalError{msg: "reopen the store: " + rerr.Error()}
		s.failed.Store(&fe)
		s.log.Error("store: cannot reopen the store; restart Roentgen", "dir", s.dir, "err", rerr)
		return fe
	}
	s.readOnly.Store(true)
	s.main, s.docs, s.index = lsms[0], lsms[1], lsms[2]
	return fmt.Errorf("open the store for writing: %w", err)
}

// lockAll takes mu for writing once no call holds it. TryLock: a blocking
// Lock would stop new readers, and a reader that reads again inside a
// callback (Summaries, ListMeta) would then wait for it forever.
func (s *Store) lockAll() {
	for !s.mu.TryLock() {
		time.Sleep(time.Millisecond)
	}
}

// Writable reports whether the store takes writes now (it re-reads the
// free space).
func (s *Store) Writable() bool {
	if s.failed.Load() != nil || !s.space.check() {
		return false
	}
	return !s.readOnly.Load() || s.reopenWritable() == nil
}

// WritesRefused counts writes refused for want of disk space.
func (s *Store) WritesRefused() uint64 { return s.space.refused.Load() }

// CorruptSummaries counts stored summaries skipped because they did not
// decode.
func (s *Store) CorruptSummaries() uint64 { return s.corrupt.Load() }
