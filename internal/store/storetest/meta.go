package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

func testMeta(t *testing.T, h *Harness) {
	ctx := context.Background()
	s := h.New(t)

	if _, err := s.GetMeta(ctx, "rules", "Default"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMeta of a missing key: %v, want ErrNotFound", err)
	}
	for _, kv := range [][2]string{{"b", "2"}, {"a", "1"}, {"c", "3"}, {"a/x", "4"}} {
		if err := s.PutMeta(ctx, "rules", kv[0], []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	// Another kind, and a kind whose name extends this one's, stay separate.
	if err := s.PutMeta(ctx, "groups", "a", []byte("G")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta(ctx, "rulesx", "a", []byte("X")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta(ctx, "rules", "b", []byte("22")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetMeta(ctx, "rules", "b"); err != nil || string(v) != "22" {
		t.Errorf("GetMeta after overwrite = %q, %v", v, err)
	}
	list := func(kind string) (keys, vals []string) {
		if err := s.ListMeta(ctx, kind, func(k string, v []byte) bool {
			keys = append(keys, k)
			vals = append(vals, string(v))
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return
	}
	keys, vals := list("rules")
	if !equalIDs(keys, []string{"a", "a/x", "b", "c"}) || !equalIDs(vals, []string{"1", "4", "22", "3"}) {
		t.Errorf("ListMeta(rules) = %v %v, want keys in order a a/x b c", keys, vals)
	}
	if keys, _ := list("groups"); !equalIDs(keys, []string{"a"}) {
		t.Errorf("ListMeta(groups) = %v", keys)
	}
	n := 0
	_ = s.ListMeta(ctx, "rules", func(string, []byte) bool { n++; return false })
	if n != 1 {
		t.Errorf("ListMeta kept calling after false: %d calls", n)
	}
	if err := s.DeleteMeta(ctx, "rules", "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMeta(ctx, "rules", "never-there"); err != nil {
		t.Errorf("DeleteMeta of a missing key: %v, want nil", err)
	}
	if _, err := s.GetMeta(ctx, "rules", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMeta after delete: %v", err)
	}
	if keys, _ := list("rules"); !equalIDs(keys, []string{"a/x", "b", "c"}) {
		t.Errorf("after delete: %v", keys)
	}
	if v, _ := s.GetMeta(ctx, "groups", "a"); string(v) != "G" {
		t.Errorf("delete in one kind touched another: %q", v)
	}
	// Returned values belong to the caller.
	v, _ := s.GetMeta(ctx, "rules", "c")
	v[0] = 'Z'
	if again, _ := s.GetMeta(ctx, "rules", "c"); string(again) != "3" {
		t.Errorf("mutating a returned value changed the store: %q", again)
	}
}
