package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// putMany stores n single-segment traces with consecutive ids at epoch
// offsets before now; every third one faults.
func (e *searchEnv) putMany(t *testing.T, from, n int, ago time.Duration) []string {
	t.Helper()
	var ids []string
	var docs []string
	for i := from; i < from+n; i++ {
		id := fmt.Sprintf("1-%08x-%024x", e.now.Add(-ago).Unix()+int64(i%30), 0x100000+i)
		ids = append(ids, id)
		start := float64(e.now.Add(-ago).Unix() + int64(i%30))
		docs = append(docs, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"svc-%d","start_time":%f,"end_time":%f,"fault":%v,"annotations":{"batch":"b"}}`,
			id, 0x200000+i, i%5, start, start+0.5, i%3 == 0))
		if len(docs) == 50 {
			e.putDocs(t, docs...)
			docs = nil
		}
	}
	if len(docs) > 0 {
		e.putDocs(t, docs...)
	}
	return ids
}

func TestPagingIsStableWhileTracesArrive(t *testing.T) {
	e := newSearchEnv(t, t.TempDir())
	stored := e.putMany(t, 0, 250, 10*time.Minute)
	in := &xray.GetTraceSummariesInput{
		StartTime: aws.Time(e.now.Add(-time.Hour)), EndTime: aws.Time(e.now.Add(time.Minute)),
		FilterExpression: aws.String(`annotation.batch = "b"`),
	}
	seen := map[string]bool{}
	var order []float64
	var processed int64
	for page := 0; ; page++ {
		out, err := e.c.GetTraceSummaries(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		processed += aws.ToInt64(out.TracesProcessedCount)
		if len(out.TraceSummaries) > 100 {
			t.Fatalf("page %d has %d summaries", page, len(out.TraceSummaries))
		}
		for _, s := range out.TraceSummaries {
			if seen[*s.Id] {
				t.Fatalf("trace %s on two pages", *s.Id)
			}
			seen[*s.Id] = true
			order = append(order, float64(s.StartTime.UnixNano()))
		}
		if page == 0 {
			// New traces, newer than everything, arrive between pages.
			e.putMany(t, 1000, 60, 0)
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if len(seen) != len(stored) {
		t.Fatalf("paging returned %d traces, want the %d stored before it began", len(seen), len(stored))
	}
	for _, id := range stored {
		if !seen[id] {
			t.Fatalf("trace %s is missing", id)
		}
	}
	for i := 1; i < len(order); i++ {
		if order[i] > order[i-1] {
			t.Fatalf("summary %d starts after summary %d: not newest first", i, i-1)
		}
	}
	if processed != int64(len(stored)) {
		t.Errorf("TracesProcessedCount sums to %d over the pages, want %d (the indexed candidates)", processed, len(stored))
	}
}

func TestSamplingAndTimeRangeTypes(t *testing.T) {
	e := newSearchEnv(t, t.TempDir())
	e.putMany(t, 0, 400, 10*time.Minute)
	count := func(in xray.GetTraceSummariesInput) (int, int64) {
		in.StartTime, in.EndTime = aws.Time(e.now.Add(-time.Hour)), aws.Time(e.now.Add(time.Minute))
		n, p := 0, int64(0)
		for {
			out, err := e.c.GetTraceSummaries(context.Background(), &in)
			if err != nil {
				t.Fatal(err)
			}
			n += len(out.TraceSummaries)
			p += aws.ToInt64(out.TracesProcessedCount)
			if out.NextToken == nil {
				return n, p
			}
			in.NextToken = out.NextToken
		}
	}
	all, processed := count(xray.GetTraceSummariesInput{})
	if all != 400 || processed != 400 {
		t.Fatalf("all traces: %d returned, %d processed; want 400, 400", all, processed)
	}
	half, _ := count(xray.GetTraceSummariesInput{Sampling: aws.Bool(true),
		SamplingStrategy: &types.SamplingStrategy{Name: types.SamplingStrategyNameFixedRate, Value: aws.Float64(0.5)}})
	if half < 150 || half > 250 {
		t.Errorf("FixedRate 0.5 returned %d of 400", half)
	}
	again, _ := count(xray.GetTraceSummariesInput{Sampling: aws.Bool(true),
		SamplingStrategy: &types.SamplingStrategy{Name: types.SamplingStrategyNameFixedRate, Value: aws.Float64(0.5)}})
	if again != half {
		t.Errorf("FixedRate 0.5 is not deterministic: %d then %d", half, again)
	}
	scanned, scannedProcessed := count(xray.GetTraceSummariesInput{Sampling: aws.Bool(true),
		SamplingStrategy: &types.SamplingStrategy{Name: types.SamplingStrategyNamePartialScan, Value: aws.Float64(0.25)}})
	if scannedProcessed < 50 || scannedProcessed > 150 || int64(scanned) != scannedProcessed {
		t.Errorf("PartialScan 0.25: %d returned, %d processed; want about 100 of each", scanned, scannedProcessed)
	}
	def, _ := count(xray.GetTraceSummariesInput{Sampling: aws.Bool(true)})
	if def >= 100 || def == 0 {
		t.Errorf("Sampling=true returned %d of 400, want about 10%%", def)
	}
	// Event and Service windows: traces that ran 10 minutes ago are outside
	// a window of the last 5 minutes, inside one of the last 15.
	for _, rt := range []types.TimeRangeType{types.TimeRangeTypeEvent, types.TimeRangeTypeService} {
		for _, c := range []struct {
			ago  time.Duration
			want int
		}{{5 * time.Minute, 0}, {15 * time.Minute, 400}} {
			in := &xray.GetTraceSummariesInput{StartTime: aws.Time(e.now.Add(-c.ago)), EndTime: aws.Time(e.now), TimeRangeType: rt}
			n := 0
			for {
				out, err := e.c.GetTraceSummaries(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				n += len(out.TraceSummaries)
				for _, s := range out.TraceSummaries {
					if rt == types.TimeRangeTypeEvent && s.MatchedEventTime == nil {
						t.Fatalf("Event summary %s has no MatchedEventTime", *s.Id)
					}
				}
				if out.NextToken == nil {
					break
				}
				in.NextToken = out.NextToken
			}
			if n != c.want {
				t.Errorf("%s over the last %v: %d traces, want %d", rt, c.ago, n, c.want)
			}
		}
	}
}
