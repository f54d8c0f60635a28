package api

import "context"

// handle adapts a typed handler: it decodes the body into Req first.
func handle[Req any](f func(ctx context.Context, req *Req) (any, error)) func(context.Context, []byte) (any, error) {
	return func(ctx context.Context, body []byte) (any, error) {
		req := new(Req)
		if err := decode(body, req); err != nil {
			return nil, err
		}
		return f(ctx, req)
	}
}

// operations maps every path of the X-Ray API (spec §3.2) to its operation.
func (s *Server) operations() map[string]*op {
	list := []struct {
		path, name string
		h          func(context.Context, []byte) (any, error)
	}{
		// Traces: traces.go
		{"/TraceSegments", "PutTraceSegments", s.putTraceSegments},
		{"/Traces", "BatchGetTraces", s.syncedTraces(handle(s.batchGetTraces))},
		{"/TraceSummaries", "GetTraceSummaries", s.synced(handle(s.getTraceSummaries))},
		// Service graph: graph.go
		{"/ServiceGraph", "GetServiceGraph", s.synced(s.graph.getServiceGraph)},
		{"/TraceGraph", "GetTraceGraph", s.syncedTraces(s.graph.getTraceGraph)},
		{"/TimeSeriesServiceStatistics", "GetTimeSeriesServiceStatistics", s.synced(s.graph.getTimeSeriesServiceStatistics)},
		// Groups: groups.go
		{"/CreateGroup", "CreateGroup", s.groups.createGroup},
		{"/GetGroup", "GetGroup", s.groups.getGroup},
		{"/Groups", "GetGroups", s.groups.getGroups},
		{"/UpdateGroup", "UpdateGroup", s.groups.updateGroup},
		{"/DeleteGroup", "DeleteGroup", s.groups.deleteGroup},
		// Sampling: sampling.go
		{"/GetSamplingRules", "GetSamplingRules", s.sampling.getSamplingRules},
		{"/CreateSamplingRule", "CreateSamplingRule", s.sampling.createSamplingRule},
		{"/UpdateSamplingRule", "UpdateSamplingRule", s.sampling.updateSamplingRule},
		{"/DeleteSamplingRule", "DeleteSamplingRule", s.sampling.deleteSamplingRule},
		{"/SamplingTargets", "GetSamplingTargets", s.sampling.getSamplingTargets},
		{"/SamplingStatisticSummaries", "GetSamplingStatisticSummaries", s.sampling.getSamplingStatisticSummaries},
		// Tags: groups.go (groups and sampling rules are the taggable resources)
		{"/TagResource", "TagResource", s.groups.tagResource},
		{"/UntagResource", "UntagResource", s.groups.untagResource},
		{"/ListTagsForResource", "ListTagsForResource", s.groups.listTagsForResource},
		// Account settings and daemon telemetry: settings.go
		{"/TelemetryRecords", "PutTelemetryRecords", handle(s.putTelemetryRecords)},
		// Account settings kept in store metadata (meta.go): encryption.go,
		// destination.go, indexing.go, policies.go
		{"/EncryptionConfig", "GetEncryptionConfig", handle(s.getEncryptionConfig)},
		{"/PutEncryptionConfig", "PutEncryptionConfig", handle(s.putEncryptionConfig)},
		{"/GetTraceSegmentDestination", "GetTraceSegmentDestination", handle(s.getTraceSegmentDestination)},
		{"/UpdateTraceSegmentDestination", "UpdateTraceSegmentDestination", handle(s.updateTraceSegmentDestination)},
		{"/GetIndexingRules", "GetIndexingRules", handle(s.getIndexingRules)},
		{"/UpdateIndexingRule", "UpdateIndexingRule", handle(s.updateIndexingRule)},
		{"/PutResourcePolicy", "PutResourcePolicy", handle(s.putResourcePolicy)},
		{"/ListResourcePolicies", "ListResourcePolicies", handle(s.listResourcePolicies)},
		{"/DeleteResourcePolicy", "DeleteResourcePolicy", handle(s.deleteResourcePolicy)},
		// Trace retrieval, served from the store: retrieval.go
		{"/StartTraceRetrieval", "StartTraceRetrieval", handle(s.startTraceRetrieval)},
		{"/ListRetrievedTraces", "ListRetrievedTraces", handle(s.listRetrievedTraces)},
		{"/GetRetrievedTracesGraph", "GetRetrievedTracesGraph", handle(s.getRetrievedTracesGraph)},
		{"/CancelTraceRetrieval", "CancelTraceRetrieval", handle(s.cancelTraceRetrieval)},
		// Roentgen's own operations: aggregates.go
		{"/roentgen/TraceAggregates", "TraceAggregates", s.synced(handle(s.traceAggregates))},
		{"/roentgen/TelemetryRecords", "ReadTelemetryRecords", handle(s.readTelemetryRecords)},
		// Keep policies: keep.go
		{"/roentgen/GetKeepPolicies", "GetKeepPolicies", handle(s.getKeepPolicies)},
		{"/roentgen/PutKeepPolicies", "PutKeepPolicies", handle(s.putKeepPolicies)},
		// Insights (anomaly detection): insights.go
		{"/InsightSummaries", "GetInsightSummaries", handle(s.getInsightSummaries)},
		{"/Insight", "GetInsight", handle(s.getInsight)},
		{"/InsightEvents", "GetInsightEvents", handle(s.getInsightEvents)},
		{"/InsightImpactGraph", "GetInsightImpactGraph", handle(s.getInsightImpactGraph)},
	}
	m := make(map[string]*op, len(list))
	for _, o := range list {
		m[o.path] = &op{name: o.name, handle: o.h}
	}
	// Its documents are copied out of the body (segdocs.go) before ingest.
	m["/TraceSegments"].pooledBody = true
	return m
}
