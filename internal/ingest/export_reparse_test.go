package ingest

// Reparsed is how many stored documents the ingester decoded again.
func (in *Ingester) Reparsed() int64 { return in.reparsed.Load() }

// AfterFlushTurn makes f run after each turn of the background flush loop.
func (in *Ingester) AfterFlushTurn(f func()) { in.afterTick.Store(&f) }
