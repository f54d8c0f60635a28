package graph

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestStatsResetClearsEveryField: reset clears field by field (pooled sums
// keep their histograms' memory), so a field added to Stats and not to
// reset would carry one batch's sums into the next. Every field is set
// here by reflection, so a new one is covered without editing the test.
func TestStatsResetClearsEveryField(t *testing.T) {
	var s Stats
	v := reflect.ValueOf(&s).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 4))
		default:
			t.Fatalf("Stats.%s is a %s: teach reset and this test about it", v.Type().Field(i).Name, f.Kind())
		}
	}
	s.reset()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Slice && f.Len() == 0 || f.Kind() != reflect.Slice && f.IsZero() {
			continue
		}
		t.Errorf("after reset, Stats.%s = %v", v.Type().Field(i).Name, f.Interface())
	}
	if !s.Empty() {
		t.Errorf("after reset, %+v is not Empty", s)
	}
}

// BinOf caps by hand as math.Min did: the same bin for every value.
func TestBinOfMatchesMathMin(t *testing.T) {
	ref := func(seconds float64) int64 {
		if seconds <= 0 || math.IsNaN(seconds) {
			return 0
		}
		ms := math.Min(math.Round(seconds*1e6)/1e3, 1e15)
		if r := math.Round(ms); r < 1000 {
			return int64(r)
		}
		scale := math.Pow(10, math.Floor(math.Log10(ms))-2)
		return int64(math.Round(ms/scale) * scale)
	}
	vals := []float64{0, math.Copysign(0, -1), -1, math.NaN(), math.Inf(1), math.Inf(-1), 1e-9, 0.0004999, 0.0005, 0.999, 1.005, 1e12, 1e13, 1e15, math.MaxFloat64}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		vals = append(vals, math.Exp(r.Float64()*60-20))
	}
	for _, v := range vals {
		if got, want := BinOf(v), ref(v); got != want {
			t.Fatalf("BinOf(%g) = %d, want %d", v, got, want)
		}
	}
}
