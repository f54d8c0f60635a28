package ingest

import (
	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Keeper decides, on a trace's first summary, whether the trace is kept
// (keep policies, internal/keep).
type Keeper interface {
	Decide(*trace.Summary) keep.Decision
	// Counted is told each decision once the store has taken it.
	Counted(keep.Decision)
}

// SetKeeper puts keep policies into force for traces summarised from now
// on; nil keeps every trace.
func (in *Ingester) SetKeeper(k Keeper) {
	in.mu.Lock()
	in.keeper = k
	in.mu.Unlock()
}

// decide says whether the next summary of a trace whose last state is base
// drops it, and the decision to count (nil when none was taken).
//
// A trace is decided once, on its first summary: a kept trace stays kept
// (a reader may already have seen it), and a dropped trace stays dropped,
// its late documents deleted too. While this process holds the trace in
// its cache their statistics deltas are computed against its whole state;
// once it does not (after a restart or eviction, or on a shared store) the
// store's tombstone (store.ErrDropped, StoredTrace.Dropped) says it was
// dropped, and the late part is counted on its own.
// decided reports whether d is a decision (returned by value: a pointer
// to it was an allocation per new trace).
func (in *Ingester) decide(base *entry, sum *trace.Summary) (drop bool, d keep.Decision, decided bool) {
	if base.dropped {
		return true, d, false
	}
	if base.summary != nil {
		return false, d, false
	}
	in.mu.RLock()
	k := in.keeper
	in.mu.RUnlock()
	if k == nil || !store.CanDrop(in.cfg.Store) {
		return false, d, false
	}
	d = k.Decide(sum)
	return !d.Keep, d, true
}
