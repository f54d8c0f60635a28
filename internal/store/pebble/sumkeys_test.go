package pebble

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// textSumKey is the key a store of layout 12 or older holds the summary
// (or tombstone) of the packed key k under.
func textSumKey(k []byte) []byte {
	if len(k) < 9 {
		return k
	}
	return append(bytes.Clone(k[:9]), (&Store{}).summaryKeyTraceID(k)...)
}

// textSumKeys rewrites a store's summaries' and tombstones' keys in the
// text form of layout 12 and older, which the store then reads.
func textSumKeys(t *testing.T, s *Store) {
	t.Helper()
	if s.textSumKeys {
		return
	}
	for _, table := range []byte{'s', 'd'} {
		if err := copyTable(s.main, s.main, table, textSumKey); err != nil {
			t.Fatal(err)
		}
	}
	s.textSumKeys = true
}

// sumKeyIDs are ids of every form around an epoch's prefix P: common ones,
// ones of other epochs, shorter, longer, upper-case, with bytes between and
// beyond the hex digits, and the edges (24 zeros, 24 f's).
func sumKeyIDs(r *rand.Rand, ep uint32) []string {
	p := fmt.Sprintf("1-%08x-", ep)
	hexd := "0123456789abcdef"
	odd := "\x00\x01/:`gA~\xff"
	var ids []string
	ids = append(ids, "", "1", "1-", p[:len(p)-1], p, p+strings.Repeat("0", 24), p+strings.Repeat("f", 24),
		p+strings.Repeat("0", 23), p+strings.Repeat("f", 25), p+strings.Repeat("0", 24)+"\x00",
		fmt.Sprintf("1-%08x-%024x", ep-1, 5), fmt.Sprintf("1-%08x-%024x", ep+1, 5), "0", "2", "w3c", "\xff")
	for range 300 {
		var b strings.Builder
		b.WriteString(p)
		n := 24
		if r.IntN(3) == 0 {
			n = r.IntN(30)
		}
		for range n {
			if r.IntN(20) == 0 {
				b.WriteByte(odd[r.IntN(len(odd))])
			} else if r.IntN(4) == 0 {
				b.WriteByte("0f"[r.IntN(2)]) // edges, so that floors are shared
			} else {
				b.WriteByte(hexd[r.IntN(16)])
			}
		}
		ids = append(ids, b.String())
	}
	return ids
}

// Packed summary keys read back as their ids and sort as the text keys of
// layout 12 do, for ids of every form: pagination and the search's merge
// compare ids as text.
func TestSumKeysSortAsText(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	packed, text := &Store{}, &Store{textSumKeys: true}
	for _, ep := range []int64{0x5f84c7a5, 0, 0xffffffff, 1 << 40, -1} {
		ids := sumKeyIDs(r, uint32(ep))
		for _, a := range ids {
			ka := packed.summaryKey(ep, a)
			if got := packed.summaryKeyTraceID(ka); got != a {
				t.Fatalf("epoch %d: id %q read back as %q from %x", ep, a, got, ka)
			}
			if got := textSumKey(ka); !bytes.Equal(got, text.summaryKey(ep, a)) {
				t.Fatalf("text form of %x: %q", ka, got)
			}
			for _, b := range ids {
				if got, want := bytes.Compare(ka, packed.summaryKey(ep, b)), strings.Compare(a, b); got != want {
					t.Fatalf("epoch %d: %q vs %q: keys compare %d, ids %d", ep, a, b, got, want)
				}
			}
		}
	}
	ep := int64(0x5f84c7a5)
	if k := packed.summaryKey(ep, "1-5f84c7a5-0123456789abcdef01234567"); len(k) != 1+8+1+12 {
		t.Errorf("key of an X-Ray id of its epoch: %d bytes %x", len(k), k)
	}
	if k := packed.summaryKey(ep, ""); len(k) != 9 {
		t.Errorf("key of the empty id: %x", k)
	}
}

// checkSumKeys checks summary keys of two ids (FuzzDocKeys): any key
// part reads as some id without a panic; an id's key reads back, sorts
// against another's as the ids do, and is common only for a common id.
func checkSumKeys(t *testing.T, ep int64, a, b string) {
	s := &Store{}
	_ = sumIDOf(ep, []byte(a)) // stored bytes of any kind
	ka, kb := s.summaryKey(ep, a), s.summaryKey(ep, b)
	if got := s.summaryKeyTraceID(ka); got != a {
		t.Fatalf("id %q read back as %q", a, got)
	}
	if got, want := bytes.Compare(ka, kb), strings.Compare(a, b); got != want {
		t.Fatalf("%q vs %q: keys compare %d, ids %d", a, b, got, want)
	}
	raw, canonical := xrayRaw(a)
	if s.commonKey(ka) != (canonical && ownEpoch(raw[:], ep)) {
		t.Fatalf("%q: common %v", a, s.commonKey(ka))
	}
}

// A partial position's key sorts as its text does among full ids, and its
// prefix is that of the common keys it names.
func TestPartialPositionKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const ep = 0x5f84c7a5
	for _, s := range []*Store{{}, {textSumKeys: true}} {
		ids := sumKeyIDs(r, ep)
		for range 200 {
			raw := make([]byte, 16)
			for i := range raw {
				raw[i] = byte(r.IntN(3)) * 0x7f // few distinct bytes: prefixes shared
			}
			copy(raw, []byte{0x5f, 0x84, 0xc7, 0xa5})
			raw[4] |= 1 // not the zero prefix, which is listed whole
			id := string(formatXRay(nil, raw))
			pos := positionOf(ep, id)
			if !isPartial(pos) {
				t.Fatalf("%s: position %q", id, pos)
			}
			pk := s.positionKey(store.Cursor{Epoch: ep, TraceID: pos})
			prefix, ok := s.partialPrefix(pk)
			if !ok || !bytes.HasPrefix(s.summaryKey(ep, id), prefix) || !s.commonKey(s.summaryKey(ep, id)) {
				t.Fatalf("textSumKeys %v: %s: partial key %x, prefix %x (%v)", s.textSumKeys, id, pk, prefix, ok)
			}
			for _, b := range append(ids, id) {
				kb := s.summaryKey(ep, b)
				if _, partial := s.partialPrefix(kb); partial {
					t.Fatalf("key of %q taken for a partial one", b)
				}
				if got, want := bytes.Compare(pk, kb), cmp.Compare(pos, b); got != want {
					t.Fatalf("textSumKeys %v: partial %q vs %q: keys compare %d, text %d", s.textSumKeys, pos, b, got, want)
				}
			}
		}
	}
}

// A store of layout 13 (summaries' keys packed) answers scans, searches
// and their pages, lookups and dropped traces as one keyed as layout 12
// (text) does from the same Applies, and both in the order of the model:
// newest second first, then trace ids descending as text. Ids of every
// form share seconds, and common ones share their 3-byte prefixes, so
// partial positions name more than one.
func TestPackedSumKeysAnswerAsText(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	packed, text := openTemp(t), openTemp(t)
	textSumKeys(t, text) // empty: only the form it writes changes
	services := []string{"a", "b"}
	type entry struct {
		ep int64
		id string
	}
	var model []entry
	dropped := map[string]int64{}
	seen := map[string]bool{}
	for batch := range 20 {
		var ups []store.TraceUpdate
		for _, id := range sumKeyIDs(rng, uint32(storetest.Base+int64(batch%5)))[:80] {
			ep := storetest.Base + int64(batch%5)
			if rng.IntN(2) == 0 {
				id = prefixedID(ep, uint32(0x01000000+rng.IntN(3)), rng.IntN(1<<20)) // shared prefixes
			}
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			up := store.TraceUpdate{TraceID: id, Epoch: ep, Summary: serviceSummary(id, ep, services[rng.IntN(2)])}
			if rng.IntN(15) == 0 {
				up.Drop = true
				dropped[id] = ep
			} else {
				model = append(model, entry{ep, id})
			}
			ups = append(ups, up)
		}
		for _, s := range []*Store{packed, text} {
			if err := s.Apply(t.Context(), ups); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.SortFunc(model, func(a, b entry) int { return cmp.Or(cmp.Compare(b.ep, a.ep), strings.Compare(b.id, a.id)) })
	var all []string
	for _, e := range model {
		all = append(all, e.id)
	}
	for _, q := range []store.SummaryQuery{serviceQuery(), serviceQuery("a"), serviceQuery("a", "b")} {
		want := storetest.Collect(t, text, q)
		if len(q.AnyOf) == 0 && !slices.Equal(want, all) {
			t.Fatalf("the text-keyed store scans %d traces out of the model's order", len(want))
		}
		if len(q.AnyOf) == 2 && !slices.Equal(want, all) {
			t.Fatalf("the text-keyed store finds %d traces of a or b, out of the model's order", len(want))
		}
		if got := storetest.Collect(t, packed, q); !slices.Equal(got, want) {
			t.Fatalf("%v: %d traces, want %d:\n%q\n%q", q.AnyOf, len(got), len(want), got, want)
		}
		for _, size := range []int{1, 7, 50} {
			var paged []string
			for q.After = (store.Cursor{}); ; {
				var page []*trace.Summary
				if err := packed.Summaries(t.Context(), q, func(x *trace.Summary) bool { page = append(page, x); return len(page) < size }); err != nil {
					t.Fatal(err)
				}
				for _, x := range page {
					paged = append(paged, x.TraceID)
				}
				if len(page) < size {
					break
				}
				q.After = store.CursorOf(page[len(page)-1])
			}
			if !slices.Equal(paged, want) {
				t.Fatalf("%v by pages of %d: %d traces, want %d", q.AnyOf, size, len(paged), len(want))
			}
		}
	}
	for _, e := range model[:100] {
		if sum, err := packed.Head(t.Context(), e.id); err != nil || sum.TraceID != e.id {
			t.Fatalf("Head(%q): %v", e.id, err)
		}
	}
	for id := range dropped {
		if _, err := packed.Head(t.Context(), id); !errors.Is(err, store.ErrDropped) {
			t.Fatalf("Head(%q) of a dropped trace: %v", id, err)
		}
	}
}
