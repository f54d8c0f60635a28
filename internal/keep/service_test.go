package keep_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
)

type noDrop struct{ store.Store }

func (noDrop) DropsTraces() bool { return false }

// A store that cannot drop traces (ClickHouse today) takes only policies
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
