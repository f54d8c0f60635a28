package jsonword

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// first is Special's meaning, a byte at a time: the index of the first
// special byte, or 8.
func first(w [8]byte) int {
	for i, c := range w {
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			return i
		}
	}
	return 8
}

func check(t *testing.T, w [8]byte) {
	t.Helper()
	m := Special(binary.LittleEndian.Uint64(w[:]))
	got := 8
	if m != 0 {
		got = bits.TrailingZeros64(m) / 8
	}
	if want := first(w); got != want {
		t.Fatalf("%q: first special byte %d, want %d (mask %#x)", w, got, want, m)
	}
}

// Every byte value at every position among plain bytes, and random words
// weighted towards the bytes around the boundaries.
func TestSpecialMarksTheFirstSpecialByte(t *testing.T) {
	for pos := range 8 {
		for c := range 256 {
			w := [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}
			w[pos] = byte(c)
			check(t, w)
		}
	}
	pick := []byte{0, 0x1f, 0x20, 0x21, '"', 0x23, '\\', 0x5b, 0x5d, 0x7f, 0x80, 0xff, 'a'}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var w [8]byte
		for i := range w {
			if r.IntN(2) == 0 {
				w[i] = pick[r.IntN(len(pick))]
			} else {
				w[i] = byte(r.IntN(256))
			}
		}
		check(t, w)
	}
}

func FuzzSpecial(f *testing.F) {
	f.Add(uint64(0x6867666564636261))
	f.Add(uint64(0x2222222222222222))
	f.Fuzz(func(t *testing.T, x uint64) {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], x)
		check(t, w)
	})
}
