package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"
)

// The generator's documents for a seed stay the same when its code is made
// faster, so runs before and after compare.
func TestGeneratorOutputIsStable(t *testing.T) {
	for size, want := range map[int]string{
		0: "27d74275191fd0f7cb4f86125f114fe2e4d3d98bc701e69c410dd4148bcb1b75",
		1: "9b13237a16d60d1d83c6ffbd0d0b30abc6f115d8e368615cdc623707df9dd6d3",
	} {
		g := NewGenerator(5)
		g.TraceSize = size
		h := sha256.New()
		for _, b := range g.BatchesAt(time.Unix(1_800_000_000, 0), 700, 5000, 50) {
			for _, d := range b {
				h.Write(d)
				h.Write([]byte{0})
			}
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("trace size %d: documents hash to %s, want %s", size, got, want)
		}
	}
}
