package pebble

import (
	"math/rand/v2"
	"testing"
)

// xrayRawByTable is xrayRaw as it was, a table lookup per digit: the model
// the eight-digit reading is held to.
func xrayRawByTable(id string) (raw [16]byte, ok bool) {
	if len(id) != 35 || id[0] != '1' || id[1] != '-' || id[10] != '-' {
		return raw, false
	}
	j := 0
	for i := 2; i < 35; i += 2 {
		if i == 10 {
			i++
		}
		hi, lo := lowerHex(id[i]), lowerHex(id[i+1])
		if hi > 15 || lo > 15 {
			return [16]byte{}, false
		}
		raw[j] = hi<<4 | lo
		j++
	}
	return raw, true
}

func checkXRayRaw(t *testing.T, id string) {
	t.Helper()
	want, wantOK := xrayRawByTable(id)
	got, ok := xrayRaw(id)
	gotB, okB := xrayRaw([]byte(id))
	if ok != wantOK || got != want || okB != ok || gotB != got {
		t.Fatalf("xrayRaw(%q) = %x, %v ([]byte: %x, %v); want %x, %v", id, got, ok, gotB, okB, want, wantOK)
	}
}

// Every byte value at every digit position of a canonical id, and random
// ids, decode as the table did: accepted only with all 32 digits in 0-9a-f.
func TestXRayRawMatchesTable(t *testing.T) {
	base := []byte("1-5759e988-bd862e3fe1be46a994272793")
	for i := range base {
		for c := range 256 {
			id := append([]byte(nil), base...)
			id[i] = byte(c)
			checkXRayRaw(t, string(id))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	const digits = "0123456789abcdefABCDEF-g/:`@\x80\xff"
	for range 100000 {
		id := append([]byte(nil), base...)
		for i := 2; i < len(id); i++ {
			if i != 10 {
				id[i] = digits[r.IntN(16)]
				if r.IntN(200) == 0 {
					id[i] = digits[r.IntN(len(digits))]
				}
			}
		}
		checkXRayRaw(t, string(id))
	}
	for _, id := range []string{"", "1-", string(base[:34]), string(base) + "0", "2" + string(base[1:]), "1_" + string(base[2:])} {
		checkXRayRaw(t, id)
	}
}

// BenchmarkXRayRaw decodes canonical ids, as every document's key and
// summary's postings do.
func BenchmarkXRayRaw(b *testing.B) {
	ids := []string{"1-5759e988-bd862e3fe1be46a994272793", "1-693a0f4c-0123456789abcdef01234567", "1-693a0f4d-fedcba9876543210fedcba98"}
	n := 0
	for i := 0; b.Loop(); i++ {
		if raw, ok := xrayRaw(ids[i%len(ids)]); ok {
			n += int(raw[15])
		}
	}
	_ = n
}
