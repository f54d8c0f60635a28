package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/roentgen-tracing/roentgen/internal/keep"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// TestIndexingRuleHonoured: with Transaction Search's destination
// (CloudWatchLogs), GetTraceSummaries finds the Default rule's share of a
// generated workload, exactly the traces whose ids fall in it, within the
// binomial bound of the percentage; 100 finds every trace, and so does
// destination XRay whatever the rule; BatchGetTraces returns unindexed
// traces by id.
func TestIndexingRuleHonoured(t *testing.T) {
	ctx := context.Background()
	a := xraytest.NewAPI(t, t.TempDir())
	c := a.Client(t)
	const n = 2000
	now := time.Now()
	ids := make([]string, n)
	var docs []string
	for i := range ids {
		ids[i] = fmt.Sprintf("1-%08x-%024x", now.Unix()-int64(i%600), 0xabc000+i)
		st := float64(now.Add(-time.Duration(i%600)*time.Second).UnixNano()) / 1e9
		docs = append(docs, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"checkout","start_time":%f,"end_time":%f}`, ids[i], i+1, st, st+0.05))
		if len(docs) == 500 || i == n-1 {
			out, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
			if err != nil || len(out.UnprocessedTraceSegments) > 0 {
				t.Fatalf("PutTraceSegments: %v %+v", err, out)
			}
			docs = nil
		}
	}
	found := func() map[string]bool {
		t.Helper()
		got := map[string]bool{}
		p := xray.NewGetTraceSummariesPaginator(c, &xray.GetTraceSummariesInput{StartTime: aws.Time(now.Add(-11 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute))})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.TraceSummaries {
				got[aws.ToString(s.Id)] = true
			}
		}
		return got
	}
	setRule := func(pct float64) {
		t.Helper()
		out, err := c.UpdateIndexingRule(ctx, &xray.UpdateIndexingRuleInput{Name: aws.String("Default"),
			Rule: &types.IndexingRuleValueUpdateMemberProbabilistic{Value: types.ProbabilisticRuleValueUpdate{DesiredSamplingPercentage: aws.Float64(pct)}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToFloat64(out.IndexingRule.Rule.(*types.IndexingRuleValueMemberProbabilistic).Value.ActualSamplingPercentage); got != pct {
			t.Errorf("ActualSamplingPercentage %v, want %v", got, pct)
		}
	}

	// Destination XRay (the default): the rule does not apply.
	if _, err := c.UpdateIndexingRule(ctx, &xray.UpdateIndexingRuleInput{Name: aws.String("Default"),
		Rule: &types.IndexingRuleValueUpdateMemberProbabilistic{Value: types.ProbabilisticRuleValueUpdate{DesiredSamplingPercentage: aws.Float64(10)}}}); err != nil {
		t.Fatal(err)
	}
	if got := len(found()); got != n {
		t.Fatalf("destination XRay, rule 10%%: %d of %d traces found; want all", got, n)
	}

	if _, err := c.UpdateTraceSegmentDestination(ctx, &xray.UpdateTraceSegmentDestinationInput{Destination: types.TraceSegmentDestinationCloudWatchLogs}); err != nil {
		t.Fatal(err)
	}
	setRule(10)
	got := found()
	var unindexed []string
	for _, id := range ids {
		if got[id] != keep.Indexed(id, 0.1) {
			t.Fatalf("trace %s found %v; its id says indexed %v", id, got[id], !got[id])
		}
		if !got[id] && len(unindexed) < 5 {
			unindexed = append(unindexed, id)
		}
	}
	// 10% ± 4.5 standard deviations of the binomial count.
	mean, sd := n*0.1, math.Sqrt(n*0.1*0.9)
	if k := float64(len(got)); math.Abs(k-mean) > 4.5*sd {
		t.Errorf("10%%: %v of %d traces indexed; want %v ± %.0f", k, n, mean, 4.5*sd)
	}
	// PartialScan samples among the indexed traces, independently of the rule.
	half := 0
	p := xray.NewGetTraceSummariesPaginator(c, &xray.GetTraceSummariesInput{StartTime: aws.Time(now.Add(-11 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute)),
		Sampling: aws.Bool(true), SamplingStrategy: &types.SamplingStrategy{Name: types.SamplingStrategyNamePartialScan, Value: aws.Float64(0.5)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.TraceSummaries {
			if !got[aws.ToString(s.Id)] {
				t.Fatalf("PartialScan found unindexed trace %s", aws.ToString(s.Id))
			}
			half++
		}
	}
	if m, sd := float64(len(got))*0.5, math.Sqrt(float64(len(got))*0.25); math.Abs(float64(half)-m) > 4.5*sd {
		t.Errorf("PartialScan 0.5 of %d indexed traces: %d; want %v ± %.0f", len(got), half, m, 4.5*sd)
	}

	// The console's aggregates count what search finds.
	code, body := postAggregates(t, a.URL, map[string]any{"StartTime": now.Add(-11 * time.Minute).Unix(), "EndTime": now.Add(time.Minute).Unix()})
	var agg aggOut
	if err := json.Unmarshal(body, &agg); code != 200 || err != nil || agg.TracesMatched != int64(len(got)) {
		t.Errorf("TraceAggregates: %d %s; want %d matched", code, body, len(got))
	}
	bt, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: unindexed})
	if err != nil || len(bt.Traces) != len(unindexed) || len(bt.UnprocessedTraceIds) != 0 {
		t.Fatalf("BatchGetTraces of unindexed traces: %v, %d traces, unprocessed %v", err, len(bt.Traces), bt.UnprocessedTraceIds)
	}

	setRule(100)
	if got := len(found()); got != n {
		t.Errorf("100%%: %d of %d traces found", got, n)
	}
	setRule(0)
	if got := len(found()); got != 0 {
		t.Errorf("0%%: %d traces found", got)
	}
}
