package pebble

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// testdata/layout9 is a store written by a layout 9 build (commit 49d58f9,
// the last before the derived summary form; a test since removed):
// addTestStats' statistics, metadata rule a -> va, storetest.Summary of
// storetest.TraceID(storetest.Base+5, 1) and three bench.NewGenerator(9)
// traces of 1, 4 and 7 segments with their documents, summarised by that
// build. testdata/layout9.summaries.json is those summaries as that build
// encoded them to JSON: what this build must read back.
//
// A layout 9 store differs from a layout 10 one only in the summary forms it
// holds (packed, 0x02; layout 10 writes derived ones, 0x03, which layout 9
// builds cannot read): on a disk too full to upgrade it opens read-only and
// serves everything from where layout 9 keeps it, and with space it is
// marked as this build's layout and serves the same, old summaries beside
// new ones.
func TestLayout9StoreUpgrades(t *testing.T) { testSummaryFormUpgrade(t, "9", 0x02) }

// testdata/layout10 is the same content written by a layout 10 build
// (main at 92eb8ba, with UpdatedAt at nanoseconds, Base+160.123456789;
// the test that wrote it was not kept), its summaries derived (0x03);
// layout 11 writes compact ones (0x04), which layout 10 builds cannot read.
func TestLayout10StoreUpgrades(t *testing.T) { testSummaryFormUpgrade(t, "10", 0x03) }

// testdata/layout11 is the same content written by a layout 11 build (main
// at adf0fe0; the test that wrote it was not kept), its summaries compact
// (0x04); testdata/layout11.docs.json holds the documents it stored. Layout
// 12 packs the ids in documents' keys (dockeys.go), only in new stores: a
// layout 11 store reads as it is, and its new documents take text keys.
func TestLayout11StoreReadsAsItIs(t *testing.T) { testSummaryFormUpgrade(t, "11", 0x04) }

// testdata/layout12 is testdata/layout11's content written by a layout 12
// build (main at 6cfb378, the test that wrote it not kept: it read the
// layout 11 store and applied what it read), with six traces of one second
// whose ids are of several forms (common, sharing a prefix, upper-case hex,
// another epoch's, not X-Ray's), one document each, and a trace dropped by
// keep policies (storetest.TraceID(Base+5, 3)); testdata/layout12.*.json
// are its summaries and documents as that build read them. Layout 13 packs
// the ids in summaries' keys (sumkeys.go), only in new stores: a layout 12
// store reads as it is, its new summaries keyed as text.
func TestLayout12StoreReadsAsItIs(t *testing.T) { testSummaryFormUpgrade(t, textSumKeysLayout, 0x04) }

// testSummaryFormUpgrade opens testdata/layout<version>, whose summaries
// are all of form, read-only on a full disk and then upgraded, checking
// every summary against the JSON that build wrote of it.
func testSummaryFormUpgrade(t *testing.T, version string, form byte) {
	var want []json.RawMessage
	if b, err := os.ReadFile(filepath.Join("testdata", "layout"+version+".summaries.json")); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	// The generated traces' documents, one per segment.
	wantDocs := map[string]int{
		"1-6b49d23c-fefd6b1bc2459aff03c5da52": 1,
		"1-6b49d23d-d5d2cf62545f55b1976c705f": 4,
		"1-6b49d23e-b910c0a368fbbe0cd262b76c": 7,
	}
	// The documents themselves, where the build's test recorded them.
	var docsWritten map[string][]store.Doc
	if b, err := os.ReadFile(filepath.Join("testdata", "layout"+version+".docs.json")); err == nil {
		if err := json.Unmarshal(b, &docsWritten); err != nil {
			t.Fatal(err)
		}
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	}
	quiet := Options{ReserveBytes: 8 << 20, Logger: slog.New(slog.DiscardHandler), CombineStats: graph.CombineStats}
	// What addTestStats' records read as from a store of this layout.
	fresh, err := Open(t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	addTestStats(t, fresh)
	wantStats := statCounts(t, fresh)
	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}

	dir := tmpfs(t, "64m")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "layout"+version))); err != nil {
		t.Fatal(err)
	}
	free := fillTo(t, dir, 2<<20)
	s, err := Open(dir, quiet)
	if err != nil {
		t.Fatalf("open a layout %s store on a full disk: %v", version, err)
	}
	defer s.Close()
	if got := summaryForms(t, s.main); !maps.Equal(got, map[byte]int{form: len(want)}) {
		t.Fatalf("summary forms in the layout %s store: %v, want %d of %#x", version, got, len(want), form)
	}
	upgraded := textDocsLayout
	if version == textSumKeysLayout {
		upgraded = version
	}
	check := func(when, version string, extra int) {
		t.Helper()
		if v, _ := s.lookup([]byte{'v'}); string(v) != version {
			t.Fatalf("%s: layout %q, want %s", when, v, version)
		}
		if got := statCounts(t, s); !maps.Equal(got, wantStats) {
			t.Errorf("%s: statistics %v\nwant %v", when, got, wantStats)
		}
		var got []*trace.Summary
		q := store.SummaryQuery{From: storetest.Base, To: storetest.Base + 3600}
		if err := s.Summaries(t.Context(), q, func(x *trace.Summary) bool { got = append(got, x); return true }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want)+extra {
			t.Fatalf("%s: %d summaries, want %d", when, len(got), len(want)+extra)
		}
		if !slices.IsSortedFunc(got, func(a, b *trace.Summary) int {
			return cmp.Or(cmp.Compare(b.Epoch, a.Epoch), strings.Compare(b.TraceID, a.TraceID))
		}) {
			t.Errorf("%s: summaries not newest first, then by trace id descending", when)
		}
		if version == textSumKeysLayout {
			if _, err := s.Head(t.Context(), storetest.TraceID(storetest.Base+5, 3)); !errors.Is(err, store.ErrDropped) {
				t.Errorf("%s: the dropped trace's Head: %v", when, err)
			}
		}
		byID := map[string]*trace.Summary{}
		for _, x := range got {
			byID[x.TraceID] = x
		}
		for _, w := range want {
			var ws struct {
				TraceID string `json:"id"`
			}
			if err := json.Unmarshal(w, &ws); err != nil {
				t.Fatal(err)
			}
			x := byID[ws.TraceID]
			if x == nil {
				t.Errorf("%s: summary of %s not read", when, ws.TraceID)
				continue
			}
			if !sameJSON(t, x, w) {
				b, _ := json.Marshal(x)
				t.Errorf("%s: summary of %s reads as\n%s\nthe layout %s build wrote\n%s", when, ws.TraceID, b, version, w)
			}
			tr, err := s.Trace(t.Context(), ws.TraceID)
			if err != nil || !reflect.DeepEqual(tr.Summary, x) {
				t.Errorf("%s: Trace(%s): %+v, %v", when, ws.TraceID, tr.Summary, err)
			} else if n, w := len(tr.Docs), cmp.Or(len(docsWritten[ws.TraceID]), wantDocs[ws.TraceID]); n != w {
				t.Errorf("%s: Trace(%s) has %d documents, want %d", when, ws.TraceID, n, w)
			} else if w, ok := docsWritten[ws.TraceID]; ok && !sameDocs(tr.Docs, w) {
				t.Errorf("%s: Trace(%s) documents differ from what the layout %s build stored", when, ws.TraceID, version)
			}
		}
		meta := map[string]string{}
		if err := s.ListMeta(t.Context(), "rules", func(k string, v []byte) bool { meta[k] = string(v); return true }); err != nil {
			t.Fatal(err)
		}
		if w := map[string]string{"a": "va"}; !maps.Equal(meta, w) {
			t.Errorf("%s: metadata %v, want %v", when, meta, w)
		}
	}
	check("read-only", version, 0)
	if s.Writable() {
		t.Fatal("writable on a full disk")
	}
	free()
	if !s.Writable() {
		t.Fatal("not writable after space was freed")
	}
	check("upgraded", upgraded, 0)

	// A summary written now takes the compact form beside the old ones,
	// its documents' and summary's keys the form of the others.
	id := storetest.TraceID(storetest.Base+7, 2)
	added := storetest.Summary(id, storetest.Base+7)
	doc := store.Doc{ID: "0123456789abcdef", Raw: []byte(`{"id":"0123456789abcdef"}`)}
	storetest.Put(t, s, added, doc)
	forms := map[byte]int{form: len(want)}
	forms[0x04]++
	if got := summaryForms(t, s.main); !maps.Equal(got, forms) {
		t.Errorf("summary forms after a new trace: %v, want %v", got, forms)
	}
	check("after a new trace", upgraded, 1)
	if tr, err := s.Trace(t.Context(), id); err != nil || !reflect.DeepEqual(tr.Summary, added) || !sameDocs(tr.Docs, []store.Doc{doc}) {
		t.Errorf("the new trace reads as %+v, %v; want %+v", tr, err, added)
	}
	text, packed := docKeyForms(t, s.docs)
	if version == textSumKeysLayout {
		text, packed = packed, text
	}
	if packed != 0 || text < 13 {
		t.Errorf("documents' keys: %d of the layout's form, %d of the other; want 13 or more, 0", text, packed)
	}
	if n := packedSumKeys(t, s.main); n != 0 {
		t.Errorf("%d summaries' or tombstones' keys packed", n)
	}
}

// sameDocs says whether a trace's documents are want's, in any order (a
// store reads them in key order).
func sameDocs(got, want []store.Doc) bool {
	byID := func(a, b store.Doc) int { return strings.Compare(a.ID, b.ID) }
	got, want = slices.SortedFunc(slices.Values(got), byID), slices.SortedFunc(slices.Values(want), byID)
	return slices.EqualFunc(got, want, func(x, y store.Doc) bool { return x.ID == y.ID && bytes.Equal(x.Raw, y.Raw) })
}

// docKeyForms counts the documents' keys whose ids are text (an X-Ray id
// after the epoch) and those packed (dockeys.go).
func docKeyForms(t *testing.T, db *pebble.DB) (text, packed int) {
	t.Helper()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{'t'}, UpperBound: []byte{'t' + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if k := it.Key(); len(k) > 10 && k[9] < ' ' {
			packed++
		} else {
			text++
		}
	}
	return text, packed
}

// packedSumKeys counts the summaries' and tombstones' keys whose ids are
// packed (sumkeys.go: a tag below ' ').
func packedSumKeys(t *testing.T, db *pebble.DB) int {
	t.Helper()
	n := 0
	for _, table := range []byte{'s', 'd'} {
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{table}, UpperBound: []byte{table + 1}})
		if err != nil {
			t.Fatal(err)
		}
		for it.First(); it.Valid(); it.Next() {
			if k := it.Key(); len(k) > 9 && k[9] < ' ' {
				n++
			}
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// summaryForms counts the stored summaries by their format byte.
func summaryForms(t *testing.T, db *pebble.DB) map[byte]int {
	t.Helper()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{'s'}, UpperBound: []byte{'s' + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	out := map[byte]int{}
	for it.First(); it.Valid(); it.Next() {
		v := it.Value()
		if len(v) == 0 {
			t.Fatalf("empty summary at %x", it.Key())
		}
		out[v[0]]++
	}
	return out
}

// sameJSON says whether x encodes to the same JSON value as want.
func sameJSON(t *testing.T, x *trace.Summary, want json.RawMessage) bool {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var a, w any
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(a, w)
}
