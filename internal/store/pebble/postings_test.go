package pebble

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

// postingEpoch is the epoch of the lists the tests write: the first ids'.
const postingEpoch = 0x5f84c7a5

func TestPostingsRoundTrip(t *testing.T) {
	ids := []string{
		"1-5f84c7a5-0123456789abcdef01234567", // of the list's epoch: its first 3 random bytes
		"1-5f84c7a6-0123456789abcdef01234567", // of another epoch: whole
		"1-5f84c7a5-00000000000000000000002a", // numbered, not random: whole
		"1-5F84C7A5-0123456789ABCDEF01234567", // upper case: kept as it is
		"1-5f84c7a5-0123456789abcdef0123456",  // short
		"1-5f84c7a5x0123456789abcdef01234567",
		"4bf92f3577b34da6a3ce929d0e0e4736", // W3C
		"", "1-zzzzzzzz-0123456789abcdef01234567",
	}
	want := append([]string{ids[0][:11+2*shortBytes] + "\x00"}, ids[1:]...)
	var v []byte
	bounds := map[int]bool{}
	for _, id := range ids {
		v = appendPosting(v, postingEpoch, id)
		bounds[len(v)] = true
	}
	if got := len(appendPosting(nil, postingEpoch, ids[0])); got != 1+shortBytes {
		t.Errorf("id of the list's epoch takes %d bytes, want %d", got, 1+shortBytes)
	}
	for _, id := range ids[1:3] {
		if got := len(appendPosting(nil, postingEpoch, id)); got != 17 {
			t.Errorf("%s takes %d bytes, want 17", id, got)
		}
	}
	got, err := decodePostings(nil, postingEpoch, v)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	if !isPartial(got[0]) || isPartial(got[1]) {
		t.Errorf("isPartial(%q), isPartial(%q): want true, false", got[0], got[1])
	}
	for n := 1; n < len(v); n++ {
		if _, err := decodePostings(nil, postingEpoch, v[:n]); (err == nil) != bounds[n] {
			t.Fatalf("list cut at %d of %d: err %v", n, len(v), err)
		}
	}
	if _, err := decodePostings(nil, postingEpoch, []byte{7}); err == nil {
		t.Fatal("unknown tag decoded")
	}
}

// Layouts up to 7 wrote every X-Ray id whole: an id of the list's epoch
// reads as the position a short entry gives it, so one trace named in
// both forms (its list appended to after the upgrade) is one position.
func TestWholeEntryOfListEpochIsPartial(t *testing.T) {
	id := "1-5f84c7a5-0123456789abcdef01234567"
	raw, _ := xrayRaw(id)
	whole := append([]byte{entryXRay}, raw[:]...)
	got, err := decodePostings(nil, postingEpoch, append(whole, appendPosting(nil, postingEpoch, id)...))
	if err != nil || len(got) != 2 || got[0] != got[1] || !isPartial(got[0]) {
		t.Fatalf("got %q, %v; want one partial position twice", got, err)
	}
	if p := positionOf(postingEpoch, id); p != got[0] {
		t.Errorf("positionOf (layout 1 keys) = %q, want %q", p, got[0])
	}
	if p := positionOf(postingEpoch+1, id); p != id {
		t.Errorf("positionOf under another epoch = %q, want the id", p)
	}
}

func FuzzDecodePostings(f *testing.F) {
	f.Add(int64(postingEpoch), appendPosting(appendPosting(nil, postingEpoch, "1-5f84c7a5-0123456789abcdef01234567"), postingEpoch, "w3c"))
	f.Add(int64(postingEpoch), []byte{entryShort, 1, 2})
	f.Add(int64(-1), []byte{entryXRay, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add(int64(0), []byte{entryOther, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add(int64(postingEpoch), []byte{entryRun, 2, 1, 2, 3, 4, 5, 6, entryShort, 7, 8, 9})
	f.Add(int64(postingEpoch), []byte{entryRun, 0xff, 1, 2, 3})
	f.Add(int64(postingEpoch), []byte{entryRun})
	f.Fuzz(func(t *testing.T, epoch int64, v []byte) {
		got, err := decodePostings(nil, epoch, v)
		if err != nil {
			return
		}
		// Written again, the positions read back the same.
		var again []byte
		for _, p := range got {
			if isPartial(p) {
				raw, ok := xrayRaw(p[:partialLen-1] + strings.Repeat("0", 35-(partialLen-1)))
				if !ok || !ownEpoch(raw[:], epoch) {
					t.Fatalf("partial position %q of a list of epoch %d", p, epoch)
				}
				again = append(append(again, entryShort), raw[4:4+shortBytes]...)
				continue
			}
			again = appendPosting(again, epoch, p)
		}
		if back, err := decodePostings(nil, epoch, again); err != nil || !slices.Equal(back, got) {
			t.Fatalf("%q written again read %q, %v", got, back, err)
		}
		if back, err := decodePostings(nil, epoch, appendRuns(nil, again)); err != nil || !slices.Equal(back, got) {
			t.Fatalf("%q written again in runs read %q, %v", got, back, err)
		}
	})
}

// Lists in runs (layout 12) read as the entries they were made of, and
// take a byte less per short entry but two per run; runs longer than
// maxRunEntries are split, and runs shorter than minRunEntries left alone.
func TestPostingRunsReadAsEntries(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	ep := int64(postingEpoch)
	for round := range 500 {
		var list []byte
		shorts := 0
		for range rng.IntN(600) {
			var id string
			switch rng.IntN(20) {
			case 0:
				id = "w3c-" + strconv.Itoa(rng.IntN(100))
			case 1:
				id = fmt.Sprintf("1-%08x-%024x", ep+1, rng.Uint64())
			default:
				id = fmt.Sprintf("1-%08x-%06x%018x", ep, 1+rng.IntN(1<<24-1), rng.Uint64())
				shorts++
			}
			list = appendPosting(list, ep, id)
		}
		want, err := decodePostings(nil, ep, list)
		if err != nil {
			t.Fatal(err)
		}
		runs := appendRuns([]byte("x"), list)[1:]
		if got, err := decodePostings(nil, ep, runs); err != nil || !slices.Equal(got, want) {
			t.Fatalf("round %d: runs read %d positions, %v; want %d", round, len(got), err, len(want))
		}
		if len(runs) > len(list) || shorts > 2*minRunEntries*20 && len(runs) >= len(list)-shorts/2 {
			t.Errorf("round %d: %d bytes in runs for %d (%d short entries)", round, len(runs), len(list), shorts)
		}
		for v := runs; len(v) > 0; {
			switch v[0] {
			case entryRun:
				if v[1] < minRunEntries {
					t.Fatalf("round %d: run of %d", round, v[1])
				}
				v = v[2+int(v[1])*shortBytes:]
			default:
				v = v[entryLen(v):]
			}
		}
	}
	long := bytes.Repeat(appendPosting(nil, ep, "1-5f84c7a5-0123456789abcdef01234567"), 2*maxRunEntries+2)
	if runs := appendRuns(nil, long); len(runs) != 3*2+len(long)/4*3 || runs[0] != entryRun || runs[1] != maxRunEntries {
		t.Errorf("a list of %d short entries in %d bytes: % x...", len(long)/4, len(runs), runs[:2])
	}
}

// A store of layout 1 (a key per term and trace, every table in the main
// LSM) is still searched after its upgrade, and is marked current so that
// older builds refuse it once lists are written into it.
func TestLayout1IndexStillReads(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ep := storetest.Base + 605 // past the hour's first minute: its key changes
	old := storetest.TraceID(ep, 1)
	sum := storetest.Summary(old, ep)
	storetest.Put(t, s, sum)
	// Rewrite its index as layout 1 did.
	term := store.Term{Field: store.FieldService, Value: sum.Nodes[0].Name}
	v1Key := append(append(termPrefix(store.PartitionOf(ep), term), epochBytes(ep)...), old...)
	downgrade(t, s, "1", func(main *pebble.DB) error {
		if err := main.DeleteRange([]byte{'i'}, []byte{'i' + 1}, pebble.Sync); err != nil {
			return err
		}
		return main.Set(v1Key, nil, pebble.Sync)
	})
	s = reopen(t, dir, "1")
	newer := storetest.TraceID(ep, 2)
	storetest.Put(t, s, storetest.Summary(newer, ep))
	q := store.SummaryQuery{From: storetest.Base, To: storetest.Base + 3600, AnyOf: []store.Term{term}}
	if got := storetest.Collect(t, s, q); !slices.Equal(got, []string{newer, old}) {
		t.Fatalf("got %v, want [%s %s]", got, newer, old)
	}
}

func TestUnknownLayoutRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(layoutVersion)
	next := strconv.Itoa(n + 1) // a layout of a future build
	if err := s.main.Set([]byte{'v'}, []byte(next), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.RemoveAll(filepath.Join(dir, indexDir)); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(dir, Options{}); err == nil {
		s.Close()
		t.Fatalf("a store of layout %s opened", next)
	}
	if _, err := os.Stat(filepath.Join(dir, indexDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("opening a store of layout %s created its index LSM: %v", next, err)
	}
}

func TestPostingKeyMatchesWriter(t *testing.T) {
	var w postingWriter
	term := store.Term{Field: store.FieldService, Value: "api"}
	w.add(storetest.Base+7, term, "x")
	w.add(storetest.Base+7, term, "y")
	if len(w.keys) != 1 || !bytes.Equal(w.keys[0], postingKey(storetest.Base+7, term)) {
		t.Fatalf("writer keys %q", w.keys)
	}
	if ids, err := decodePostings(nil, storetest.Base+7, w.lists[0]); err != nil || !slices.Equal(ids, []string{"x", "y"}) {
		t.Fatalf("list %q, %v", ids, err)
	}
}

// TestPostingWriterEntryPerAdd: the writer reuses a trace's entry across its
// terms; each list must still hold exactly the entries of the traces that
// added to it, whichever trace and epoch came before.
func TestPostingWriterEntryPerAdd(t *testing.T) {
	var w postingWriter
	a, b := store.Term{Field: store.FieldService, Value: "api"}, store.Term{Field: store.FieldUser, Value: "u"}
	x, y := "1-5f84c7a5-0123456789abcdef01234567", "1-5f84c7a5-fedcba9876543210fedcba98"
	ep := int64(0x5f84c7a5)
	adds := []struct {
		epoch int64
		term  store.Term
		id    string
	}{{ep, a, x}, {ep, b, x}, {ep, a, y}, {ep + 1, a, y}, {ep, b, x}, {ep, b, "w3c"}, {ep + 1, a, "w3c"}}
	// Twice: a writer reset for the next Apply (its lists' arrays reused)
	// writes what a fresh one does.
	for round := range 2 {
		want := map[string][]byte{}
		for _, ad := range adds[round:] {
			w.add(ad.epoch, ad.term, ad.id)
			k := string(postingKey(ad.epoch, ad.term))
			want[k] = appendPosting(want[k], ad.epoch, ad.id)
		}
		if len(w.keys) != len(want) {
			t.Fatalf("round %d: writer has %d lists, want %d", round, len(w.keys), len(want))
		}
		var sb stagedBatch
		w.stage(&sb, false)
		for _, op := range sb.ops {
			if !bytes.Equal(op.value, want[string(op.key)]) {
				t.Errorf("round %d: list %q: %x, want %x", round, op.key, op.value, want[string(op.key)])
			}
		}
		w.reset()
	}
}

// TestPostingWriterKeyChunks: keys filling several chunks, one longer than
// a chunk among them, stay each its own (the map finds them, staged in
// order of first use) through resets that reuse the chunks.
func TestPostingWriterKeyChunks(t *testing.T) {
	var w postingWriter
	ep := int64(0x5f84c7a5)
	for round := range 3 {
		var terms []store.Term
		for i := range 3 * keyChunk / 40 {
			terms = append(terms, store.Term{Field: store.FieldUser, Value: fmt.Sprintf("user-%d-%d", round, i)})
			if i == 100 {
				terms = append(terms, store.Term{Field: store.FieldAnnValue, Value: strings.Repeat("v", keyChunk+round)})
			}
		}
		// Each term twice: the second add finds the first's key.
		for _, id := range []string{"a", "b"} {
			for _, term := range terms {
				w.add(ep, term, id)
			}
		}
		var sb stagedBatch
		w.stage(&sb, false)
		if len(sb.ops) != len(terms) || w.used < 2 {
			t.Fatalf("round %d: %d lists in %d chunks, want %d in several", round, len(sb.ops), w.used+1, len(terms))
		}
		want := appendPosting(appendPosting(nil, ep, "a"), ep, "b")
		for i, op := range sb.ops {
			if k := postingKey(ep, terms[i]); !bytes.Equal(op.key, k) || !bytes.Equal(op.value, want) {
				t.Fatalf("round %d: list %d is %q = %x, want %q = %x", round, i, op.key, op.value, k, want)
			}
		}
		w.reset()
	}
}

// The posting writer's table groups exactly as a map by key did: over
// random Applies of many terms (so that the table grows and its probes
// run long), of values that differ only late or hold NULs, at several
// epochs and traces, each key's list is every entry added under it, in
// order, and the lists are staged in order of their keys' first use.
func TestPostingWriterGroupsAsAMap(t *testing.T) {
	var w postingWriter
	rng := rand.New(rand.NewPCG(23, 1))
	ep := int64(0x5f84c7a5)
	for round := range 6 {
		type list struct {
			key []byte
			val []byte
		}
		var order []string
		want := map[string]*list{}
		n := 100 + rng.IntN(20000)
		for range n {
			term := store.Term{Field: store.FieldAnnValue, Value: fmt.Sprintf("v%d", rng.IntN(n/3+1))}
			switch rng.IntN(4) {
			case 0:
				term.Field = store.FieldUser
			case 1:
				term.Value += "\x00" + strings.Repeat("x", rng.IntN(80))
			}
			epoch := ep + int64(rng.IntN(5))
			id := fmt.Sprintf("1-%08x-%024x", epoch, rng.IntN(50))
			w.add(epoch, term, id)
			k := postingKey(epoch, term)
			l := want[string(k)]
			if l == nil {
				l = &list{key: k}
				want[string(k)] = l
				order = append(order, string(k))
			}
			l.val = appendPosting(l.val, epoch, id)
		}
		var sb stagedBatch
		w.stage(&sb, false)
		if len(sb.ops) != len(order) {
			t.Fatalf("round %d: %d lists, want %d", round, len(sb.ops), len(order))
		}
		for i, op := range sb.ops {
			if l := want[order[i]]; !bytes.Equal(op.key, l.key) || !bytes.Equal(op.value, l.val) {
				t.Fatalf("round %d: list %d is %q = %x, want %q = %x", round, i, op.key, op.value, l.key, l.val)
			}
		}
		w.reset()
	}
}
