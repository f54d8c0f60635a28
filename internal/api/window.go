package api

import (
	"math"
	"time"
)

// Bounds of the time windows that reads take (GetTraceSummaries,
// GetServiceGraph, GetTimeSeriesServiceStatistics). Every loop over a window
// is bounded by them, so no request can pin a core.
const (
	// maxFuture is how far past the server's clock a time may lie: clocks
	// disagree, but an EndTime years ahead is a mistake (often milliseconds
	// passed as seconds), not a query.
	maxFuture = 24 * time.Hour
	// maxGraphWindow is the longest window GetServiceGraph and
	// GetTimeSeriesServiceStatistics answer: X-Ray's retention.
	maxGraphWindow = 30 * 24 * time.Hour
)

// checkWindow validates a request's StartTime and EndTime in one place: both
// given, finite epoch seconds from 1970 to a day past now, StartTime before
// EndTime, and at most max apart (0: no limit). The messages say which
// member is wrong and why.
func (s *Server) checkWindow(start, end *Timestamp, max time.Duration) (float64, float64, error) {
	if start == nil || end == nil {
		return 0, 0, invalid("StartTime and EndTime are required")
	}
	latest := float64(s.now().Add(maxFuture).Unix())
	for _, t := range []struct {
		name string
		v    float64
	}{{"StartTime", float64(*start)}, {"EndTime", float64(*end)}} {
		switch {
		case math.IsNaN(t.v) || math.IsInf(t.v, 0):
			return 0, 0, invalid("%s must be a finite number of epoch seconds", t.name)
		case t.v < 0:
			return 0, 0, invalid("%s (%s) is before 1970; times are epoch seconds", t.name, ftoa(t.v))
		case t.v > latest:
			hint := ""
			if t.v > 1e11 {
				hint = " (milliseconds passed as seconds?)"
			}
			return 0, 0, invalid("%s (%s) is more than %s in the future%s; times are epoch seconds", t.name, ftoa(t.v), maxFuture, hint)
		}
	}
	from, to := float64(*start), float64(*end)
	if to <= from {
		return 0, 0, invalid("EndTime (%s) must be after StartTime (%s)", ftoa(to), ftoa(from))
	}
	// Compared in seconds: as a time.Duration the span overflows past 292 years.
	if max > 0 && to-from > max.Seconds() {
		return 0, 0, invalid("the window from StartTime to EndTime is %s long; at most %d days are allowed",
			time.Duration((to-from)*float64(time.Second)).Round(time.Second), int(max.Hours()/24))
	}
	return from, to, nil
}
