package store

import "context"

// DocPreparer is implemented by stores whose writes are slow round trips
// (ClickHouse) so that the ingest path need not hold a trace's lock while
// its documents travel. PrepareDocs fixes the order of puts among the
// writes of the same traces (their versions) at once; the returned commit
// then stores them as PutDocs would, and may run outside the caller's
// locks, concurrently with other commits: a put prepared later supersedes
// one prepared earlier whatever order their commits finish in. Nothing is
// stored until commit returns nil.
type DocPreparer interface {
	PrepareDocs(puts []DocPut) (commit func(ctx context.Context) error)
}
