package graph

import (
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
