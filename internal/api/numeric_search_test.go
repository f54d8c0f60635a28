package api_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
)

// Numeric filters, narrowed by the index, find through aws-sdk-go-v2
// exactly what testing every stored trace finds.
func TestNumericSearchEndToEnd(t *testing.T) {
	e := newSearchEnv(t, t.TempDir())
	e.ingestFixtures(t)
	ids := e.ingestGenerated(t)
	for _, expr := range []string{
		`responsetime > 5`, `responsetime >= 3`, `responsetime = 4`, `duration > 6`, `duration >= 2 AND service("data-plane")`,
		`http.status >= 500`, `http.status = 404`, `http.status >= 400 AND responsetime > 2.5`,
		`annotation.age > 29`, `annotation.age <= 25`, `annotation.age = 31`,
		`service("backend.example.com") { responsetime > 0.5 }`, `edge("api.example.com", "backend.example.com") { responsetime >= 1 }`,
		`fault OR responsetime > 3.5`, `!(responsetime > 5)`,
	} {
		got, err := e.search(t, xray.GetTraceSummariesInput{FilterExpression: aws.String(expr)})
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		want := e.bruteForce(t, expr, nil)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: found %v, testing every trace finds %v", expr, got, want)
		}
	}
	// The generated traces the examples above are about are there.
	if got, _ := e.search(t, xray.GetTraceSummariesInput{FilterExpression: aws.String(`responsetime > 5`)}); !slices.Contains(got, ids[gData]) || !slices.Contains(got, ids[gGame]) {
		t.Fatalf("responsetime > 5 found %v", got)
	}
}

// A filter the index proves matches nothing answers on its first page,
// having examined nothing, without a NextToken.
func TestNumericSearchNoMatchIsOnePage(t *testing.T) {
	e := newSearchEnv(t, t.TempDir())
	e.ingestGenerated(t)
	for _, expr := range []string{`responsetime > 1000`, `http.status = 200.5`, `annotation.age > 1e9 AND service("x")`} {
		out, err := e.c.GetTraceSummaries(context.Background(), &xray.GetTraceSummariesInput{
			StartTime: aws.Time(e.now.Add(-time.Hour)), EndTime: aws.Time(e.now.Add(time.Minute)), FilterExpression: aws.String(expr)})
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if len(out.TraceSummaries) != 0 || out.NextToken != nil || aws.ToInt64(out.TracesProcessedCount) != 0 {
			t.Errorf("%s: %d summaries, NextToken %v, %d processed; want none, none, 0",
				expr, len(out.TraceSummaries), out.NextToken != nil, aws.ToInt64(out.TracesProcessedCount))
		}
	}
}
