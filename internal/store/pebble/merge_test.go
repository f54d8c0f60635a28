package pebble

import (
	"bytes"
	"io"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// The merger must give what Pebble's own concatenation gives, whichever
// way the operands are fed.
func TestConcatenateMatchesDefault(t *testing.T) {
	ops := [][]byte{[]byte("a"), []byte("bc"), nil, []byte("def"), []byte("g")}
	for _, older := range []bool{false, true} {
		got := feed(t, concatenate, ops, older)
		want := feed(t, pebble.DefaultMerger, ops, older)
		if !bytes.Equal(got, want) || string(got) != "abcdefg" {
			t.Fatalf("older=%v: got %q, Pebble's %q, want %q", older, got, want, "abcdefg")
		}
	}
}

// feed merges ops (oldest first) as a compaction (newest first, MergeOlder)
// or an iterator reading forward (MergeNewer) would.
func feed(t *testing.T, m *pebble.Merger, ops [][]byte, older bool) []byte {
	t.Helper()
	first, rest := ops[0], ops[1:]
	if older {
		first = ops[len(ops)-1]
	}
	vm, err := m.Merge(nil, append([]byte(nil), first...))
	if err != nil {
		t.Fatal(err)
	}
	for i := range rest {
		if older {
			v := append([]byte(nil), ops[len(ops)-2-i]...)
			err = vm.MergeOlder(v)
			clear(v) // the caller keeps the operand: the merger must have copied it
		} else {
			v := append([]byte(nil), rest[i]...)
			err = vm.MergeNewer(v)
			clear(v)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := vm.Finish(true)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Mergers are reused once Pebble closes their result: a reused one must
// merge as a new one does, whichever way its last merge was fed, and a
// result must hold until it is closed while other merges run.
func TestMergerReusedAfterClose(t *testing.T) {
	statsOf := mergerFor(func(vs [][]byte) []byte { return bytes.Join(vs, []byte("+")) })
	for round := range 6 {
		older := round%2 == 0
		m, key := concatenate, []byte("i")
		want := "abcdefg"
		if round >= 3 {
			m, key = statsOf, []byte{statTable}
			want = "a+bc++def+g"
			if older {
				want = "g+def++bc+a"
			}
		}
		ops := [][]byte{[]byte("a"), []byte("bc"), nil, []byte("def"), []byte("g")}
		var results [][]byte
		var closers []io.Closer
		for range 3 {
			out, c := feedKey(t, m, key, ops, older)
			results, closers = append(results, out), append(closers, c)
		}
		for i, out := range results {
			if string(out) != want {
				t.Fatalf("round %d, merge %d: %q, want %q", round, i, out, want)
			}
			if closers[i] == nil {
				t.Fatalf("round %d: no closer", round)
			}
			if err := closers[i].Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// feedKey is feed of key, returning the result's closer too.
func feedKey(t *testing.T, m *pebble.Merger, key []byte, ops [][]byte, older bool) ([]byte, io.Closer) {
	t.Helper()
	first, rest := ops[0], ops[1:]
	if older {
		first = ops[len(ops)-1]
	}
	vm, err := m.Merge(key, append([]byte(nil), first...))
	if err != nil {
		t.Fatal(err)
	}
	for i := range rest {
		if older {
			err = vm.MergeOlder(append([]byte(nil), ops[len(ops)-2-i]...))
		} else {
			err = vm.MergeNewer(append([]byte(nil), rest[i]...))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	out, c, err := vm.Finish(true)
	if err != nil {
		t.Fatal(err)
	}
	return out, c
}
