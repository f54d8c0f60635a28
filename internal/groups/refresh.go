package groups

import (
	"context"
	"encoding/json"
	"maps"
)

// load reads every stored group.
func (s *Service) load(ctx context.Context) (map[string]Group, error) {
	recs := map[string]Group{}
	err := s.cfg.Store.ListMeta(ctx, MetaGroups, func(key string, value []byte) bool {
		var g Group
		if json.Unmarshal(value, &g) == nil && g.GroupName == key {
			recs[key] = g
		} else {
			s.cfg.Logger.Warn("stored group does not decode; ignoring it", "group", key)
		}
		return true
	})
	return recs, err
}

// Refresh reloads the groups from the store, for a store other processes
// change too (store.Sharer): a group created through one process must
// scope the next read and the next summary of every other. The expressions
// are compiled again only when a group changed.
func (s *Service) Refresh(ctx context.Context) error {
	// Under the lock: a change this process makes meanwhile is not
	// overwritten by an older read.
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, err := s.load(ctx)
	if err != nil {
		return err
	}
	if !maps.Equal(recs, s.snapshot().records()) {
		s.snap.Store(compile(recs))
	}
	return nil
}
