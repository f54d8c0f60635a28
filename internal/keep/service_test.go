package keep_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

type noDrop struct{ store.Store }

func (noDrop) DropsTraces() bool { return false }

// A store that cannot drop traces (store.DropReporter) takes only policies
// that keep everything; a refused Put changes nothing.
func TestPutRefusedWhereStoreCannotDrop(t *testing.T) {
	ctx := context.Background()
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := keep.New(ctx, noDrop{st}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(ctx, keep.Policies{DefaultRate: 0.05})
	var ve *keep.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "not supported on this store") {
		t.Fatalf("Put on a store that cannot drop: %v", err)
	}
	if got := s.Get(); got.DefaultRate != 1 {
		t.Errorf("after a refused Put: %+v", got)
	}
	all := keep.Policies{DefaultRate: 1, Policies: []keep.Policy{{Name: "faults", FilterExpression: "fault", KeepRate: 1}}}
	if _, err := s.Put(ctx, all); err != nil {
		t.Errorf("policies that keep everything: %v", err)
	}
	// The same store where drops are honoured takes them, persisted.
	s2, err := keep.New(ctx, st, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.Get(); len(got.Policies) != 1 || got.Policies[0].Name != "faults" {
		t.Errorf("loaded %+v", got)
	}
	if _, err := s2.Put(ctx, keep.Policies{DefaultRate: 0.05}); err != nil {
		t.Fatal(err)
	}

	// Stored policies that no longer compile (a group they named is gone)
	// keep every trace rather than stop the server from starting.
	bad := []byte(`{"Policies":[{"Name":"g","FilterExpression":"group.name = \"gone\"","KeepRate":1}],"DefaultRate":0}`)
	if err := st.PutMeta(ctx, keep.MetaKind, keep.MetaKey, bad); err != nil {
		t.Fatal(err)
	}
	s3, err := keep.New(ctx, st, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("New with stale policies: %v", err)
	}
	if got := s3.Get(); got.DefaultRate != 1 || len(got.Policies) != 0 {
		t.Errorf("stale policies loaded as %+v; want every trace kept", got)
	}
}

// Two services on one store, as two processes on one shared store: the
// second puts into force what the first stored once it refreshes, and a
// refresh with nothing changed changes nothing.
func TestRefreshTakesAnotherProcessesPolicies(t *testing.T) {
	ctx := context.Background()
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := keep.New(ctx, st, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := keep.New(ctx, st, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := keep.Policies{Policies: []keep.Policy{{Name: "faults", FilterExpression: "fault", KeepRate: 1}}, DefaultRate: 0.05}
	if _, err := a.Put(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got := b.Get(); got.DefaultRate != 1 || len(got.Policies) != 0 {
		t.Fatalf("before its refresh b holds %+v", got)
	}
	for range 2 {
		if err := b.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if got := b.Get(); got.DefaultRate != 0.05 || len(got.Policies) != 1 || got.Policies[0].Name != "faults" {
			t.Fatalf("after a refresh b holds %+v", got)
		}
	}
	if err := st.PutMeta(ctx, keep.MetaKind, keep.MetaKey, []byte(`{"Policies":[{"Name":"x","FilterExpression":"fault >","KeepRate":1}],"DefaultRate":0}`)); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx); err == nil {
		t.Error("a stored list that does not compile refreshed without an error")
	}
	if got := b.Get(); got.DefaultRate != 0.05 {
		t.Errorf("a list that does not compile replaced the one in force: %+v", got)
	}
}

// Counts lists decisions by policy: those in force in order, the default,
// then policies no longer in force.
func TestCounts(t *testing.T) {
	ctx := context.Background()
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := keep.New(ctx, st, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, keep.Policies{Policies: []keep.Policy{{Name: "b", FilterExpression: "fault", KeepRate: 1}, {Name: "a", FilterExpression: "error", KeepRate: 1}}, DefaultRate: 0}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []keep.Decision{{Keep: true, Policy: "a"}, {Keep: false, Policy: keep.DefaultPolicyName}, {Keep: true, Policy: "gone"},
		{Keep: true, Policy: "b"}, {Keep: false, Policy: keep.DefaultPolicyName}} {
		s.Counted(d)
	}
	got := fmt.Sprint(s.Counts())
	if want := "[{b 1 0} {a 1 0} {Default 0 2} {gone 1 0}]"; got != want {
		t.Errorf("Counts = %s; want %s", got, want)
	}
}
