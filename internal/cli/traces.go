package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// traces lists trace summaries, newest first, up to limit.
func (e *env) traces(ctx context.Context, filter string, since time.Duration, limit int) error {
	if since <= 0 {
		return fmt.Errorf("--since must be positive")
	}
	end := e.now()
	in := &xray.GetTraceSummariesInput{StartTime: aws.Time(end.Add(-since)), EndTime: aws.Time(end)}
	if filter != "" {
		in.FilterExpression = aws.String(filter)
	}
	var sums []types.TraceSummary
	p := xray.NewGetTraceSummariesPaginator(e.client, in)
	for p.HasMorePages() && len(sums) < limit {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		sums = append(sums, out.TraceSummaries...)
	}
	if len(sums) > limit {
		sums = sums[:limit]
	}
	if e.output == "json" {
		return writeJSON(e.stdout, struct{ TraceSummaries []types.TraceSummary }{orEmpty(sums)})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRACE ID\tSTART\tDURATION\tSTATUS\tSERVICE\tREQUEST")
	for _, s := range sums {
		start := ""
		if s.StartTime != nil {
			start = s.StartTime.Local().Format("15:04:05.000")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", aws.ToString(s.Id), start, seconds(aws.ToFloat64(s.Duration)),
			status(aws.ToBool(s.HasFault), aws.ToBool(s.HasError), aws.ToBool(s.HasThrottle)), entryService(s), request(s.Http))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(sums) == 0 {
		fmt.Fprintf(e.stderr, "no traces in the last %v\n", since)
	}
	return nil
}

func entryService(s types.TraceSummary) string {
	if s.EntryPoint != nil {
		return aws.ToString(s.EntryPoint.Name)
	}
	if len(s.ServiceIds) > 0 {
		return aws.ToString(s.ServiceIds[0].Name)
	}
	return "-"
}

func request(h *types.Http) string {
	if h == nil || h.HttpURL == nil {
		return "-"
	}
	r := aws.ToString(h.HttpMethod) + " " + aws.ToString(h.HttpURL)
	if h.HttpStatus != nil {
		r += fmt.Sprintf(" %d", *h.HttpStatus)
	}
	return strings.TrimSpace(r)
}

func status(fault, err, throttle bool) string {
	switch {
	case fault:
		return "FAULT"
	case throttle:
		return "THROTTLE"
	case err:
		return "ERROR"
	}
	return "ok"
}

// seconds formats a duration in seconds for people: 850µs, 12.3ms, 1.25s.
func seconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
