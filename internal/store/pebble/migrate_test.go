package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// downgrade turns a store into one of an older layout and closes it:
// summaries in an older form (JSON), posting lists of whole trace ids;
// for layouts 1 to 5 no numeric terms;
// for 1 to 4 pending marks in the main LSM; for layouts 1 to 3 index terms filed by
// the hour; for 1 and 2 every table in the main LSM. edit, if any, then
// changes the main LSM further.
func downgrade(t *testing.T, s *Store, version string, edit ...func(main *pebble.DB) error) {
	t.Helper()
	textDocKeys(t, s)
	textSumKeys(t, s)
	oldStatKeys(t, s)
	if err := copyTable(s.main, s.main, metaTable, func(k []byte) []byte {
		out := bytes.Clone(k)
		out[0] = oldMetaTable
		return out
	}); err != nil {
		t.Fatal(err)
	}
	if version != "8" {
		wholePostings(t, s)
		jsonSummaries(t, s)
	}
	if version != "6" && version != "7" && version != "8" {
		stripNumericTerms(t, s)
	}
	if version != "5" && version != "6" && version != "7" && version != "8" {
		if err := copyTable(s.docs, s.main, 'p', nil); err != nil {
			t.Fatal(err)
		}
		if err := s.docs.DeleteRange([]byte{'p'}, []byte{'p' + 1}, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	switch version {
	case "4", "5", "6", "7", "8":
	case "3":
		if err := copyTable(s.index, s.index, 'i', hourKey); err != nil {
			t.Fatal(err)
		}
	default:
		for _, table := range []byte{'t', 'i'} {
			rekey := hourKey
			if table == 't' {
				rekey = nil
			}
			from := s.lsmOf(table)
			if err := copyTable(from, s.main, table, rekey); err != nil {
				t.Fatal(err)
			}
			if err := from.DeleteRange([]byte{table}, []byte{table + 1}, pebble.Sync); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, e := range edit {
		if err := e(s.main); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.main.Set([]byte{'v'}, []byte(version), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// jsonSummaries rewrites every summary as JSON, a form older builds wrote
// and read.
func jsonSummaries(t *testing.T, s *Store) {
	t.Helper()
	it, err := s.main.NewIter(&pebble.IterOptions{LowerBound: []byte{'s'}, UpperBound: []byte{'s' + 1}})
	if err != nil {
		t.Fatal(err)
	}
	b := s.main.NewBatch()
	for it.First(); it.Valid(); it.Next() {
		sum, err := trace.DecodeSummaryUnder(it.Value(), s.summaryKeyTraceID(it.Key()))
		if err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(sum)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Set(bytes.Clone(it.Key()), j, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(it.Close(), b.Commit(pebble.Sync), b.Close()); err != nil {
		t.Fatal(err)
	}
}

// oldStatKeys files the statistics in the tables of layouts 1 to 8, each
// record as two merge operands, as a store written by deltas holds them
// before a compaction sums them: its value twice, so a reader of the old
// store, or of the upgraded one, finds every count doubled.
func oldStatKeys(t *testing.T, s *Store) {
	t.Helper()
	it, err := s.main.NewIter(&pebble.IterOptions{LowerBound: []byte{statTable}, UpperBound: []byte{statTable + 1}})
	if err != nil {
		t.Fatal(err)
	}
	b := s.main.NewBatch()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		old := append([]byte{k[9]}, k[1:9]...)
		old = append(old, k[10:]...)
		if !bytes.Equal(rekeyStat(old), k) {
			t.Fatalf("rekeyStat(%q) = %q, want %q", old, rekeyStat(old), k)
		}
		v := bytes.Clone(it.Value())
		if err := errors.Join(b.Merge(old, v, nil), b.Merge(old, v, nil), b.Delete(bytes.Clone(k), nil)); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(it.Close(), b.Commit(pebble.Sync), b.Close()); err != nil {
		t.Fatal(err)
	}
}

// wholePostings writes the index again as layouts 1 to 7 did, every X-Ray
// trace id whole (0x00 entries), from the summaries' terms.
func wholePostings(t *testing.T, s *Store) {
	t.Helper()
	if err := s.index.DeleteRange([]byte{'i'}, []byte{'i' + 1}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	it, err := s.main.NewIter(&pebble.IterOptions{LowerBound: []byte{'s'}, UpperBound: []byte{'s' + 1}})
	if err != nil {
		t.Fatal(err)
	}
	b := s.index.NewBatch()
	for it.First(); it.Valid(); it.Next() {
		sum, err := trace.DecodeSummaryUnder(it.Value(), s.summaryKeyTraceID(it.Key()))
		if err != nil {
			t.Fatal(err)
		}
		for _, term := range termsOf(sum) {
			var entry []byte
			if raw, ok := xrayRaw(sum.TraceID); ok {
				entry = append([]byte{entryXRay}, raw[:]...)
			} else {
				entry = appendPosting(nil, sum.Epoch, sum.TraceID)
			}
			if err := b.Merge(postingKey(sum.Epoch, term), entry, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := errors.Join(it.Close(), b.Commit(pebble.Sync), b.Close()); err != nil {
		t.Fatal(err)
	}
}

// stripNumericTerms deletes the index's numeric terms, which layouts 1 to
// 5 did not write.
func stripNumericTerms(t *testing.T, s *Store) {
	t.Helper()
	it, err := s.index.NewIter(&pebble.IterOptions{LowerBound: []byte{'i'}, UpperBound: []byte{'i' + 1}})
	if err != nil {
		t.Fatal(err)
	}
	b := s.index.NewBatch()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if f := bytes.IndexByte(k[9:], 0); f >= 0 && store.IsRangeField(string(k[9:9+f])) {
			if err := b.Delete(bytes.Clone(k), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := errors.Join(it.Close(), b.Commit(pebble.Sync), b.Close()); err != nil {
		t.Fatal(err)
	}
}

// hourKey files a posting list's key by its hour, as layouts 1 to 3 did.
func hourKey(k []byte) []byte {
	out := bytes.Clone(k)
	e := int64(binary.BigEndian.Uint64(k[len(k)-8:]))
	binary.BigEndian.PutUint64(out[1:9], uint64(store.PartitionOf(e)))
	return out
}

// reopen opens a store closed by downgrade with this build, which must
// upgrade it; the store is closed at the end of the test.
func reopen(t *testing.T, dir, version string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if v, err := s.lookup([]byte{'v'}); err != nil || string(v) != textDocsLayout {
		t.Fatalf("layout after opening layout %s: %q, %v", version, v, err)
	}
	return s
}

func tableKeys(t *testing.T, db *pebble.DB, table byte) int {
	t.Helper()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{table}, UpperBound: []byte{table + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n
}

// Stores of layout 2 (every table in one LSM, index terms by the hour), 3
// (index terms by the hour), 4 (pending marks in the main LSM), 5 (no
// numeric terms), 6 (summaries of the forms before 0x02), 7 (posting lists
// of whole ids) and 8 (statistics before the summaries) open upgraded, and
// read back as they were; numeric filters find their traces.
func TestOlderLayoutsUpgrade(t *testing.T) {
	for _, version := range []string{"2", "3", "4", "5", "6", "7", "8"} {
		t.Run(version, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			addTestStats(t, s)
			wantStats := doubled(statCounts(t, s)) // downgrade writes each delta twice
			if err := s.PutMeta(context.Background(), "rules", "r1", []byte("one")); err != nil {
				t.Fatal(err)
			}
			// Spread over the hour: terms of its first minute keep their key.
			var ids []string
			for n := range 50 {
				ep := storetest.Base + 600 + int64(n)*37
				id := storetest.TraceID(ep, n)
				ids = append(ids, id)
				storetest.Put(t, s, storetest.Summary(id, ep),
					storetest.Doc("a"+id[25:], `{"n":1}`), storetest.Doc("b"+id[25:], `{"n":2}`))
			}
			// Two traces await their summaries.
			pending := []string{storetest.TraceID(storetest.Base+5, 900), storetest.TraceID(storetest.Base+6, 901)}
			for i, id := range pending {
				put := store.DocPut{TraceID: id, Epoch: storetest.Base + 5 + int64(i), Docs: []store.Doc{storetest.Doc("c"+id[25:], `{"n":3}`)}}
				if err := s.PutDocs(context.Background(), []store.DocPut{put}); err != nil {
					t.Fatal(err)
				}
			}
			term := store.Term{Field: store.FieldService, Value: storetest.Summary(ids[0], storetest.Base).Nodes[0].Name}
			q := store.SummaryQuery{From: storetest.Base, To: storetest.Base + 3600, AnyOf: []store.Term{term}}
			want := storetest.Collect(t, s, q)
			if len(want) != len(ids) {
				t.Fatalf("search before the downgrade found %d of %d traces", len(want), len(ids))
			}
			slow, err := filter.Parse("duration > 1", filter.Options{})
			if err != nil {
				t.Fatal(err)
			}
			nq := q
			terms, _ := slow.Terms()
			nq.AnyOf, nq.AnyIn = terms.Terms, terms.Ranges
			if got := storetest.Collect(t, s, nq); !slices.Equal(got, want) {
				t.Fatalf("numeric search before the downgrade: %d traces, want %d", len(got), len(want))
			}
			downgrade(t, s, version)
			s = reopen(t, dir, version)
			if got := storetest.Collect(t, s, nq); !slices.Equal(got, want) {
				t.Errorf("numeric search after the upgrade: %d traces, want %d", len(got), len(want))
			}
			var still []string
			if err := s.Pending(context.Background(), func(id string) bool { still = append(still, id); return true }); err != nil || !slices.Equal(still, pending) {
				t.Errorf("pending after the upgrade: %v, %v; want %v", still, err, pending)
			}
			for _, table := range []byte{'t', 'i', 'p'} {
				if n := tableKeys(t, s.main, table); n != 0 {
					t.Errorf("main LSM still holds %d keys of table %c", n, table)
				}
				if n := tableKeys(t, s.lsmOf(table), table); n == 0 {
					t.Errorf("table %c is not in its LSM", table)
				}
			}
			if got := storetest.Collect(t, s, q); !slices.Equal(got, want) {
				t.Fatalf("search after the upgrade: %v, want %v", got, want)
			}
			if got := statCounts(t, s); !maps.Equal(got, wantStats) {
				t.Errorf("statistics after the upgrade: %v, want %v", got, wantStats)
			}
			for _, table := range append([]byte{oldMetaTable}, oldStatTables...) {
				if n := tableKeys(t, s.main, table); n != 0 {
					t.Errorf("old table %c still holds %d keys", table, n)
				}
			}
			if v, err := s.GetMeta(context.Background(), "rules", "r1"); string(v) != "one" {
				t.Errorf("metadata after the upgrade: %q, %v", v, err)
			}
			for _, id := range ids {
				tr, err := s.Trace(context.Background(), id)
				if err != nil || len(tr.Docs) != 2 || tr.Summary == nil {
					t.Fatalf("trace %s after the upgrade: %+v, %v", id, tr, err)
				}
			}
		})
	}
}

// rekeyTerm files keys of the older layouts by the minute: posting keys
// whatever their value holds, layout 1's keys (a trace id after the epoch)
// when the value holds no zero byte.
func TestRekeyTerm(t *testing.T) {
	for _, e := range []int64{storetest.Base, storetest.Base + 61, storetest.Base + 3599} {
		for _, value := range []string{"api", "k\x00v"} {
			term := store.Term{Field: store.FieldAnnValue, Value: value}
			want := postingKey(e, term)
			if got := rekeyTerm(hourKey(want)); !bytes.Equal(got, want) {
				t.Errorf("epoch %d, value %q: rekeyed %q, want %q", e, value, got, want)
			}
			if value != "api" {
				continue
			}
			v1 := append(append(termPrefix(store.PartitionOf(e), term), epochBytes(e)...), "1-abc"...)
			wantV1 := append(append(termPrefix(indexBucketOf(e), term), epochBytes(e)...), "1-abc"...)
			if got := rekeyTerm(v1); !bytes.Equal(got, wantV1) {
				t.Errorf("layout 1 key, epoch %d: rekeyed %q, want %q", e, got, wantV1)
			}
		}
	}
}

// A layout 6 store on a disk too full to mark it 7 opens read-only and
// serves its documents and summaries as they are; once space is freed it
// is upgraded and takes writes.
func TestLayout6ReadsOnFullDisk(t *testing.T) {
	dir := tmpfs(t, "64m")
	ctx := context.Background()
	quiet := Options{ReserveBytes: 8 << 20, Logger: slog.New(slog.DiscardHandler)}
	s, err := Open(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	id := storetest.TraceID(storetest.Base+5, 1)
	storetest.Put(t, s, storetest.Summary(id, storetest.Base+5), storetest.Doc("a"+id[25:], `{"n":1}`))
	downgrade(t, s, "6")
	free := fillTo(t, dir, 2<<20)
	s, err = Open(dir, quiet)
	if err != nil {
		t.Fatalf("open a layout 6 store on a full disk: %v", err)
	}
	defer s.Close()
	if v, _ := s.lookup([]byte{'v'}); string(v) != "6" {
		t.Fatalf("layout on a full disk: %q, want 6 as it was", v)
	}
	if tr, err := s.Trace(ctx, id); err != nil || len(tr.Docs) != 1 || tr.Summary == nil || tr.Summary.TraceID != id {
		t.Fatalf("trace of a layout 6 store: %+v, %v", tr, err)
	}
	free()
	if err := s.PutDocs(ctx, []store.DocPut{docPut(testTraceID(2), 1, 100)}); err != nil {
		t.Fatalf("after space was freed: %v", err)
	}
	if v, _ := s.lookup([]byte{'v'}); string(v) != textDocsLayout {
		t.Fatalf("layout after space was freed: %q, want %s", v, textDocsLayout)
	}
}
