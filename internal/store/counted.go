package store

import "github.com/roentgen-tracing/roentgen/internal/trace"

// StatsStoredError is an Apply's failure after the statistics of its
// updates were added: a store whose Apply is not one atomic write
// (ClickHouse: an INSERT per table) says so, because retrying the same
// updates would add those deltas again, and says which of the changes
// they were computed from it stored. The caller retries an update whose
// change was not stored with TraceUpdate.Counted set to it; one whose
// change was stored builds on it (a stored summary is the retry's
// Previous; a stored tombstone makes the drop done). Either way the
// Counted change the failed Apply carried was taken back. It wraps the
// cause (errors.Is(err, ErrBusy) still holds).
type StatsStoredError struct {
	Err error
	// Summaries: the kept updates' summaries were stored too.
	Summaries bool
	// Tombstones: the dropped updates' tombstones were stored too.
	Tombstones bool
}

func (e *StatsStoredError) Error() string {
	return "statistics stored: " + e.Err.Error()
}

func (e *StatsStoredError) Unwrap() error { return e.Err }

// Stored reports whether u's change itself was stored by the Apply that
// failed so (its summary, or its tombstone for a drop).
func (e *StatsStoredError) Stored(u *TraceUpdate) bool {
	if u.Drop {
		return e.Tombstones
	}
	return e.Summaries
}

// CountedChange is a change of a trace (Previous to Summary) whose
// statistics deltas were added but whose Summary was not stored.
type CountedChange struct {
	Summary, Previous *trace.Summary
}
