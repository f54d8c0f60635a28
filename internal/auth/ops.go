package auth

import (
	"sort"
	"strings"
)

// The X-Ray API's paths and operations (spec §3.2) and which roles may call
// each. An operation not listed here is for admin only, so that a new
// operation is never opened to a role by omission.

// Pseudo-operations of the --http port outside the X-Ray API.
const (
	OpMetrics = "metrics" // GET /metrics
	OpPprof   = "pprof"   // GET /debug/pprof/...
	OpConsole = "console" // the console's own GETs (/console/info)
)

var pathOps = map[string]string{
	"/TraceSegments":                 "PutTraceSegments",
	"/Traces":                        "BatchGetTraces",
	"/TraceSummaries":                "GetTraceSummaries",
	"/ServiceGraph":                  "GetServiceGraph",
	"/TraceGraph":                    "GetTraceGraph",
	"/TimeSeriesServiceStatistics":   "GetTimeSeriesServiceStatistics",
	"/CreateGroup":                   "CreateGroup",
	"/GetGroup":                      "GetGroup",
	"/Groups":                        "GetGroups",
	"/UpdateGroup":                   "UpdateGroup",
	"/DeleteGroup":                   "DeleteGroup",
	"/GetSamplingRules":              "GetSamplingRules",
	"/CreateSamplingRule":            "CreateSamplingRule",
	"/UpdateSamplingRule":            "UpdateSamplingRule",
	"/DeleteSamplingRule":            "DeleteSamplingRule",
	"/SamplingTargets":               "GetSamplingTargets",
	"/SamplingStatisticSummaries":    "GetSamplingStatisticSummaries",
	"/TagResource":                   "TagResource",
	"/UntagResource":                 "UntagResource",
	"/ListTagsForResource":           "ListTagsForResource",
	"/TelemetryRecords":              "PutTelemetryRecords",
	"/EncryptionConfig":              "GetEncryptionConfig",
	"/PutEncryptionConfig":           "PutEncryptionConfig",
	"/GetTraceSegmentDestination":    "GetTraceSegmentDestination",
	"/UpdateTraceSegmentDestination": "UpdateTraceSegmentDestination",
	"/Insight":                       "GetInsight",
	"/InsightEvents":                 "GetInsightEvents",
	"/InsightImpactGraph":            "GetInsightImpactGraph",
	"/InsightSummaries":              "GetInsightSummaries",
	"/StartTraceRetrieval":           "StartTraceRetrieval",
	"/CancelTraceRetrieval":          "CancelTraceRetrieval",
	"/ListRetrievedTraces":           "ListRetrievedTraces",
	"/GetRetrievedTracesGraph":       "GetRetrievedTracesGraph",
	"/GetIndexingRules":              "GetIndexingRules",
	"/UpdateIndexingRule":            "UpdateIndexingRule",
	"/PutResourcePolicy":             "PutResourcePolicy",
	"/ListResourcePolicies":          "ListResourcePolicies",
	"/DeleteResourcePolicy":          "DeleteResourcePolicy",
	// Roentgen's own operations beside the X-Ray API (docs/aggregates.md).
	"/roentgen/TraceAggregates":  "TraceAggregates",
	"/roentgen/TelemetryRecords": "ReadTelemetryRecords",
	// Roentgen's own: keep policies (reading them is a read; putting
	// them, by omission from the sets below, admin only).
	"/roentgen/GetKeepPolicies": "GetKeepPolicies",
	"/roentgen/PutKeepPolicies": "PutKeepPolicies",
}

// Operations are the names of every operation at a path, sorted: the
// actions a resource policy may name (as xray:Name).
func Operations() []string {
	out := make([]string, 0, len(pathOps))
	for _, op := range pathOps {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// ingestOps are what SDKs and daemons call.
var ingestOps = set("PutTraceSegments", "PutTelemetryRecords", "GetSamplingRules", "GetSamplingTargets")

// readOps change nothing. GetSamplingTargets is not one: it reports
// statistics and takes reservoir quota.
var readOps = set("BatchGetTraces", "GetTraceSummaries", "GetServiceGraph", "GetTraceGraph",
	"GetTimeSeriesServiceStatistics", "GetGroup", "GetGroups", "GetSamplingRules",
	"GetSamplingStatisticSummaries", "ListTagsForResource", "GetEncryptionConfig",
	"GetTraceSegmentDestination", "GetInsight", "GetInsightEvents", "GetInsightImpactGraph",
	"GetInsightSummaries", "ListRetrievedTraces", "GetRetrievedTracesGraph", "GetIndexingRules",
	"ListResourcePolicies", "TraceAggregates", "ReadTelemetryRecords", "GetKeepPolicies", OpMetrics, OpConsole)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Operation names the X-Ray operation served at path, or "" for a path
// that is none.
func Operation(path string) string {
	if len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	if op, ok := pathOps[path]; ok {
		return op
	}
	// A Roentgen operation not listed above is admin's until it is.
	if rest, ok := strings.CutPrefix(path, "/roentgen/"); ok {
		return "Roentgen" + rest
	}
	return ""
}

// Allowed reports whether role may call the operation op ("" is a path
// that is no operation: the API answers it UnknownOperationException, so
// any valid key may hear that).
func Allowed(role Role, op string) bool {
	switch role {
	case RoleAdmin:
		return true
	case RoleRead:
		return op == "" || readOps[op]
	case RoleIngest:
		return op == "" || op == OpConsole || ingestOps[op]
	}
	return false
}
