package pebble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// Layouts 1 and 2 kept every table in the main LSM; 1 also kept a key per
// index term and trace, which postings.go still reads. Opening either moves
// its documents and index terms into their own LSMs.
var upgradableVersions = []string{"1", "2"}

// layout is the store's layout version, "" for a new store; an error for a
// layout this build cannot read.
func (s *Store) layout() (string, error) {
	v, closer, err := s.main.Get([]byte{'v'})
	if errors.Is(err, pebble.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	have := string(v)
	closer.Close()
	if have != layoutVersion && !slices.Contains(upgradableVersions, have) {
		return "", fmt.Errorf("store in %s has layout version %q; this build reads %q and upgrades %q", s.dir, have, layoutVersion, upgradableVersions)
	}
	return have, nil
}

// upgrade brings a store of layout have to the current one. Tables are
// copied first and removed from the main LSM together with the version
// change, so a crash part-way leaves the old layout whole and the next open
// copies again.
func (s *Store) upgrade(have string) error {
	switch {
	case have == layoutVersion:
		return nil
	case have != "":
		for _, table := range []byte{'t', 'i'} {
			if err := copyTable(s.main, s.lsmOf(table), table); err != nil {
				return fmt.Errorf("upgrade store in %s from layout %s: %w", s.dir, have, err)
			}
		}
		b := s.main.NewBatch()
		defer b.Close()
		for _, table := range []byte{'t', 'i'} {
			if err := b.DeleteRange([]byte{table}, []byte{table + 1}, nil); err != nil {
				return err
			}
		}
		if err := b.Set([]byte{'v'}, []byte(layoutVersion), nil); err != nil {
			return err
		}
		if err := s.fs.syncingDurably(func() error { return b.Commit(pebble.Sync) }); err != nil {
			return err
		}
		// Give the space back now: left to background compactions, the
		// old copies kept the main LSM at its old size (1M traces: 1.4 GB
		// of deleted documents and terms after the upgrade). Tables wholly
		// deleted are dropped without being read.
		for _, table := range []byte{'t', 'i'} {
			if err := s.main.Compact(context.Background(), []byte{table}, []byte{table + 1}, false); err != nil {
				return fmt.Errorf("upgrade store in %s: reclaim table %c: %w", s.dir, table, err)
			}
		}
		return nil
	}
	return s.fs.syncingDurably(func() error { return s.main.Set([]byte{'v'}, []byte(layoutVersion), pebble.Sync) })
}

// copyTable copies one table from one LSM to another and compacts the copy
// into the bottom level and its codec, rather than leave hundreds of tables
// in L0 for background compactions. Posting lists are read merged and
// written whole.
func copyTable(from, to *pebble.DB, table byte) error {
	it, err := from.NewIter(&pebble.IterOptions{LowerBound: []byte{table}, UpperBound: []byte{table + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	b := to.NewBatch()
	for it.First(); it.Valid(); it.Next() {
		if err := b.Set(bytes.Clone(it.Key()), bytes.Clone(it.Value()), nil); err != nil {
			b.Close()
			return err
		}
		if b.Len() >= 4<<20 {
			if err := b.Commit(pebble.NoSync); err != nil {
				b.Close()
				return err
			}
			b.Close()
			b = to.NewBatch()
		}
	}
	err = errors.Join(it.Error(), b.Commit(pebble.NoSync), b.Close())
	if err != nil {
		return err
	}
	if err := to.Flush(); err != nil {
		return err
	}
	return to.Compact(context.Background(), []byte{table}, []byte{table + 1}, true)
}
