package pebble

import (
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// ErrTrimBusy is Trim's answer while an LSM flushes or compacts: closing
// would wait for that work with every call to the store held up.
var ErrTrimBusy = errors.New("store: not trimmed: an LSM is flushing or compacting")

// trimHook, when set (tests), runs at each step of a trim: "flushed"
// before the write lock is taken, "closed" with the lock held and the
// LSMs closed, "reopened" with the lock still held.
var trimHook func(step string)

// Trim gives back the memory the store keeps only to go faster, for a
// server that has gone quiet. After a load Pebble keeps, per LSM, a live
// memtable grown to full size and a spent one it recycles, and its block
// cache full: ~130 MiB at the default budget, and no Pebble API frees a
// recycled memtable or empties the cache of an open DB. So Trim flushes
// the LSMs, then closes and reopens them under the store's write lock, as
// reopenWritable does: calls arriving meanwhile wait for the reopen
// (little or no log to replay after the flush) and then run on the new
// LSMs, which start with small memtables and an empty cache, as a fresh
// store's do. Freed C memory stays with the C allocator until the caller returns
// it (internal/cmem). Trim does nothing on a read-only, failed or closed
// store, and answers ErrTrimBusy while a flush or compaction runs.
func (s *Store) Trim() error {
	s.reopenMu.Lock()
	defer s.reopenMu.Unlock()
	if s.readOnly.Load() || s.failed.Load() != nil || !s.space.check() {
		return nil
	}
	if closed, err := s.flushAll(); closed || err != nil {
		return err
	}
	if trimHook != nil {
		trimHook("flushed")
	}
	s.lockAll()
	defer s.mu.Unlock()
	if s.closed() {
		return nil
	}
	// Checked under the lock: no call can start new work now, and Close
	// waits for a compaction that started since.
	for _, db := range s.lsms() {
		m := db.Metrics()
		if m.Compact.NumInProgress > 0 || m.Flush.NumInProgress > 0 {
			return ErrTrimBusy
		}
	}
	for _, db := range s.lsms() {
		if err := db.Close(); err != nil {
			s.log.Error("store: close an LSM to trim its memory", "err", err)
		}
	}
	if trimHook != nil {
		trimHook("closed")
	}
	if err := s.openOrFallBack(); err != nil {
		return err
	}
	if trimHook != nil {
		trimHook("reopened")
	}
	return nil
}

// flushAll flushes every LSM under the read lock, so that calls go on
// while the memtables are written and the reopen has no log to replay. It
// reports a closed store instead.
func (s *Store) flushAll() (closed bool, err error) {
	defer s.read()()
	if s.closed() {
		return true, nil
	}
	for _, db := range s.lsms() {
		if err := flush(db); err != nil {
			return false, err
		}
	}
	return false, nil
}

// closed reports whether Close has begun (it closes the LSMs once it holds
// the write lock).
func (s *Store) closed() bool {
	select {
	case <-s.space.closed:
		return true
	default:
		return false
	}
}

// flush is db.Flush, with Pebble's fatal-error panic (logging.go) as an
// error.
func flush(db *pebble.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			fe, ok := r.(fatalError)
			if !ok {
				panic(r)
			}
			err = fe
		}
	}()
	return db.Flush()
}
