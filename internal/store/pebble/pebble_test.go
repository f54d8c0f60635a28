package pebble_test

import (
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/store/storetest"
)

func open(t *testing.T, dir string) *pebble.Store {
	t.Helper()
	s, err := pebble.Open(dir, pebble.Options{CombineStats: graph.CombineStats})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	dirs := map[store.Store]string{}
	storetest.Run(t,
		func(t *testing.T) store.Store {
			dir := t.TempDir()
			s := open(t, dir)
			dirs[s] = dir
			return s
		},
		storetest.WithReopen(func(t *testing.T, s store.Store) store.Store {
			dir := dirs[s]
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			r := open(t, dir)
			dirs[r] = dir
			return r
		}))
}
