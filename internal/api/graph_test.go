package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/roentgen-tracing/roentgen/internal/api"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// graphServer starts the real API on a real Pebble store and returns an
// aws-sdk-go-v2 X-Ray client pointed at it.
func graphServer(t *testing.T) (*xray.Client, *api.Server) {
	t.Helper()
	a := xraytest.NewAPI(t, t.TempDir())
	return a.Client(t), a.Server
}

func put(t *testing.T, c *xray.Client, docs ...map[string]any) {
	t.Helper()
	var raw []string
	for _, d := range docs {
		b, _ := json.Marshal(d)
		raw = append(raw, string(b))
	}
	out, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: raw})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range out.UnprocessedTraceSegments {
		t.Fatalf("unprocessed %s: %s %s", aws.ToString(u.Id), aws.ToString(u.ErrorCode), aws.ToString(u.Message))
	}
}

// workedExample sends the traffic behind the devguide's GetServiceGraph
// example (spec §6.4): four requests to an EC2 service, one answered 4xx,
// two of which call a DynamoDB table and SNS.
func workedExample(t *testing.T, c *xray.Client, base float64) []string {
	type call struct{ ddb, sns float64 }
	reqs := []struct {
		rt    float64
		err   bool
		calls *call
	}{
		{0.005, false, nil},
		{0.015, true, nil},
		{0.157, false, &call{0.076, 0.049}},
		{0.096, false, &call{0.044, 0.076}},
	}
	var ids []string
	for i, r := range reqs {
		start := base + float64(i)
		tid := fmt.Sprintf("1-%08x-%024x", int64(base), i+1)
		ids = append(ids, tid)
		seg := map[string]any{
			"trace_id": tid, "id": fmt.Sprintf("%016x", 0x1000+i), "name": "xray-sample.elasticbeanstalk.com",
			"origin": "AWS::EC2::Instance", "start_time": start, "end_time": start + r.rt,
			"http": map[string]any{"request": map[string]any{"method": "GET", "url": "http://xray-sample.elasticbeanstalk.com/"},
				"response": map[string]any{"status": 200}},
		}
		if r.err {
			seg["error"] = true
			seg["http"].(map[string]any)["response"] = map[string]any{"status": 404}
		}
		if r.calls != nil {
			seg["subsegments"] = []any{
				map[string]any{"id": fmt.Sprintf("%016x", 0x2000+i), "name": "DynamoDB", "namespace": "aws",
					"start_time": start + 0.001, "end_time": start + 0.001 + r.calls.ddb,
					"aws":  map[string]any{"operation": "PutItem", "table_name": "awseb-e-dixzws4s9p-stack-StartupSignupsTable-4IMSMHAYX2BA"},
					"http": map[string]any{"response": map[string]any{"status": 200}}},
				map[string]any{"id": fmt.Sprintf("%016x", 0x3000+i), "name": "SNS", "namespace": "aws",
					"start_time": start + 0.002, "end_time": start + 0.002 + r.calls.sns,
					"aws":  map[string]any{"operation": "Publish", "topic_arn": "arn:aws:sns:us-west-2:123456789012:topic"},
					"http": map[string]any{"response": map[string]any{"status": 200}}},
			}
		}
		put(t, c, seg)
	}
	return ids
}

func histogram(h []types.HistogramEntry) []string {
	var out []string
	for _, e := range h {
		out = append(out, fmt.Sprintf("%g:%d", e.Value, e.Count))
	}
	sort.Strings(out)
	return out
}

func stats(s *types.ServiceStatistics) string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("ok=%d err=%d/%d/%d fault=%d/%d total=%d rt=%g", aws.ToInt64(s.OkCount),
		aws.ToInt64(s.ErrorStatistics.ThrottleCount), aws.ToInt64(s.ErrorStatistics.OtherCount), aws.ToInt64(s.ErrorStatistics.TotalCount),
		aws.ToInt64(s.FaultStatistics.OtherCount), aws.ToInt64(s.FaultStatistics.TotalCount), aws.ToInt64(s.TotalCount), aws.ToFloat64(s.TotalResponseTime))
}

func edgeStats(s *types.EdgeStatistics) string {
	return stats(&types.ServiceStatistics{OkCount: s.OkCount, ErrorStatistics: s.ErrorStatistics, FaultStatistics: s.FaultStatistics, TotalCount: s.TotalCount, TotalResponseTime: s.TotalResponseTime})
}

// describe renders a graph independently of reference ids.
func describe(svcs []types.Service) map[string]string {
	byRef := map[int32]types.Service{}
	for _, s := range svcs {
		byRef[aws.ToInt32(s.ReferenceId)] = s
	}
	out := map[string]string{}
	for _, s := range svcs {
		name := aws.ToString(s.Type) + " " + aws.ToString(s.Name)
		out[name] = fmt.Sprintf("state=%s root=%v %s rt=%v dur=%v", aws.ToString(s.State), aws.ToBool(s.Root), stats(s.SummaryStatistics),
			histogram(s.ResponseTimeHistogram), histogram(s.DurationHistogram))
		for _, e := range s.Edges {
			to := byRef[aws.ToInt32(e.ReferenceId)]
			out[name+" -> "+aws.ToString(to.Type)+" "+aws.ToString(to.Name)] = edgeStats(e.SummaryStatistics) + fmt.Sprintf(" rt=%v", histogram(e.ResponseTimeHistogram))
		}
	}
	return out
}

func TestServiceGraphWorkedExample(t *testing.T) {
	c, _ := graphServer(t)
	ctx := context.Background()
	base := float64(time.Now().Add(-10*time.Minute).Unix()/60*60) + 5
	ids := workedExample(t, c, base)

	table := "AWS::DynamoDB::Table awseb-e-dixzws4s9p-stack-StartupSignupsTable-4IMSMHAYX2BA"
	svc := "AWS::EC2::Instance xray-sample.elasticbeanstalk.com"
	want := map[string]string{
		"client xray-sample.elasticbeanstalk.com":           "state=unknown root=false <nil> rt=[] dur=[]",
		"client xray-sample.elasticbeanstalk.com -> " + svc: "ok=3 err=0/1/1 fault=0/0 total=4 rt=0.273 rt=[0.005:1 0.015:1 0.096:1 0.157:1]",
		svc:                      "state=active root=true ok=3 err=0/1/1 fault=0/0 total=4 rt=0.273 rt=[0.005:1 0.015:1 0.096:1 0.157:1] dur=[0.005:1 0.015:1 0.096:1 0.157:1]",
		svc + " -> " + table:     "ok=2 err=0/0/0 fault=0/0 total=2 rt=0.12 rt=[0.044:1 0.076:1]",
		svc + " -> AWS::SNS SNS": "ok=2 err=0/0/0 fault=0/0 total=2 rt=0.125 rt=[0.049:1 0.076:1]",
		table:                    "state=unknown root=false ok=2 err=0/0/0 fault=0/0 total=2 rt=0.12 rt=[0.044:1 0.076:1] dur=[0.044:1 0.076:1]",
		"AWS::SNS SNS":           "state=unknown root=false ok=2 err=0/0/0 fault=0/0 total=2 rt=0.125 rt=[0.049:1 0.076:1] dur=[0.049:1 0.076:1]",
	}
	check := func(t *testing.T, svcs []types.Service) {
		t.Helper()
		got := describe(svcs)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s:\n got %s\nwant %s", k, got[k], v)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected %s: %s", k, got[k])
			}
		}
	}

	out, err := c.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: aws.Time(time.Unix(int64(base)-60, 0)), EndTime: aws.Time(time.Unix(int64(base)+600, 0))})
	if err != nil {
		t.Fatal(err)
	}
	check(t, out.Services)
	// Read at every resolution (a window of whole hours), the answer is the same.
	if out, err = c.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: aws.Time(time.Unix(int64(base)-3600, 0)), EndTime: aws.Time(time.Unix(int64(base)+3600, 0))}); err != nil {
		t.Fatal(err)
	}
	check(t, out.Services)
	if len(out.Services) != 4 || aws.ToString(out.Services[0].Type) != "client" {
		t.Errorf("want 4 services, the client first; got %d", len(out.Services))
	}
	if out.StartTime.Unix() > int64(base)-60 || out.EndTime.Unix() < int64(base)+600 {
		t.Errorf("window %v..%v does not cover the request", out.StartTime, out.EndTime)
	}

	// The same graph from the traces themselves.
	tg, err := c.GetTraceGraph(ctx, &xray.GetTraceGraphInput{TraceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	check(t, tg.Services)

	// A window before the traffic is empty.
	empty, err := c.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: aws.Time(time.Unix(int64(base)-3600, 0)), EndTime: aws.Time(time.Unix(int64(base)-600, 0))})
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.Services) != 0 {
		t.Errorf("a window without traffic has %d services", len(empty.Services))
	}

	// BatchGetTraces returns the inferred segments.
	bt, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: ids[2:3]})
	if err != nil {
		t.Fatal(err)
	}
	origins := map[string]bool{}
	for _, s := range bt.Traces[0].Segments {
		var d struct {
			Origin   string `json:"origin"`
			Inferred bool   `json:"inferred"`
			ParentID string `json:"parent_id"`
			Name     string `json:"name"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(s.Document)), &d); err != nil {
			t.Fatal(err)
		}
		if d.Inferred {
			origins[d.Origin+" "+d.Name+" "+d.ParentID] = true
		}
	}
	for _, w := range []string{"AWS::DynamoDB::Table DynamoDB 0000000000002002", "AWS::SNS SNS 0000000000003002"} {
		if !origins[w] {
			t.Errorf("BatchGetTraces lacks inferred segment %q; has %v", w, origins)
		}
	}
}

func TestRootCauseFiltersEndToEnd(t *testing.T) {
	c, _ := graphServer(t)
	ctx := context.Background()
	now := float64(time.Now().Add(-5 * time.Minute).Unix())
	deep := fmt.Sprintf("1-%08x-%024x", int64(now), 1)
	handled := fmt.Sprintf("1-%08x-%024x", int64(now), 2)
	put(t, c,
		map[string]any{"trace_id": deep, "id": "a000000000000001", "name": "frontend", "start_time": now, "end_time": now + 1, "fault": true,
			"subsegments": []any{map[string]any{"id": "a000000000000002", "name": "backend", "namespace": "remote", "start_time": now + 0.1, "end_time": now + 0.9, "fault": true,
				"http": map[string]any{"request": map[string]any{"url": "http://backend/", "traced": true}, "response": map[string]any{"status": 500}}}}},
		map[string]any{"trace_id": deep, "id": "b000000000000001", "parent_id": "a000000000000002", "name": "backend", "start_time": now + 0.2, "end_time": now + 0.8, "fault": true,
			"subsegments": []any{map[string]any{"id": "b000000000000002", "name": "parse", "start_time": now + 0.3, "end_time": now + 0.4, "fault": true,
				"cause": map[string]any{"exceptions": []any{map[string]any{"id": "e000000000000001", "type": "NullPointerException", "message": "order is null"}}}}}},
		map[string]any{"trace_id": handled, "id": "c000000000000001", "name": "api", "start_time": now, "end_time": now + 0.5,
			"subsegments": []any{map[string]any{"id": "c000000000000002", "name": "DynamoDB", "namespace": "aws", "start_time": now + 0.1, "end_time": now + 0.2, "error": true,
				"aws": map[string]any{"operation": "GetItem", "table_name": "users"}, "http": map[string]any{"response": map[string]any{"status": 400}}}}},
	)
	search := func(expr string) []string {
		t.Helper()
		out, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Unix(int64(now)-60, 0)), EndTime: aws.Time(time.Unix(int64(now)+60, 0)), FilterExpression: aws.String(expr)})
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		var ids []string
		for _, s := range out.TraceSummaries {
			ids = append(ids, aws.ToString(s.Id))
		}
		sort.Strings(ids)
		return ids
	}
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`rootcause.fault.entity { name = "parse" }`, []string{deep}},
		{`rootcause.fault.exception { name = "NullPointerException" }`, []string{deep}},
		{`rootcause.fault.service { name = "backend" }`, []string{deep}},
		{`rootcause.error.service { name = "users" }`, []string{handled}},
		{`rootcause.responsetime.service { name = "backend" }`, []string{deep}},
		{`rootcause.fault.entity { name = "DynamoDB" }`, nil},
	} {
		if got := search(tc.expr); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.expr, got, tc.want)
		}
	}
	// The summaries carry the root causes in the API's shape.
	out, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Unix(int64(now)-60, 0)), EndTime: aws.Time(time.Unix(int64(now)+60, 0)), FilterExpression: aws.String(`service("backend")`)})
	if err != nil || len(out.TraceSummaries) != 1 {
		t.Fatalf("%v, %d summaries", err, len(out.TraceSummaries))
	}
	rc := out.TraceSummaries[0].FaultRootCauses
	if len(rc) != 1 || len(rc[0].Services) != 2 || aws.ToString(rc[0].Services[1].Name) != "backend" || !aws.ToBool(rc[0].ClientImpacting) {
		t.Errorf("FaultRootCauses = %+v", rc)
	}
}

func TestTimeSeriesThroughSDK(t *testing.T) {
	c, _ := graphServer(t)
	ctx := context.Background()
	base := time.Now().Add(-30*time.Minute).Unix() / 60 * 60
	// 20 minutes of one request per minute, a fault every fifth.
	for i := int64(0); i < 20; i++ {
		start := float64(base + i*60 + 1)
		doc := map[string]any{"trace_id": fmt.Sprintf("1-%08x-%024x", int64(start), i), "id": fmt.Sprintf("%016x", i+1), "name": "svc",
			"origin": "AWS::EC2::Instance", "start_time": start, "end_time": start + 0.25}
		if i%5 == 4 {
			doc["fault"] = true
		}
		put(t, c, doc)
	}
	in := &xray.GetTimeSeriesServiceStatisticsInput{StartTime: aws.Time(time.Unix(base, 0)), EndTime: aws.Time(time.Unix(base+20*60, 0)),
		EntitySelectorExpression: aws.String(`id(name: "svc", type: "AWS::EC2::Instance")`), Period: aws.Int32(60), ForecastStatistics: aws.Bool(true)}
	out, err := c.GetTimeSeriesServiceStatistics(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TimeSeriesServiceStatistics) != 20 {
		t.Fatalf("%d points, want 20", len(out.TimeSeriesServiceStatistics))
	}
	var faults int64
	forecasts := 0
	for i, p := range out.TimeSeriesServiceStatistics {
		s := p.ServiceSummaryStatistics
		if s == nil || aws.ToInt64(s.TotalCount) != 1 || p.Timestamp.Unix() != base+int64(i)*60 || len(p.ResponseTimeHistogram) != 1 || p.ResponseTimeHistogram[0].Value != 0.25 {
			t.Errorf("point %d: %+v", i, p)
			continue
		}
		faults += aws.ToInt64(s.FaultStatistics.TotalCount)
		if f := p.ServiceForecastStatistics; f != nil {
			forecasts++
			if aws.ToInt64(f.FaultCountLow) > aws.ToInt64(f.FaultCountHigh) || aws.ToInt64(f.FaultCountHigh) < 1 {
				t.Errorf("point %d: forecast band %d..%d", i, aws.ToInt64(f.FaultCountLow), aws.ToInt64(f.FaultCountHigh))
			}
		} else if i >= 6 {
			t.Errorf("point %d has 6+ periods of history but no forecast", i)
		}
	}
	if faults != 4 || forecasts != 14 {
		t.Errorf("faults %d (want 4), forecasts %d (want 14: no forecast without 6 periods of history)", faults, forecasts)
	}
	// Periods that are neither 60 nor a multiple of 300, and forecasts
	// without id(), are refused in X-Ray's error form.
	for _, bad := range []*xray.GetTimeSeriesServiceStatisticsInput{
		{StartTime: in.StartTime, EndTime: in.EndTime, Period: aws.Int32(120)},
		{StartTime: in.StartTime, EndTime: in.EndTime, EntitySelectorExpression: aws.String(`service("svc")`), ForecastStatistics: aws.Bool(true)},
		{StartTime: in.StartTime, EndTime: in.EndTime, EntitySelectorExpression: aws.String(`service("svc"`)},
	} {
		if _, err := c.GetTimeSeriesServiceStatistics(ctx, bad); err == nil || !strings.Contains(err.Error(), "InvalidRequestException") {
			t.Errorf("%+v: %v, want InvalidRequestException", bad, err)
		}
	}
}

func TestServiceGraphPerGroup(t *testing.T) {
	c, _ := graphServer(t)
	ctx := context.Background()
	now := float64(time.Now().Add(-5*time.Minute).Unix()/60*60) + 1
	send := func(n int, fault bool) {
		for i := 0; i < n; i++ {
			doc := map[string]any{"trace_id": fmt.Sprintf("1-%08x-%024x", int64(now), nextSerial()), "id": fmt.Sprintf("%016x", nextSerial()), "name": "shop",
				"start_time": now + float64(i)/10, "end_time": now + float64(i)/10 + 0.05}
			if fault {
				doc["fault"] = true
			}
			put(t, c, doc)
		}
	}
	if _, err := c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("faulty"), FilterExpression: aws.String("fault")}); err != nil {
		t.Fatal(err)
	}
	send(3, false)
	send(2, true)
	graphOf := func(group string) (*xray.GetServiceGraphOutput, string) {
		t.Helper()
		out, err := c.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: aws.Time(time.Unix(int64(now)-60, 0)), EndTime: aws.Time(time.Unix(int64(now)+120, 0)), GroupName: aws.String(group)})
		if err != nil {
			t.Fatal(err)
		}
		return out, describe(out.Services)[" shop"] // no origin: no type
	}
	if _, d := graphOf("Default"); !strings.Contains(d, "ok=3 err=0/0/0 fault=2/2 total=5") {
		t.Errorf("Default: %s", d)
	}
	out, d := graphOf("faulty")
	if !strings.Contains(d, "ok=0 err=0/0/0 fault=2/2 total=2") || out.ContainsOldGroupVersions {
		t.Errorf("faulty: %s, old versions %v", d, out.ContainsOldGroupVersions)
	}
	// A new expression applies to later traces only, and the window now
	// mixes both versions.
	if _, err := c.UpdateGroup(ctx, &xray.UpdateGroupInput{GroupName: aws.String("faulty"), FilterExpression: aws.String("ok")}); err != nil {
		t.Fatal(err)
	}
	send(1, false)
	out, d = graphOf("faulty")
	if !strings.Contains(d, "ok=1 err=0/0/0 fault=2/2 total=3") || !out.ContainsOldGroupVersions {
		t.Errorf("faulty after update: %s, old versions %v", d, out.ContainsOldGroupVersions)
	}
	if _, err := c.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: aws.Time(time.Unix(int64(now), 0)), EndTime: aws.Time(time.Unix(int64(now)+60, 0)), GroupName: aws.String("nope")}); err == nil {
		t.Error("an unknown group answered")
	}
}

var serial int

func nextSerial() int { serial++; return serial }
