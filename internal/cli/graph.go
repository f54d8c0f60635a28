package cli

import (
	"context"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// graph lists the service graph of the last since: each service with its
// request counts and average latency, then its calls to others.
func (e *env) graph(ctx context.Context, since time.Duration) error {
	if since <= 0 {
		return fmt.Errorf("--since must be positive")
	}
	end := e.now()
	var services []types.Service
	p := xray.NewGetServiceGraphPaginator(e.client, &xray.GetServiceGraphInput{StartTime: aws.Time(end.Add(-since)), EndTime: aws.Time(end)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		services = append(services, out.Services...)
	}
	if e.output == "json" {
		return writeJSON(e.stdout, struct{ Services []types.Service }{orEmpty(services)})
	}
	byRef := map[int32]types.Service{}
	for _, s := range services {
		byRef[aws.ToInt32(s.ReferenceId)] = s
	}
	sort.SliceStable(services, func(i, j int) bool { return serviceLabel(services[i]) < serviceLabel(services[j]) })
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tTYPE\tREQUESTS\tOK\tERROR\tFAULT\tTHROTTLE\tAVG LATENCY")
	for _, s := range services {
		st := s.SummaryStatistics
		if st == nil {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\n", serviceLabel(s), aws.ToString(s.Type))
		} else {
			errs, faults, thr := errorCounts(st.ErrorStatistics, st.FaultStatistics)
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", serviceLabel(s), aws.ToString(s.Type), aws.ToInt64(st.TotalCount),
				aws.ToInt64(st.OkCount), errs, faults, thr, avg(aws.ToFloat64(st.TotalResponseTime), aws.ToInt64(st.TotalCount)))
		}
		edges := append([]types.Edge(nil), s.Edges...)
		sort.SliceStable(edges, func(i, j int) bool {
			return serviceLabel(byRef[aws.ToInt32(edges[i].ReferenceId)]) < serviceLabel(byRef[aws.ToInt32(edges[j].ReferenceId)])
		})
		for _, ed := range edges {
			to := serviceLabel(byRef[aws.ToInt32(ed.ReferenceId)])
			st := ed.SummaryStatistics
			if st == nil {
				fmt.Fprintf(tw, "  -> %s\t\t\t\t\t\t\t\n", to)
				continue
			}
			errs, faults, thr := errorCounts(st.ErrorStatistics, st.FaultStatistics)
			fmt.Fprintf(tw, "  -> %s\t\t%d\t%d\t%d\t%d\t%d\t%s\n", to, aws.ToInt64(st.TotalCount), aws.ToInt64(st.OkCount),
				errs, faults, thr, avg(aws.ToFloat64(st.TotalResponseTime), aws.ToInt64(st.TotalCount)))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(services) == 0 {
		fmt.Fprintf(e.stderr, "no services in the last %v\n", since)
	}
	return nil
}

func serviceLabel(s types.Service) string {
	if s.Name == nil {
		return fmt.Sprintf("#%d", aws.ToInt32(s.ReferenceId))
	}
	return aws.ToString(s.Name)
}

func errorCounts(e *types.ErrorStatistics, f *types.FaultStatistics) (errs, faults, throttles int64) {
	if e != nil {
		errs, throttles = aws.ToInt64(e.TotalCount), aws.ToInt64(e.ThrottleCount)
	}
	if f != nil {
		faults = aws.ToInt64(f.TotalCount)
	}
	return errs, faults, throttles
}

func avg(total float64, n int64) string {
	if n == 0 {
		return "-"
	}
	return seconds(total / float64(n))
}
