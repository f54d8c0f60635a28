package pebble

import (
	"reflect"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

func TestAddedTerms(t *testing.T) {
	tm := func(f, v string) store.Term { return store.Term{Field: f, Value: v} }
	old := []store.Term{tm("ak", "a"), tm("svc", "x"), tm("svc", "y"), tm("user", "u")}
	cur := []store.Term{tm("ak", "a"), tm("ak", "b"), tm("svc", "y"), tm("type", "t")}
	added := func(old, cur []store.Term) (got []string) {
		addedTerms(old, cur, func(t store.Term) { got = append(got, t.Field+" "+t.Value) })
		return got
	}
	if got, want := added(old, cur), []string{"ak b", "type t"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := added(nil, cur[:2]), []string{"ak a", "ak b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("new trace: got %q, want %q", got, want)
	}
	if got := added(cur, cur); got != nil {
		t.Fatalf("unchanged: got %q", got)
	}
}
