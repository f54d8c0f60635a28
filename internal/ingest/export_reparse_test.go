package ingest

// Reparsed is how many stored documents the ingester decoded again.
func (in *Ingester) Reparsed() int64 { return in.reparsed.Load() }
