package sampling

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestSplitIsProportionalByLargestRemainder(t *testing.T) {
	for _, tc := range []struct {
		size  int64
		rates []float64
		want  []int64
	}{
		{10, []float64{5, 10, 15}, []int64{2, 3, 5}},
		{10, []float64{1, 1, 1}, []int64{4, 3, 3}}, // tie: lowest id
		{1, []float64{3, 9, 3}, []int64{0, 1, 0}},
		{7, []float64{0, 0}, []int64{4, 3}}, // no traffic: even
		{0, []float64{10}, []int64{0}},
		{100, []float64{1, 99}, []int64{1, 99}},
	} {
		clients := map[string]*client{}
		var ids []string
		for i, r := range tc.rates {
			id := fmt.Sprintf("c%d", i)
			ids = append(ids, id)
			clients[id] = &client{rate: r, lastReport: time.Unix(100, 0)}
		}
		for i, id := range ids {
			if got := shareOf(tc.size, id, clients, time.Unix(100, 0)); got != tc.want[i] {
				t.Errorf("shareOf(%d, %s) among %v = %d, want %d", tc.size, id, tc.rates, got, tc.want[i])
			}
		}
	}
}

// heldQuota sums the quotas in force at now.
func heldQuota(f *fleet, rule string, now time.Time) int64 {
	sum := int64(0)
	for _, c := range f.rules[rule] {
		if now.Before(c.expires) {
			sum += c.quota
		}
	}
	return sum
}

// Steady traffic converges within two report rounds to the proportional
// split, and a client that stops reporting gives its share back once its
// quota expires.
func TestQuotaConvergesAndReleases(t *testing.T) {
	f := newFleet()
	now := time.Unix(1_700_000_000, 0)
	rates := map[string]int64{"a": 50, "b": 100, "c": 150}
	var got map[string]int64
	for round := 0; round < 3; round++ {
		got = map[string]int64{}
		for _, id := range []string{"a", "b", "c"} {
			now = now.Add(time.Second)
			got[id], _ = f.quota("r", id, rates[id]*10, 10, now)
		}
		now = now.Add(7 * time.Second)
	}
	if got["a"] != 2 || got["b"] != 3 || got["c"] != 5 {
		t.Fatalf("after three rounds: %v, want a:2 b:3 c:5", got)
	}
	// c vanishes: once it is no longer active, a and b split all 10.
	for round := 0; round < 4; round++ {
		for _, id := range []string{"a", "b"} {
			now = now.Add(time.Second)
			got[id], _ = f.quota("r", id, rates[id]*10, 10, now)
		}
		now = now.Add(8 * time.Second)
	}
	if got["a"]+got["b"] != 10 || got["a"] != 3 {
		t.Errorf("after c left: a:%d b:%d, want 3 and 7", got["a"], got["b"])
	}
}

// checkFleet drives the fleet with a schedule and checks that the quotas in
// force never exceed the reservoir.
func checkFleet(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	f := newFleet()
	now := time.Unix(1_700_000_000, 0)
	size := int64(rng.IntN(20))
	for i := 0; i < steps; i++ {
		now = now.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)
		if rng.IntN(50) == 0 {
			size = int64(rng.IntN(20))
		}
		id := fmt.Sprintf("client-%d", rng.IntN(6))
		q, ttl := f.quota("r", id, int64(rng.IntN(2000)), size, now)
		if q < 0 || q > size || !ttl.After(now) {
			t.Fatalf("seed %d step %d: quota %d (size %d), ttl %v", seed, i, q, size, ttl)
		}
		// The reservoir may shrink (a rule update); quotas handed out
		// before it stay in force until their holders report again, so
		// the bound is the largest reservoir of the last quotaTTL.
		if held := heldQuota(f, "r", now); held > 19 {
			t.Fatalf("seed %d step %d: quotas in force sum to %d", seed, i, held)
		}
	}
}

func TestQuotaNeverExceedsReservoir(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		f := newFleet()
		rng := rand.New(rand.NewPCG(seed, 1))
		now := time.Unix(1_700_000_000, 0)
		const size = 10
		for i := 0; i < 500; i++ {
			now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
			f.quota("r", fmt.Sprintf("c%d", rng.IntN(5)), int64(rng.IntN(1500)), size, now)
			if held := heldQuota(f, "r", now); held > size {
				t.Fatalf("seed %d step %d: quotas in force sum to %d > %d", seed, i, held, size)
			}
		}
	}
}

func FuzzQuota(f *testing.F) {
	f.Add(uint64(1), uint16(100))
	f.Add(uint64(42), uint16(1000))
	f.Fuzz(func(t *testing.T, seed uint64, steps uint16) {
		checkFleet(t, seed, int(steps%2000))
	})
}
