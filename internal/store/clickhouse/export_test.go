package clickhouse

import (
	"context"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// PrepareDocsInStages is PrepareDocs with its two INSERTs apart, so a test
// can act between a put's pending marks and its documents.
func (s *Store) PrepareDocsInStages(puts []store.DocPut) (marks, docs func(context.Context) error) {
	m, d := s.docRows(puts)
	return func(ctx context.Context) error { return s.c.insert(ctx, "traces", tableColumns["traces"], m) },
		func(ctx context.Context) error { return s.c.insert(ctx, "docs", tableColumns["docs"], d) }
}
