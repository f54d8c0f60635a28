package store

import (
	"context"
	"time"
)

// QuotaReport is one SDK client's sampling report for one rule, as a process
// took it, and the reservoir quota the process granted for it.
type QuotaReport struct {
	Rule, Client string
	At           time.Time // the process's clock when it took the report
	Window       time.Time // the statistics window the report counts in
	Rate         float64   // the client's requests per second since its last report
	Quota        int64
	Expires      time.Time
	// The report's counts; zero on a report that only corrects the quota.
	Requests, Sampled, Borrowed int64
}

// QuotaWindow is what every client reported for one rule in one window.
type QuotaWindow struct {
	Rule                        string
	Window                      time.Time
	Requests, Sampled, Borrowed int64
}

// QuotaLedger is implemented by shared stores (Sharer) so that the
// processes answering GetSamplingTargets split each rule's reservoir
// fleet-wide (internal/sampling): every report and grant is a row all
// processes read. Reports are written, never changed; a report added later
// supersedes the client's earlier one for the same rule.
type QuotaLedger interface {
	// AddQuotaReports stores reports; every later QuotaReports call, from
	// any process, sees them.
	AddQuotaReports(ctx context.Context, reports []QuotaReport) error
	// QuotaReports calls fn with the newest report of each client for each
	// of rules, among those taken at or after since.
	QuotaReports(ctx context.Context, rules []string, since time.Time, fn func(QuotaReport) bool) error
	// QuotaWindows sums the counts of every report per rule and window, for
	// windows starting at or after since, by rule then window.
	QuotaWindows(ctx context.Context, since time.Time, fn func(QuotaWindow) bool) error
}
