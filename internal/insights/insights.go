// Package insights is X-Ray Insights for Roentgen: anomaly detection on
// each service's fault, error and throttle rates, from the per-minute
// statistics the service graph already keeps (internal/graph).
//
// Every minute, once the minute's traces are summarised, the Detector
// compares each service's rates with the band learnt from the hour before
// (band.go), finds which anomalous services are explained by an anomalous
// service they call (root.go), and opens an insight for each service that
// stays anomalous, unexplained, for Confirm minutes in a row: its root
// cause. An insight names the services it impacts, counts the requests it
// touched, records events as it changes, and closes once its root cause has
// been within its band for Recover minutes. Insights and the detector's
// state are kept in the store's metadata, so a restart continues where it
// stopped, and the outcome depends only on the stored statistics and the
// injected clock.
package insights

import (
	"crypto/sha256"
	"fmt"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Categories of an insight (X-Ray's InsightCategory has FAULT; ERROR and
// THROTTLE are Roentgen's, for rises in 4xx and 429 responses).
const (
	CategoryFault    = "FAULT"
	CategoryError    = "ERROR"
	CategoryThrottle = "THROTTLE"
)

// States of an insight.
const (
	StateActive = "ACTIVE"
	StateClosed = "CLOSED"
)

// Counts are RequestImpactStatistics.
type Counts struct {
	Fault int64 `json:"f"`
	OK    int64 `json:"o"`
	Total int64 `json:"t"`
}

func (c *Counts) add(o Counts) { c.Fault += o.Fault; c.OK += o.OK; c.Total += o.Total }

// Service names a service of the graph (X-Ray's ServiceId).
type Service = trace.NodeID

// Event is one recorded state of an insight (InsightEvent).
type Event struct {
	Time    int64  `json:"t"` // epoch seconds
	Summary string `json:"s"`
	// Impact over the minutes since the previous event.
	Client    Counts    `json:"c"`
	RootCause Counts    `json:"r"`
	Top       []Service `json:"top,omitempty"`
}

// Insight is one incident: its root cause, what it impacted and its
// history.
type Insight struct {
	ID         string   `json:"id"`
	Group      string   `json:"g"`
	GroupARN   string   `json:"garn"`
	RootCause  Service  `json:"root"`
	Categories []string `json:"cat"`
	State      string   `json:"state"`
	// Start is the first anomalous minute; End the first minute the root
	// cause was back within its band (0 while active). Epoch seconds.
	Start int64 `json:"st"`
	End   int64 `json:"end,omitempty"`
	// LastUpdate is the clock's time of the last change.
	LastUpdate int64  `json:"up"`
	Summary    string `json:"sum"`
	// Client counts the requests into the topmost impacted services, as
	// their callers (or their users, for entry points) saw them; RootCause
	// the root cause's own requests; both over the whole insight.
	Client     Counts `json:"c"`
	RootImpact Counts `json:"r"`
	// Top lists the anomalous services, the root cause first.
	Top []Service `json:"top"`
	// Impacted are every service the insight has touched (root cause
	// included) and the clients in front of them: the impact graph.
	Impacted []Service `json:"imp"`
	Events   []Event   `json:"ev"`

	// Bands are the root cause's bands per category, frozen when the
	// insight opened: it closes when the rates are back within them, even
	// if a long incident has since moved the learnt baseline.
	Bands map[string]Band `json:"bands"`
	// normalRun counts the consecutive minutes the root cause was normal.
	NormalRun int `json:"nr,omitempty"`
	// Since is the start of the minutes not yet reported in an event.
	Since int64 `json:"since,omitempty"`
	// pending impact since the last event
	PendClient    Counts `json:"pc"`
	PendRootCause Counts `json:"pr"`
}

// Active reports whether the insight is still open.
func (in *Insight) Active() bool { return in.State == StateActive }

// clone is a deep copy for readers.
func (in *Insight) clone() *Insight {
	c := *in
	c.Categories = append([]string(nil), in.Categories...)
	c.Top = append([]Service(nil), in.Top...)
	c.Impacted = append([]Service(nil), in.Impacted...)
	c.Events = append([]Event(nil), in.Events...)
	c.Bands = make(map[string]Band, len(in.Bands))
	for k, v := range in.Bands {
		c.Bands[k] = v
	}
	return &c
}

// insightID is a UUID derived from what identifies an insight, so that
// evaluating the same minutes again (after a crash, or in a second process
// sharing the store) names the same insight.
func insightID(group string, root Service, start int64) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d", group, root.Key(), start)))
	h[6] = h[6]&0x0f | 0x80 // version 8: custom
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
