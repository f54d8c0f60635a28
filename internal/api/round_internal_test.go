package api

import (
	"encoding/json"
	"math"
	"testing"
)

// A duration stored by a build that did not bound times (end_time 1.7e308)
// rounds to a number JSON can carry: it answered 500 ("json: unsupported
// value: +Inf") for every GetTraceSummaries over its window.
func TestRound6StaysFinite(t *testing.T) {
	for _, f := range []float64{1.7e308 - 1.8e9, math.MaxFloat64, -math.MaxFloat64, math.Inf(1), math.NaN(), 1e15, 2.5} {
		if _, err := json.Marshal(round6(f)); err != nil {
			t.Errorf("round6(%g) = %g: %v", f, round6(f), err)
		}
	}
	if round6(1.2345678) != 1.234568 {
		t.Errorf("round6(1.2345678) = %g", round6(1.2345678))
	}
}
