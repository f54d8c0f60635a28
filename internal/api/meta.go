package api

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Account settings kept as JSON in the store's metadata, so that they
// survive restarts: encryption.go, destination.go, indexing.go,
// policies.go and retrieval.go.
const (
	metaAccount    = "account"   // one key per setting
	metaPolicies   = "policy"    // key: policy name
	metaRetrievals = "retrieval" // key: retrieval token
)

// getMetaJSON decodes the value under kind/key into v; found is false when
// there is none (v is then left as it was: the default).
func (s *Server) getMetaJSON(ctx context.Context, kind, key string, v any) (found bool, err error) {
	b, err := s.cfg.Store.GetMeta(ctx, kind, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

func (s *Server) putMetaJSON(ctx context.Context, kind, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.cfg.Store.PutMeta(ctx, kind, key, b)
}
