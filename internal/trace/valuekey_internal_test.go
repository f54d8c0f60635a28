package trace

import (
	"math"
	"testing"
)

// sameValueKey, the linear annotation lookup's comparison, holds two
// values the same exactly when their value keys (what the map lookup
// compares) are.
func TestSameValueKeyIsValueKeyEquality(t *testing.T) {
	values := []any{"", "a", "1", "true", true, false, 0.0, math.Copysign(0, -1), 1.0, 1.5, -1.5,
		1e21, 1e-7, math.Inf(1), math.Inf(-1), math.NaN(), nil, int64(1), []any{}, map[string]any{}}
	for _, a := range values {
		for _, b := range values {
			want := string(appendValueKey(nil, a)) == string(appendValueKey(nil, b))
			if got := sameValueKey(a, b); got != want {
				t.Errorf("sameValueKey(%#v, %#v) = %v, want %v", a, b, got, want)
			}
		}
	}
}
