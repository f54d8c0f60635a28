package store

import "github.com/roentgen-tracing/roentgen/internal/trace"

// StatsStoredError is an Apply's failure after the statistics of its
// updates were added and before their summaries were stored: a store whose
// Apply is not one atomic write (ClickHouse: an INSERT per table) says so,
// because retrying the same updates would add those deltas again. The
// caller retries them with TraceUpdate.Counted set. It wraps the cause
// (errors.Is(err, ErrBusy) still holds).
type StatsStoredError struct{ Err error }

func (e *StatsStoredError) Error() string {
	return "statistics stored, summaries not: " + e.Err.Error()
}

func (e *StatsStoredError) Unwrap() error { return e.Err }

// CountedChange is a change of a trace (Previous to Summary) whose
// statistics deltas were added but whose Summary was not stored.
type CountedChange struct {
	Summary, Previous *trace.Summary
}
