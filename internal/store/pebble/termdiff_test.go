package pebble

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

func TestDiffTerms(t *testing.T) {
	tm := func(f, v string) store.Term { return store.Term{Field: f, Value: v} }
	old := []store.Term{tm("ak", "a"), tm("svc", "x"), tm("svc", "y"), tm("user", "u")}
	cur := []store.Term{tm("ak", "a"), tm("ak", "b"), tm("svc", "y"), tm("type", "t")}
	var got []string
	record := func(t store.Term, add bool) error {
		got = append(got, fmt.Sprintf("%v %s %s", add, t.Field, t.Value))
		return nil
	}
	if err := diffTerms(old, cur, false, record); err != nil {
		t.Fatal(err)
	}
	want := []string{"true ak b", "false svc x", "true type t", "false user u"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	got = nil
	_ = diffTerms(old[:1], cur[:1], true, record)
	if want := []string{"false ak a", "true ak a"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("moved: got %q, want %q", got, want)
	}
	got = nil
	_ = diffTerms(nil, cur[:2], false, record)
	if want := []string{"true ak a", "true ak b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("new trace: got %q, want %q", got, want)
	}
}
