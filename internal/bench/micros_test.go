package bench

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// appendMicros writes what strconv writes, for timestamps and anything
// else, exact ties (values like 1/128, whose seventh decimal is a 5 with
// nothing after) included.
func TestAppendMicrosIsStrconvs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(v float64) {
		if got, want := string(appendMicros(nil, v)), strconv.FormatFloat(v, 'f', 6, 64); got != want {
			t.Fatalf("%v (%#x): %s, want %s", v, math.Float64bits(v), got, want)
		}
	}
	for _, v := range []float64{0, -0.0, 1, 0.5, 1.0 / 128, 3.0 / 128, 1e-7, 5e-7, 1.5e-6, 1 << 44, 1 << 45, 1e300, -1.25, math.SmallestNonzeroFloat64, math.MaxFloat64, math.Inf(1), math.NaN(), 1_800_000_000.0000005, 999999.9999995} {
		check(v)
	}
	for range 50_000 {
		check(1.7e9 + rng.Float64()*2e8) // timestamps
		check(math.Float64frombits(rng.Uint64()))
		check(rng.Float64() * math.Pow(2, float64(rng.IntN(80)-30)))
		// Ties: an odd multiple of 1/(2×10^6) that is dyadic (15625 | k).
		check(float64(15625*(2*rng.Uint64N(1<<30)+1)) / (1 << 7) / 15625)
	}
}
