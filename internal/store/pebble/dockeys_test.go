package pebble

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// Every trace and document id reads back from a layout 12 key, which holds
// the trace's documents and no other's under its prefix, and packs the
// ids X-Ray SDKs send; a layout 11 store's keys are the text form.
func TestDocKeysRoundTrip(t *testing.T) {
	const ep = 0x5f84c7a5
	traces := []string{
		"1-5f84c7a5-0123456789abcdef01234567", // own epoch
		"1-5f84c7a6-0123456789abcdef01234567", // another epoch
		"1-5F84C7A5-0123456789ABCDEF01234567", // upper case: as text
		"1-5f84c7a5-0123456789abcdef0123456",  // short
		"", "w3c", "\x01", "\x02abc", "\xff",
		"0123456789abcdef0123456789abcdef",
	}
	docs := []string{
		"0123456789abcdef", "0123456789ABCDEF", "0123456789abcde", "0123456789abcdefa",
		"", "a", "01234567", "\xff", "\xffabc", "\xff0123456", "0123456789abcdeg",
		"\xff000000", "\xfe000000", "\xfe\xfe0000000", "0000000",
	}
	packed, text := &Store{}, &Store{layout11: true}
	seen := map[string]string{}
	for _, id := range traces {
		for _, ep := range []int64{ep, 0} {
			prefix := packed.docPrefix(ep, id)
			for _, doc := range docs {
				k := packed.docKey(ep, id, doc)
				if !bytes.HasPrefix(k, prefix) {
					t.Fatalf("key %q of %q/%q lacks its prefix %q", k, id, doc, prefix)
				}
				if got := packed.docIDOf(k[len(prefix):]); got != doc {
					t.Errorf("document id of %q/%q read back as %q", id, doc, got)
				}
				if other, ok := seen[string(k)]; ok {
					t.Errorf("%q/%q and %s share key %q", id, doc, other, k)
				}
				seen[string(k)] = id + "/" + doc
				for _, id2 := range traces {
					if id2 != id && bytes.HasPrefix(k, packed.docPrefix(ep, id2)) {
						t.Errorf("key of %q/%q under %q's prefix", id, doc, id2)
					}
				}
				want := append(append(append(append([]byte{'t'}, epochBytes(ep)...), id...), 0), doc...)
				if got := text.docKey(ep, id, doc); !bytes.Equal(got, want) {
					t.Errorf("text key of %q/%q = %q, want %q", id, doc, got, want)
				}
			}
		}
	}
	// The common case: 12 and 8 bytes instead of 35 and 16 characters.
	k := packed.docKey(ep, traces[0], docs[0])
	if len(k) != 1+8+1+12+8 {
		t.Errorf("key of an X-Ray id of its epoch: %d bytes %q", len(k), k)
	}
	if k := packed.docKey(ep, traces[1], docs[0]); len(k) != 1+8+1+16+8 {
		t.Errorf("key of an X-Ray id of another epoch: %d bytes %q", len(k), k)
	}
	if strings.Contains(string(k), "0123") {
		t.Errorf("hex left in %q", k)
	}
}

// textDocKey is the key a layout 11 store holds the document of the packed
// key k under.
func textDocKey(k []byte) ([]byte, error) {
	if len(k) < 10 || k[0] != 't' {
		return nil, fmt.Errorf("not a document key: %q", k)
	}
	out := append([]byte(nil), k[:9]...)
	rest := k[10:]
	switch k[9] {
	case docIDOwnEpoch:
		if len(rest) < 12 {
			return nil, fmt.Errorf("short document key %q", k)
		}
		out = formatXRay(out, append(binary.BigEndian.AppendUint32(nil, uint32(binary.BigEndian.Uint64(k[1:9]))), rest[:12]...))
		rest = rest[12:]
	case docIDCanonical:
		if len(rest) < 16 {
			return nil, fmt.Errorf("short document key %q", k)
		}
		out, rest = formatXRay(out, rest[:16]), rest[16:]
	case docIDOther:
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			return nil, fmt.Errorf("unterminated trace id in document key %q", k)
		}
		out, rest = append(out, rest[:end]...), rest[end+1:]
	default:
		return nil, fmt.Errorf("document key %q of no form", k)
	}
	return append(append(out, 0), (&Store{}).docIDOf(rest)...), nil
}

// textDocKeys rewrites a store's documents' keys in the text form of
// layout 11 and older.
func textDocKeys(t *testing.T, s *Store) {
	t.Helper()
	var failed error
	if err := copyTable(s.docs, s.docs, 't', func(k []byte) []byte {
		out, err := textDocKey(k)
		if err != nil {
			failed = err
			return k
		}
		return out
	}); err != nil || failed != nil {
		t.Fatal(err, failed)
	}
}

// Any trace and document id give a key that reads back, in either form:
// the packed form's id reads back, and its text form is the text key.
// Summaries' keys are checked too, the document id standing for a second
// trace id (checkSumKeys): one target, as make test fuzzes each for a while.
func FuzzDocKeys(f *testing.F) {
	f.Add(int64(0x5f84c7a5), "1-5f84c7a5-0123456789abcdef01234567", "0123456789abcdef")
	f.Add(int64(0x5f84c7a5), "1-5f84c7a6-0123456789abcdef01234567", "\xff0123456")
	f.Add(int64(-1), "w3c\x01", "01234567")
	f.Add(int64(0x5f84c7a5), "1-5f84c7a5-0123456789abcdef0123456", "1-5f84c7a5-0123456789:bcdef01234567")
	f.Add(int64(0x5f84c7a5), "1-5f84c7a5-", "1-5f84c7a5-000000000000000000000000\x00")
	f.Add(int64(0), "\x02\x00", "\x01")
	f.Add(int64(0x5759e988), "1-5759E988-bd862e3fe1be46a994272793", "1-5759e988-bd862e3fe1be46a99427279g")
	f.Fuzz(func(t *testing.T, ep int64, id, doc string) {
		checkSumKeys(t, ep, id, doc)
		// xrayRaw, which packs both keys' ids, against its table form (as
		// a target of its own it would add its fuzz time to make test).
		checkXRayRaw(t, id)
		checkXRayRaw(t, doc)
		if strings.IndexByte(id, 0) >= 0 {
			t.Skip() // a trace id holding a zero byte shares a prefix in either form
		}
		packed, text := &Store{}, &Store{layout11: true}
		k, prefix := packed.docKey(ep, id, doc), packed.docPrefix(ep, id)
		if !bytes.HasPrefix(k, prefix) || len(k) > docKeyMax(id, doc) {
			t.Fatalf("key %q, prefix %q", k, prefix)
		}
		if got := packed.docIDOf(k[len(prefix):]); got != doc {
			t.Fatalf("document id %q read back as %q", doc, got)
		}
		want := text.docKey(ep, id, doc)
		if got, err := textDocKey(k); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("text form of %q: %q, %v; want %q", k, got, err, want)
		}
	})
}
