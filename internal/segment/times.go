package segment

import (
	"strconv"
	"time"
)

// MaxTraceSkew is how much earlier than its trace id's epoch a document may
// start: the id is minted by the first service, whose clock may run ahead of
// a downstream host's. An hour is far beyond what NTP-synchronised hosts see
// and still keeps a document out of another day's partition.
const MaxTraceSkew = time.Hour

// timeBounds is the window a document's start_time and end_time must lie
// in. Times outside it are never real: they come from a unit mistake
// (milliseconds sent as seconds), an uninitialised clock (start_time 1.0) or
// a hostile client (end_time 1.7e308), and once stored they file a trace
// where retention drops it at once or never, overflow durations to +Inf in
// API answers and poison service-graph statistics.
type timeBounds struct {
	earliest, latest float64 // epoch seconds, inclusive
	maxAge           time.Duration
}

// timeBounds: no earlier than MaxAge before now (X-Ray keeps 30 days, so an
// older document would be dropped as soon as it is stored) nor than
// MaxTraceSkew before the trace id's epoch when it carries one; no later
// than MaxFuture after now (clock skew). A long-running in-progress segment
// is fine: only its start is checked.
func (o Options) timeBounds(idEpoch int64) timeBounds {
	tb := timeBounds{earliest: o.earliest, latest: o.latest, maxAge: o.MaxAge}
	if !o.prepared {
		tb.earliest, tb.latest = float64(o.Now.Add(-o.MaxAge).Unix()), float64(o.Now.Add(o.MaxFuture).Unix())
	}
	if !o.SkipTraceEpoch {
		// time.Unix(idEpoch, 0).Add(-MaxTraceSkew).Unix(), in whole seconds.
		tb.earliest = max(tb.earliest, float64(idEpoch-int64(MaxTraceSkew/time.Second)))
	}
	return tb
}

func (tb timeBounds) check(x *Segment, topID string) *Error {
	if x.StartTime < tb.earliest {
		return reject(topID, CodeInvalidStartTime, "%s %s starts at %s (%s), before %s: older than the trace id's time or older than %s (the retention)",
			kind(x), x.ID, secs(x.StartTime), isoTime(x.StartTime), isoTime(tb.earliest), tb.maxAge)
	}
	if x.StartTime > tb.latest {
		return reject(topID, CodeInvalidStartTime, "%s %s starts at %s (%s), after %s: in the future (are these milliseconds rather than seconds?)",
			kind(x), x.ID, secs(x.StartTime), isoTime(x.StartTime), isoTime(tb.latest))
	}
	if !x.InProgress && x.EndTime > tb.latest {
		return reject(topID, CodeInvalidEndTime, "%s %s ends at %s (%s), after %s: in the future (are these milliseconds rather than seconds?)",
			kind(x), x.ID, secs(x.EndTime), isoTime(x.EndTime), isoTime(tb.latest))
	}
	return nil
}

// secs renders epoch seconds short whatever their size.
func secs(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// isoTime renders epoch seconds for a message; absurd values stay numbers.
func isoTime(sec float64) string {
	if sec < -1e11 || sec > 1e11 {
		return "out of range"
	}
	return time.Unix(int64(sec), 0).UTC().Format(time.RFC3339)
}
