package api_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/smithy-go"
	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/fixtures"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/store/pebble"
	"github.com/roentgen-tracing/roentgen/internal/trace"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// searchEnv is the real API on a real Pebble store, reached through the
// aws-sdk-go-v2 X-Ray client (SigV4-signed).
type searchEnv struct {
	c   *xray.Client
	st  *pebble.Store
	in  *ingest.Ingester
	url string
	now time.Time
}

func newSearchEnv(t *testing.T, dir string) *searchEnv {
	t.Helper()
	a := xraytest.NewAPI(t, dir)
	return &searchEnv{c: a.Client(t), st: a.Store, in: a.Ingester, url: a.URL, now: time.Now()}
}

// ingestFixtures stores every datagram recorded from the official SDKs,
// moved to the present.
func (e *searchEnv) ingestFixtures(t *testing.T) {
	sh := fixtures.ShiftTo(e.now)
	for _, d := range fixtures.Datagrams() {
		body, err := segment.SplitDatagram(sh.Doc(d.Bytes))
		if err != nil {
			continue
		}
		e.in.Ingest(context.Background(), [][]byte{body}, ingest.Options{Source: "test"})
	}
}

func (e *searchEnv) traceID(n int) string {
	return fmt.Sprintf("1-%08x-%024x", e.now.Unix()-60, n)
}

func (e *searchEnv) putDocs(t *testing.T, docs ...string) {
	t.Helper()
	out, err := e.c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range out.UnprocessedTraceSegments {
		t.Fatalf("unprocessed %s: %s", aws.ToString(u.Id), aws.ToString(u.Message))
	}
}

// generated multi-service traces, sent as segment documents.
const (
	gAPI    = 1 // api.example.com -> backend.example.com (404); slow 3 s; alice
	gGame   = 2 // fault 500 on example/game, 6 s
	gData   = 3 // data-plane root fault, 7.5 s
	gLambda = 4 // random-name (AWS::Lambda) -> random-name (AWS::Lambda::Function, error)
	gAlice  = 5 // alice again, 4 s
)

func (e *searchEnv) ingestGenerated(t *testing.T) map[int]string {
	base := float64(e.now.Unix() - 60)
	ids := map[int]string{}
	for _, g := range []int{gAPI, gGame, gData, gLambda, gAlice} {
		ids[g] = e.traceID(g)
	}
	seg := func(g int, id, fields string) string {
		return fmt.Sprintf(`{"trace_id":%q,"id":%q,%s}`, ids[g], id, fields)
	}
	at := func(off, dur float64) string {
		return fmt.Sprintf(`"start_time":%f,"end_time":%f`, base+off, base+off+dur)
	}
	e.putDocs(t,
		seg(gAPI, "a000000000000001", `"name":"api.example.com",`+at(0, 3)+`,"user":"alice",
			"http":{"request":{"method":"GET","url":"http://api.example.com/v2/api/game/17"},"response":{"status":200}},
			"annotations":{"account":"12345","gameid":"817DL6VO","age":31},
			"subsegments":[{"id":"a000000000000002","name":"backend.example.com","namespace":"remote",`+at(0.5, 1)+`,"error":true,
				"http":{"request":{"method":"POST","url":"http://backend.example.com/score"},"response":{"status":404}}}]`),
		seg(gAPI, "a000000000000003", `"name":"backend.example.com","parent_id":"a000000000000002",`+at(0.6, 0.8)+`,"error":true,
			"http":{"request":{"method":"POST","url":"http://backend.example.com/score"},"response":{"status":404}}`),
		seg(gGame, "b000000000000001", `"name":"game.example.com",`+at(1, 6)+`,"fault":true,
			"http":{"request":{"method":"GET","url":"https://example/game/play"},"response":{"status":500}},"annotations":{"age":25}`),
		seg(gData, "c000000000000001", `"name":"data-plane",`+at(2, 7)+`,"fault":true,
			"http":{"request":{"method":"PUT","url":"http://data.internal/rows"},"response":{"status":503}},
			"subsegments":[{"id":"c000000000000002","name":"flush",`+at(8, 1.5)+`}]`),
		seg(gLambda, "d000000000000001", `"name":"random-name","origin":"AWS::Lambda",`+at(3, 1)+`,
			"http":{"response":{"status":200}},
			"subsegments":[{"id":"d000000000000002","name":"Invocation",`+at(3.1, 0.8)+`}]`),
		seg(gLambda, "d000000000000003", `"name":"random-name","origin":"AWS::Lambda::Function","parent_id":"d000000000000002",`+at(3.2, 0.6)+`,
			"error":true,"aws":{"account_id":"123456789012"}`),
		seg(gAlice, "e000000000000001", `"name":"profile.example.com",`+at(4, 4)+`,"user":"alice",
			"http":{"request":{"method":"GET","url":"http://profile.example.com/me"},"response":{"status":200}}`),
	)
	return ids
}

// search runs GetTraceSummaries through every page.
func (e *searchEnv) search(t *testing.T, in xray.GetTraceSummariesInput) ([]string, error) {
	t.Helper()
	if in.StartTime == nil {
		in.StartTime = aws.Time(e.now.Add(-time.Hour))
		in.EndTime = aws.Time(e.now.Add(time.Minute))
	}
	var ids []string
	for page := 0; ; page++ {
		out, err := e.c.GetTraceSummaries(context.Background(), &in)
		if err != nil {
			return nil, err
		}
		for _, s := range out.TraceSummaries {
			ids = append(ids, aws.ToString(s.Id))
		}
		if out.NextToken == nil {
			return ids, nil
		}
		if page > 1000 {
			t.Fatal("paging does not end")
		}
		in.NextToken = out.NextToken
	}
}

// bruteForce is what a search must answer: every trace in the window
// that the expression matches, found without the index.
func (e *searchEnv) bruteForce(t *testing.T, expr string, groups filter.GroupResolver) []string {
	t.Helper()
	f, err := filter.Parse(expr, filter.Options{Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	q := store.SummaryQuery{From: e.now.Add(-time.Hour).Unix(), To: e.now.Add(time.Minute).Unix() + 1}
	err = e.st.Summaries(context.Background(), q, func(s *trace.Summary) bool {
		if f.Match(s) {
			ids = append(ids, s.TraceID)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// TestSpecExamplesEndToEnd runs every example of spec §4.4 through
// aws-sdk-go-v2 against recorded SDK traffic and generated traces.
func TestSpecExamplesEndToEnd(t *testing.T) {
	e := newSearchEnv(t, t.TempDir())
	e.ingestFixtures(t)
	ids := e.ingestGenerated(t)
	if _, err := e.c.CreateGroup(context.Background(), &xray.CreateGroupInput{
		GroupName: aws.String("high_response_time"), FilterExpression: aws.String("responsetime > 3.5")}); err != nil {
		t.Fatal(err)
	}
	groups := func(byARN bool, ref string) (string, bool) {
		return "responsetime > 3.5", ref == "high_response_time"
	}
	all := []int{gAPI, gGame, gData, gLambda, gAlice}
	cases := []struct {
		expr string
		want []int // of the generated traces; the others must not match
	}{
		{`responsetime > 5`, []int{gGame, gData}},
		{`duration >= 5 AND duration <= 8`, []int{gGame, gData}},
		{`ok !partial duration <3`, []int{gLambda}},
		{`http.status != 200`, []int{gGame, gData}},
		{`http.url CONTAINS "/api/game/"`, []int{gAPI}},
		{`user CONTAINS ""`, []int{gAPI, gAlice}},
		{`annotation.gameid = "817DL6VO"`, []int{gAPI}},
		{`annotation.age > 29`, []int{gAPI}},
		{`!annotation.age`, []int{gData, gLambda, gAlice}},
		{`service("api.example.com") { fault = true OR responsetime > 2.5 } AND annotation.account = "12345"`, []int{gAPI}},
		{`service() { fault }`, []int{gGame, gData}},
		{`edge("api.example.com", "backend.example.com") { error }`, []int{gAPI}},
		{`http.url BEGINSWITH "http://api.example.com/" AND http.url CONTAINS "/v2/" AND !service("api.example.com")`, nil},
		{`service(id(name: "random-name", type: "AWS::Lambda::Function")) { error }`, []int{gLambda}},
		{`service(id(account.id: "123456789012"))`, []int{gLambda}},
		{`service("data-plane") {root = true and fault = true}`, []int{gData}},
		{`group.name = "high_response_time" AND user = "alice"`, []int{gAlice}},
		{`rootcause.fault.entity { last and name = "deserialize" }`, nil},
		{`rootcause.responsetime.entity { remote and coverage > 0.7 and name = "traces" }`, nil},
		{`rootcause.responsetime.service { last and type = "AWS::DynamoDB" }`, nil},
		{`rootcause.json = #[{ "Services": [ { "Name": "GetWeatherData", "EntityPath": [{ "Name": "GetWeatherData" }, { "Name": "get_temperature" } ] } ] }]`, nil},
		{`fault = true AND http.url CONTAINS "example/game" AND responsetime >= 5`, []int{gGame}},
		// Recorded traffic.
		{`annotation.customer = "c-42" AND service("backend") { fault }`, nil},
		{`user = "user-7"`, nil},
	}
	for _, c := range cases {
		got, err := e.search(t, xray.GetTraceSummariesInput{FilterExpression: aws.String(c.expr)})
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		for _, g := range all {
			want := false
			for _, w := range c.want {
				want = want || w == g
			}
			if contains(got, ids[g]) != want {
				t.Errorf("%s: generated trace %d matched %v, want %v", c.expr, g, !want, want)
			}
		}
		brute := e.bruteForce(t, c.expr, groups)
		sort.Strings(got)
		sort.Strings(brute)
		if strings.Join(got, ",") != strings.Join(brute, ",") {
			t.Errorf("%s: the search answered %v, a full scan finds %v", c.expr, got, brute)
		}
	}
	// Recorded traffic is searchable by what the SDKs recorded.
	got, _ := e.search(t, xray.GetTraceSummariesInput{FilterExpression: aws.String(`annotation.customer = "c-42" AND service("backend") { fault }`)})
	if len(got) != 2 {
		t.Errorf("the Go SDK recorded two failing checkouts; the search found %d", len(got))
	}
}

func apiError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae
}

func TestSearchErrorsAreActionable(t *testing.T) {
	e := newSearchEnv(t, t.TempDir())
	cases := map[string]string{
		`responsetime >`:                     "FilterExpression: expected a value after '>' but found the end of the expression at column 15",
		`service("x") { http.status = "5" }`: "http.status is a number, not a string at column 30",
		`fault > true`:                       "operator '>' does not apply here",
		strings.Repeat("(", 60) + "ok" + strings.Repeat(")", 60): "nests deeper than 50 levels",
		strings.Repeat(`ok OR `, 20000) + "ok":                   "the limit is 10000",
		`group.name = "missing"`:                                 `there is no group "missing"`,
	}
	for expr, msg := range cases {
		start := time.Now()
		_, err := e.search(t, xray.GetTraceSummariesInput{FilterExpression: aws.String(expr)})
		if err == nil {
			t.Errorf("%.40s: no error", expr)
			continue
		}
		ae := apiError(t, err)
		if ae.ErrorCode() != "InvalidRequestException" || !strings.Contains(ae.ErrorMessage(), msg) {
			t.Errorf("%.40s: %s %q, want InvalidRequestException containing %q", expr, ae.ErrorCode(), ae.ErrorMessage(), msg)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%.40s: took %v", expr, d)
		}
	}
	bad := []xray.GetTraceSummariesInput{
		{TimeRangeType: types.TimeRangeType("Wall")},
		{Sampling: aws.Bool(true), SamplingStrategy: &types.SamplingStrategy{Name: types.SamplingStrategyNameFixedRate, Value: aws.Float64(0)}},
		{Sampling: aws.Bool(true), SamplingStrategy: &types.SamplingStrategy{Name: types.SamplingStrategyNameFixedRate, Value: aws.Float64(300)}},
		{NextToken: aws.String("garbage")},
	}
	for _, in := range bad {
		_, err := e.search(t, in)
		if err == nil || apiError(t, err).ErrorCode() != "InvalidRequestException" {
			t.Errorf("%+v: error %v, want InvalidRequestException", in, err)
		}
	}
}
