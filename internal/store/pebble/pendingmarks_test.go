package pebble

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// markKeys lists the keys of the pending-marks table.
func markKeys(t *testing.T, s *Store) [][]byte {
	t.Helper()
	it, err := s.lsmOf('p').NewIter(&pebble.IterOptions{LowerBound: []byte{'p'}, UpperBound: []byte{'p' + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var keys [][]byte
	for it.First(); it.Valid(); it.Next() {
		keys = append(keys, slices.Clone(it.Key()))
	}
	return keys
}

func pendingIDs(t *testing.T, s *Store) []string {
	t.Helper()
	var ids []string
	if err := s.Pending(context.Background(), func(id string) bool { ids = append(ids, id); return true }); err != nil {
		t.Fatal(err)
	}
	return ids
}

func openAt(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func apply(t *testing.T, s *Store, ids ...string) {
	t.Helper()
	var ups []store.TraceUpdate
	for _, id := range ids {
		ups = append(ups, store.TraceUpdate{TraceID: id, Epoch: storetest.Base, Summary: storetest.Summary(id, storetest.Base)})
	}
	if err := s.Apply(context.Background(), ups); err != nil {
		t.Fatal(err)
	}
}

// A PutDocs call writes one mark for all its traces; Apply rewrites it
// without the traces it summarises and deletes it with the last, and a
// reopened store lists exactly the traces still pending.
func TestOneMarkPerPutDocs(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	defer func() { s.Close() }()
	ctx := context.Background()
	var puts []store.DocPut
	var ids []string
	for i := range 50 {
		id := storetest.TraceID(storetest.Base, i+1)
		ids = append(ids, id)
		puts = append(puts, store.DocPut{TraceID: id, Epoch: storetest.Base, Docs: []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", "d")}})
	}
	if err := s.PutDocs(ctx, puts); err != nil {
		t.Fatal(err)
	}
	if keys := markKeys(t, s); len(keys) != 1 {
		t.Fatalf("%d marks for one PutDocs of 50 traces, want 1", len(keys))
	}
	// A second call names a trace of the first again: two marks.
	if err := s.PutDocs(ctx, []store.DocPut{{TraceID: ids[0], Epoch: storetest.Base, Docs: []store.Doc{storetest.Doc("bbbbbbbbbbbbbbbb", "d")}}}); err != nil {
		t.Fatal(err)
	}
	apply(t, s, ids[:20]...)
	if got := pendingIDs(t, s); !slices.Equal(got, ids[20:]) {
		t.Fatalf("pending after summarising 20: %v", got)
	}
	if keys := markKeys(t, s); len(keys) != 1 {
		t.Fatalf("%d marks after the second call's trace was summarised, want 1", len(keys))
	}
	s.Close()
	s = openAt(t, dir)
	if got := pendingIDs(t, s); !slices.Equal(got, ids[20:]) {
		t.Fatalf("pending after reopening: %v, want the 30 not summarised", got)
	}
	apply(t, s, ids[20:]...)
	if got, keys := pendingIDs(t, s), markKeys(t, s); len(got) != 0 || len(keys) != 0 {
		t.Fatalf("after summarising all: pending %v, marks %q", got, keys)
	}
	// New marks after a reopen do not reuse a number still in the table.
	if err := s.PutDocs(ctx, puts[:2]); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openAt(t, dir)
	if err := s.PutDocs(ctx, puts[2:3]); err != nil {
		t.Fatal(err)
	}
	if keys := markKeys(t, s); len(keys) != 2 {
		t.Fatalf("%d marks for two calls on either side of a reopen, want 2", len(keys))
	}
	if got := pendingIDs(t, s); !slices.Equal(got, ids[:3]) {
		t.Fatalf("pending %v, want %v", got, ids[:3])
	}
}

// Marks of one trace each, as earlier builds wrote them, are recovered and
// cleared.
func TestLegacyPendingMarks(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	defer func() { s.Close() }()
	a, b := storetest.TraceID(storetest.Base, 1), storetest.TraceID(storetest.Base, 2)
	for _, id := range []string{a, b} {
		if err := s.lsmOf('p').Set(pendingKey(id), epochBytes(storetest.Base), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openAt(t, dir)
	if got := pendingIDs(t, s); !slices.Equal(got, []string{a, b}) {
		t.Fatalf("pending %v, want [%s %s]", got, a, b)
	}
	apply(t, s, a)
	s.Close()
	s = openAt(t, dir)
	if got := pendingIDs(t, s); !slices.Equal(got, []string{b}) {
		t.Fatalf("pending %v, want [%s]", got, b)
	}
	if keys := markKeys(t, s); len(keys) != 1 || string(keys[0]) != string(pendingKey(b)) {
		t.Fatalf("marks %q, want b's own", keys)
	}
}

// Retention drops the traces of a mark filed before the cut and keeps the
// others, across a reopen.
func TestRetentionRewritesMarks(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	defer func() { s.Close() }()
	ctx := context.Background()
	P := int64(store.PartitionSeconds)
	old, keep := storetest.TraceID(storetest.Base-2*P, 1), storetest.TraceID(storetest.Base+1, 2)
	doc := []store.Doc{storetest.Doc("aaaaaaaaaaaaaaaa", "d")}
	if err := s.PutDocs(ctx, []store.DocPut{{TraceID: old, Epoch: storetest.Base - 2*P, Docs: doc}, {TraceID: keep, Epoch: storetest.Base + 1, Docs: doc}}); err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, s, storetest.Summary(storetest.TraceID(storetest.Base-2*P, 3), storetest.Base-2*P), doc...)
	if _, err := s.DropBefore(ctx, time.Unix(storetest.Base, 0)); err != nil {
		t.Fatal(err)
	}
	if got := pendingIDs(t, s); !slices.Equal(got, []string{keep}) {
		t.Fatalf("pending after retention %v", got)
	}
	s.Close()
	s = openAt(t, dir)
	if got := pendingIDs(t, s); !slices.Equal(got, []string{keep}) {
		t.Fatalf("pending after retention and a reopen %v", got)
	}
}

func TestDecodeMarkRejectsTruncated(t *testing.T) {
	m, v := (&pendingMarks{}).newMark([]string{"1-5f84c7a5-0123456789abcdef01234567"}, []int64{7}, nil)
	for n := 1; n < len(v); n++ {
		if _, err := decodeMark(m.key, v[:n]); err == nil {
			t.Fatalf("a mark cut to %d of %d bytes decoded", n, len(v))
		}
	}
	got, err := decodeMark(m.key, v)
	if err != nil || len(got.traces) != 1 || got.traces[0] != m.traces[0] {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	// A length near 2^64 must not wrap the bounds check into a panic at
	// Open (found in review).
	huge := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, make([]byte, 8)...)
	if _, err := decodeMark(m.key, huge); err == nil {
		t.Fatal("a mark naming an id of 2^64-1 bytes decoded")
	}
}

// FuzzDecodeMark: whatever a mark's stored bytes, decoding does not panic,
// and what decodes is written back the same.
func FuzzDecodeMark(f *testing.F) {
	_, v := (&pendingMarks{}).newMark([]string{"1-5f84c7a5-0123456789abcdef01234567", "w3c"}, []int64{7, -1}, nil)
	f.Add(v)
	f.Add([]byte{0x80})
	f.Add(append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, make([]byte, 8)...))
	f.Fuzz(func(t *testing.T, v []byte) {
		m, err := decodeMark(batchMarkKey(1), v)
		if err != nil {
			return
		}
		if got := m.value(); string(got) != string(v) && !(len(v) == 0 && len(got) == 0) {
			// A uvarint may be written with more bytes than it needs.
			if again, err := decodeMark(m.key, got); err != nil || !slices.Equal(again.traces, m.traces) {
				t.Fatalf("%x decoded to %+v, written back as %x", v, m.traces, got)
			}
		}
	})
}
