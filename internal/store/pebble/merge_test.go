package pebble

import (
	"bytes"
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
