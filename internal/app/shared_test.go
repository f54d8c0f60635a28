package app_test

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
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// TestTwoServersOnClickHouseAnswerAsOneEmbedded splits each trace's
// segments between two `roentgen server` processes (in-process apps) on one
// ClickHouse database, gives all of them to one embedded Roentgen, and
// compares the answers of every read operation from either server with the
// embedded one's: GetTraceSummaries (plain, filtered, by group),
// BatchGetTraces, GetServiceGraph (Default and a group), GetTraceGraph,
// GetTimeSeriesServiceStatistics, GetGroups and GetSamplingRules, with the
// group created through one server and the rule through the other.
func TestTwoServersOnClickHouseAnswerAsOneEmbedded(t *testing.T) {
	twoServersAnswerAsOneEmbedded(t, clickhousetest.NewDatabase(t), false)
}

// TestTwoServersOnClickHouseAnswerAsOneEmbeddedThroughRollups is the same
// with the statistics read through rollups: a grace of 0 and a rollup at
// every read (stats_grace, stats_rollup_rows), once the server's clock has
// passed the second of the last statistics write. Otherwise the test's
// rows, younger than the grace, are read raw.
func TestTwoServersOnClickHouseAnswerAsOneEmbeddedThroughRollups(t *testing.T) {
	twoServersAnswerAsOneEmbedded(t, clickhousetest.NewDatabase(t)+"?stats_grace=0s&stats_rollup_rows=1", true)
}

// TestTwoServersOnShardedClickHouseAnswerAsOneEmbedded is the same on
// Distributed tables over a cluster of two shards (cluster=, docs/clickhouse.md).
func TestTwoServersOnShardedClickHouseAnswerAsOneEmbedded(t *testing.T) {
	twoServersAnswerAsOneEmbedded(t, clickhousetest.NewShardedDatabase(t), false)
}

func twoServersAnswerAsOneEmbedded(t *testing.T, db string, throughRollups bool) {
	onCH := func(c *app.Config) { c.Role, c.Store, c.UDPAddr, c.TCPAddr = app.RoleServer, db, "", "" }
	a, b := xraytest.Start(t, onCH), xraytest.Start(t, onCH)
	e := xraytest.Start(t)
	ctx := context.Background()

	now := time.Now().Add(-time.Minute)
	const traces = 30
	var ids []string
	var toA, toB, all []string
	for i := range traces {
		id := fmt.Sprintf("1-%08x-%024x", now.Unix(), i)
		ids = append(ids, id)
		st := float64(now.Unix()) + float64(i)/10
		root := fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"front","start_time":%f,"end_time":%f,`+
			`"http":{"response":{"status":%d}},"annotations":{"n":%d},`+
			`"subsegments":[{"id":"%016x","name":"back","namespace":"remote","start_time":%f,"end_time":%f}]}`,
			id, 0x1000+i, st, st+0.5, 200+100*(i%3), i%4, 0x2000+i, st+0.1, st+0.4)
		back := fmt.Sprintf(`{"trace_id":%q,"id":"%016x","parent_id":"%016x","name":"back","start_time":%f,"end_time":%f,%s}`,
			id, 0x3000+i, 0x2000+i, st+0.1, st+0.35, map[bool]string{true: `"fault":true`, false: `"error":false`}[i%5 == 0])
		toA, toB = append(toA, root), append(toB, back)
		all = append(all, root, back)
	}
	put := func(s *xraytest.Server, docs []string) {
		t.Helper()
		out, err := s.Client(t).PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
		if err != nil || len(out.UnprocessedTraceSegments) != 0 {
			t.Fatalf("PutTraceSegments: %v %+v", err, out)
		}
	}
	// A group created through one server scopes the statistics the other
	// counts and the searches it answers; a rule created through one is
	// what the other hands to SDKs.
	for _, s := range []*xraytest.Server{a, e} {
		if _, err := s.Client(t).CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("backfaults"),
			FilterExpression: aws.String(`service("back") { fault }`)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*xraytest.Server{b, e} {
		if _, err := s.Client(t).CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
			RuleName: aws.String("front"), ResourceARN: aws.String("*"), Priority: aws.Int32(10), FixedRate: 0.2,
			ReservoirSize: 7, ServiceName: aws.String("front"), ServiceType: aws.String("*"), Host: aws.String("*"),
			HTTPMethod: aws.String("*"), URLPath: aws.String("*"), Version: aws.Int32(1)}}); err != nil {
			t.Fatal(err)
		}
	}
	put(a, toA)
	put(b, toB)
	put(e, all)
	for _, s := range []*xraytest.Server{a, b, e} {
		s.Ingester().Sync(ctx)
	}
	if throughRollups {
		waitServerClockPastStats(t, db)
	}

	from, to := now.Add(-time.Minute), now.Add(time.Minute)
	answers := func(s *xraytest.Server) map[string]string {
		c := s.Client(t)
		out := map[string]string{}
		var sums []types.TraceSummary
		p := xray.NewGetTraceSummariesPaginator(c, &xray.GetTraceSummariesInput{StartTime: &from, EndTime: &to})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sums = append(sums, page.TraceSummaries...)
		}
		sort.Slice(sums, func(i, j int) bool { return *sums[i].Id < *sums[j].Id })
		for i := range sums {
			sums[i].Revision = 0 // how many times a trace was summarised differs
		}
		out["GetTraceSummaries"] = js(sums)
		filtered, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &from, EndTime: &to,
			FilterExpression: aws.String(`annotation.n = 2 AND service("back") { fault }`)})
		if err != nil {
			t.Fatal(err)
		}
		var fids []string
		for _, s := range filtered.TraceSummaries {
			fids = append(fids, *s.Id)
		}
		sort.Strings(fids)
		out["GetTraceSummaries filtered"] = js(fids)
		bt, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: ids[:5]})
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(bt.Traces, func(i, j int) bool { return *bt.Traces[i].Id < *bt.Traces[j].Id })
		for _, tr := range bt.Traces {
			sort.Slice(tr.Segments, func(i, j int) bool { return *tr.Segments[i].Id < *tr.Segments[j].Id })
		}
		out["BatchGetTraces"] = js(bt.Traces)
		g, err := c.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: &from, EndTime: &to})
		if err != nil {
			t.Fatal(err)
		}
		out["GetServiceGraph"] = js(g.Services)
		g, err = c.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: &from, EndTime: &to, GroupName: aws.String("backfaults")})
		if err != nil {
			t.Fatal(err)
		}
		out["GetServiceGraph group"] = js(g.Services) + fmt.Sprint(g.ContainsOldGroupVersions)
		tg, err := c.GetTraceGraph(ctx, &xray.GetTraceGraphInput{TraceIds: ids[:7]})
		if err != nil {
			t.Fatal(err)
		}
		out["GetTraceGraph"] = js(tg.Services)
		for _, group := range []string{"", "backfaults"} {
			in := &xray.GetTimeSeriesServiceStatisticsInput{StartTime: &from, EndTime: &to, Period: aws.Int32(60),
				EntitySelectorExpression: aws.String(`service("back")`)}
			if group != "" {
				in.GroupName = aws.String(group)
			}
			var points []types.TimeSeriesServiceStatistics
			p := xray.NewGetTimeSeriesServiceStatisticsPaginator(c, in)
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				points = append(points, page.TimeSeriesServiceStatistics...)
			}
			out["GetTimeSeriesServiceStatistics "+group] = js(points)
		}
		inGroup, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &from, EndTime: &to,
			FilterExpression: aws.String(`group.name = "backfaults"`)})
		if err != nil {
			t.Fatal(err)
		}
		var gids []string
		for _, s := range inGroup.TraceSummaries {
			gids = append(gids, *s.Id)
		}
		sort.Strings(gids)
		out["GetTraceSummaries in group"] = js(gids)
		groups, err := c.GetGroups(ctx, &xray.GetGroupsInput{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range groups.Groups { // random per store: compared between A and B below
			groups.Groups[i].GroupARN = nil
		}
		out["GetGroups"] = js(groups.Groups)
		rules, err := c.GetSamplingRules(ctx, &xray.GetSamplingRulesInput{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range rules.SamplingRuleRecords { // when each store was written
			rules.SamplingRuleRecords[i].CreatedAt, rules.SamplingRuleRecords[i].ModifiedAt = nil, nil
		}
		out["GetSamplingRules"] = js(rules.SamplingRuleRecords)
		return out
	}
	want := answers(e)
	if want["GetTraceSummaries filtered"] != fmt.Sprintf("[%q]", ids[10]) {
		t.Fatalf("the embedded store's filtered summaries = %s, want trace 10 alone", want["GetTraceSummaries filtered"])
	}
	if !strings.Contains(want["GetServiceGraph group"], `"back"`) || want["GetTraceSummaries in group"] == "null" {
		t.Fatalf("the embedded store's group answers are empty: %s, %s", want["GetServiceGraph group"], want["GetTraceSummaries in group"])
	}
	for name, s := range map[string]*xraytest.Server{"A": a, "B": b} {
		got := answers(s)
		for op, w := range want {
			if got[op] != w {
				t.Errorf("%s from server %s differs from the embedded store's:\n got %s\nwant %s", op, name, got[op], w)
			}
		}
	}
	if throughRollups {
		if n := clickhousetest.Query(t, db, "SELECT count() FROM stats_cutoffs"); n == "0" {
			t.Fatal("no statistics rollups were written: the answers did not go through them")
		}
	}
	// What differs per store is the same from both servers.
	whole := func(s *xraytest.Server) string {
		g, err := s.Client(t).GetGroups(ctx, &xray.GetGroupsInput{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Client(t).GetSamplingRules(ctx, &xray.GetSamplingRulesInput{})
		if err != nil {
			t.Fatal(err)
		}
		return js(g.Groups) + js(r.SamplingRuleRecords)
	}
	if ga, gb := whole(a), whole(b); ga != gb {
		t.Errorf("groups and rules differ between the servers:\nA %s\nB %s", ga, gb)
	}
}

// waitServerClockPastStats waits until the server's clock is past the
// second of every statistics row's `at`, so that a rollup cut at the
// server's now (a grace of 0) takes them all. The deadline only guards
// against a clock that stands still.
func waitServerClockPastStats(t *testing.T, db string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		if clickhousetest.Query(t, db, "SELECT toUInt32(now()) > (SELECT toUInt32(max(at)) FROM stats)") == "1" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the server's clock did not pass the statistics' last write")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
