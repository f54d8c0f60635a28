package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// Layouts 1 and 2 kept every table in the main LSM; 1 also kept a key per
// index term and trace, which postings.go still reads. Layouts 1 to 3 filed
// index terms by the hour instead of the minute. Layouts 1 to 4 kept the
// pending marks in the main LSM instead of with the documents. Opening one
// moves its tables into their LSMs and refiles the terms. Layouts 1 to 5
// had no numeric index terms: opening one records where they begin
// (legacy.go). Layouts 1 to 6 hold summaries of the forms before 0x02
// (trace/codec.go), which still read; the version keeps older builds,
// which cannot read the packed summaries this one writes, away from it.
// Layouts 1 to 7 wrote posting lists of whole trace ids, which still read
// (postings.go); the version keeps builds that cannot read the short
// entries this one writes away. Layouts 1 to 8 kept statistics and
// metadata in tables before the summaries: opening one moves them
// (moveTables), which is all that opening a layout 6, 7 or 8 store does
// besides marking it 9. Layout 10 writes summaries in the derived form
// (0x03, trace/codec_derived.go), which builds before it cannot read: a
// layout 9 store is only marked 10. Layout 11 writes them in the compact
// form (0x04, trace/codec_compact.go): a layout 9 or 10 store is only
// marked 11. Layout 12 packs the ids in documents' keys (dockeys.go),
// which only a new store does: older stores become layout 11, whose
// documents' keys this build writes as text, and which builds since
// layout 11 still open. Layout 13 packs the trace ids in summaries' keys
// (sumkeys.go), again only in a new store: a layout 12 store stays 12, its
// summaries' keys text.
var upgradableVersions = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", textDocsLayout, textSumKeysLayout}

// readableVersions are the older layouts this build reads as they are: a
// store on a disk too full to upgrade it opens read-only (with its
// statistics and metadata where they are: Store.oldTables).
var readableVersions = []string{"6", "7", "8", "9", "10", textDocsLayout, textSumKeysLayout}

// tablesInPlace says whether a store of layout have keeps its statistics
// and metadata after the summaries, where this build does (layout 9 on):
// opening it moves nothing, and read-only it reads them there.
func tablesInPlace(have string) bool {
	return have == "9" || have == "10" || have == textDocsLayout || have == textSumKeysLayout || have == layoutVersion
}

// layout is the store's layout version, "" for a new store; an error for a
// layout this build cannot read.
func layoutOf(main *pebble.DB, dir string) (string, error) {
	v, closer, err := main.Get([]byte{'v'})
	if errors.Is(err, pebble.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	have := string(v)
	closer.Close()
	if have != layoutVersion && !slices.Contains(upgradableVersions, have) {
		return "", fmt.Errorf("store in %s has layout version %q; this build reads %q and upgrades %q", dir, have, layoutVersion, upgradableVersions)
	}
	return have, nil
}

// upgrade brings a store of layout have to the current one. Tables are
// copied first and removed from their old place together with the version
// change, so a crash part-way leaves the old layout whole and the next open
// copies again.
func (s *Store) upgrade(have string) error {
	return s.migrate(have)
}

func (s *Store) migrate(have string) error {
	version := textDocsLayout // the documents' and summaries' keys stay text (dockeys.go, sumkeys.go)
	if have == "" {
		version = layoutVersion
	}
	setVersion := func(b *pebble.Batch) error {
		if err := b.Set([]byte{'v'}, []byte(version), nil); err != nil {
			return err
		}
		return s.fs.syncingDurably(func() error { return b.Commit(pebble.Sync) })
	}
	b := s.main.NewBatch()
	defer b.Close()
	switch have {
	case layoutVersion, textSumKeysLayout, textDocsLayout:
		return nil
	case "":
		return setVersion(b)
	}
	if tablesInPlace(have) {
		return setVersion(b)
	}
	fail := func(err error) error { return fmt.Errorf("upgrade store in %s from layout %s: %w", s.dir, have, err) }
	// Every older layout: moved key by key, each old key deleted in the
	// batch that writes its new one, so a crash part-way leaves each
	// record in one place or the other, and the next open moves the rest.
	if err := s.moveTables(); err != nil {
		return fail(err)
	}
	if have == "6" || have == "7" || have == "8" {
		return setVersion(b)
	}
	var moved []byte
	if have != "5" {
		moved = []byte{'p'}
	}
	switch have {
	case "1", "2":
		if err := copyTable(s.main, s.docs, 't', nil); err != nil {
			return fail(err)
		}
		if err := copyTable(s.main, s.index, 'i', rekeyTerm); err != nil {
			return fail(err)
		}
		moved = append(moved, 't', 'i')
	case "3":
		// Refiled in place: each key moves to its minute's, once.
		if err := copyTable(s.index, s.index, 'i', rekeyTerm); err != nil {
			return fail(err)
		}
	}
	if have != "5" {
		if err := copyTable(s.main, s.docs, 'p', nil); err != nil {
			return fail(err)
		}
	}
	if err := s.setNumericFrom(b); err != nil {
		return fail(err)
	}
	for _, table := range moved {
		if err := b.DeleteRange([]byte{table}, []byte{table + 1}, nil); err != nil {
			return err
		}
	}
	if err := setVersion(b); err != nil {
		return err
	}
	// Give the space back now: left to background compactions, the old
	// copies kept the main LSM at its old size (1M traces: 1.4 GB of
	// deleted documents and terms after the upgrade). Tables wholly deleted
	// are dropped without being read.
	for _, table := range moved {
		if err := s.main.Compact(context.Background(), []byte{table}, []byte{table + 1}, false); err != nil {
			return fmt.Errorf("upgrade store in %s: reclaim table %c: %w", s.dir, table, err)
		}
	}
	return nil
}

// oldStatTables are the statistics tables of layouts 1 to 8,
//
//	G|H|I | partition | group 0 | len(entity) entity | bucket
//
// which this layout keeps in one table after the summaries (stats.go);
// oldMetaTable held their metadata (keys.go's metaTable).
var oldStatTables = []byte{'G', 'H', 'I'}

const oldMetaTable = 'm'

// moveTables moves the statistics and metadata of layouts 1 to 8 to their
// tables, values read merged (statistics summed by the store's combiner)
// and written whole, and compacts the old tables' range away.
func (s *Store) moveTables() error {
	for _, table := range oldStatTables {
		if err := copyTable(s.main, s.main, table, rekeyStat); err != nil {
			return err
		}
	}
	return copyTable(s.main, s.main, oldMetaTable, func(k []byte) []byte {
		out := bytes.Clone(k)
		out[0] = metaTable
		return out
	})
}

// rekeyStat is the key of a statistics record of layouts 1 to 8 in this
// layout: the table byte names the resolution, after the partition.
func rekeyStat(k []byte) []byte {
	if len(k) < 9 {
		return k
	}
	out := make([]byte, 0, len(k)+1)
	out = append(out, statTable)
	out = append(out, k[1:9]...)
	out = append(out, k[0])
	return append(out, k[9:]...)
}

// rekeyTerm files an index key of layouts 1 to 3,
//
//	i | hour | field 0 value 0 | epoch [| trace id (layout 1)]
//
// under the epoch's minute. The epoch follows the value's terminator, or,
// should the value itself hold a zero byte, ends a posting key; a key where
// neither lies in the key's hour is left as it is.
func rekeyTerm(k []byte) []byte {
	if len(k) < 9 {
		return k
	}
	hour := int64(binary.BigEndian.Uint64(k[1:9]))
	inHour := func(at int) (int64, bool) {
		if at < 9 || at+8 > len(k) {
			return 0, false
		}
		e := int64(binary.BigEndian.Uint64(k[at : at+8]))
		return e, e >= hour && e < hour+3600
	}
	e, ok := int64(0), false
	if f := bytes.IndexByte(k[9:], 0); f >= 0 {
		if v := bytes.IndexByte(k[9+f+1:], 0); v >= 0 {
			e, ok = inHour(9 + f + 1 + v + 1)
		}
	}
	if !ok {
		if e, ok = inHour(len(k) - 8); !ok {
			return k
		}
	}
	out := bytes.Clone(k)
	binary.BigEndian.PutUint64(out[1:9], uint64(indexBucketOf(e)))
	return out
}

// copyTable copies one table from one LSM to another, its keys changed by
// rekey if not nil (within one LSM, the old keys are deleted), and compacts
// the copy into the bottom level and its codec, rather than leave hundreds
// of tables in L0 for background compactions. Posting lists are read merged
// and written whole.
func copyTable(from, to *pebble.DB, table byte, rekey func([]byte) []byte) error {
	it, err := from.NewIter(&pebble.IterOptions{LowerBound: []byte{table}, UpperBound: []byte{table + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	b := to.NewBatch()
	for it.First(); it.Valid(); it.Next() {
		k := bytes.Clone(it.Key())
		if rekey != nil {
			k = rekey(k)
		}
		if from == to {
			if bytes.Equal(k, it.Key()) {
				continue
			}
			if err := b.Delete(bytes.Clone(it.Key()), nil); err != nil {
				b.Close()
				return err
			}
		}
		if err := b.Set(k, bytes.Clone(it.Value()), nil); err != nil {
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
