package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// Every time-windowed read checks its window in one place: finite, from
// 1970 to a day ahead, start before end, and the graph operations' 30 days.
// Each of these was once answered 200 or pinned a core (issue 14).
func TestWindowValidation(t *testing.T) {
	a := xraytest.NewAPI(t, t.TempDir())
	now := float64(time.Now().Unix())
	ops := []string{"/ServiceGraph", "/TimeSeriesServiceStatistics", "/TraceSummaries"}
	cases := []struct {
		name, start, end, want string
	}{
		{"NaN start", `"NaN"`, fmt.Sprint(now), "finite"},
		{"Inf end", fmt.Sprint(now - 60), `"+Inf"`, "finite"},
		{"milliseconds as seconds", fmt.Sprint(now - 60), fmt.Sprint(now * 1000), "milliseconds"},
		{"300 years ahead", fmt.Sprint(now - 60), fmt.Sprint(now + 300*365*86400), "in the future"},
		{"before 1970", `-5`, fmt.Sprint(now), "before 1970"},
		{"end before start", fmt.Sprint(now), fmt.Sprint(now - 60), "must be after StartTime"},
		{"no end", fmt.Sprint(now), `null`, "required"},
	}
	for _, op := range ops {
		for _, c := range cases {
			t.Run(op+"/"+c.name, func(t *testing.T) {
				body := fmt.Sprintf(`{"StartTime":%s,"EndTime":%s}`, c.start, c.end)
				resp, b := xraytest.Post(t, a.URL+op, "application/json", []byte(body))
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != "InvalidRequestException" {
					t.Fatalf("%s: %d %s %s, want 400 InvalidRequestException", body, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), b)
				}
				var e struct{ Message string }
				_ = json.Unmarshal(b, &e)
				if !strings.Contains(e.Message, c.want) {
					t.Errorf("%s: message %q does not mention %q", body, e.Message, c.want)
				}
			})
		}
	}
	// The graph operations' 30-day limit, exceeded by far more than a
	// time.Duration holds (292 years), is still refused.
	for _, op := range ops[:2] {
		body := fmt.Sprintf(`{"StartTime":0,"EndTime":%v}`, now)
		resp, b := xraytest.Post(t, a.URL+op, "application/json", []byte(body))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "at most 30 days") {
			t.Errorf("%s %s: %d %s, want the 30-day limit", op, body, resp.StatusCode, b)
		}
	}
	// A window of the whole past is fine for GetTraceSummaries (pages are
	// bounded), and a real client gets the error shape it knows.
	c := a.Client(t)
	if _, err := c.GetTraceSummaries(context.Background(), &xray.GetTraceSummariesInput{
		StartTime: aws.Time(time.Unix(0, 0)), EndTime: aws.Time(time.Now())}); err != nil {
		t.Errorf("GetTraceSummaries over all time: %v", err)
	}
	_, err := c.GetServiceGraph(context.Background(), &xray.GetServiceGraphInput{
		StartTime: aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.UnixMilli(time.Now().UnixMilli() * 1000))})
	if err == nil || !strings.Contains(err.Error(), "InvalidRequestException") {
		t.Errorf("GetServiceGraph far ahead: %v, want InvalidRequestException", err)
	}
}
