package api_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"

	"github.com/roentgen-tracing/roentgen/internal/api"
)

// aggOut is the response shape of /roentgen/TraceAggregates as a client
// reads it.
type aggOut struct {
	TracesMatched   int64
	TracesProcessed int64
	Faults, Errors  int64
	ResponseTime    *api.Stats
	Histogram       []api.Bucket
	OverTime        []api.TimeBucket
	Slowest         []struct {
		Id           string
		ResponseTime float64
	}
	Traces []struct {
		Id                     string
		ResponseTime, Duration float64
		StartTime              float64
	}
	Urls, HttpStatuses, Users, EntryServices, RootCauses []api.ValueCount
	FaultRootCauses                                      []api.ValueCount
	Annotations                                          []api.KeyBreakdown
	starts                                               []float64
}

func postAggregates(t *testing.T, url string, body map[string]any) (int, []byte) {
	t.Helper()
	return postTo(t, url+"/roentgen/TraceAggregates", body)
}

// postTo posts a JSON body over real HTTP and returns the status and body.
func postTo(t *testing.T, url string, body map[string]any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	res, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	return res.StatusCode, buf.Bytes()
}

// putRandom stores n random single-segment traces across the last 20
// minutes: services, URLs, statuses, users and annotations from small sets
// so breakdowns have ties, response times in whole milliseconds.
func (e *searchEnv) putRandom(t *testing.T, r *rand.Rand, n int) {
	var docs []string
	urls := []string{"/", "/api/a", "/api/b", "/very/" + strings.Repeat("long", 50)}
	statuses := []int{200, 200, 200, 404, 500, 503}
	users := []string{"", "alice", "bob", "carol"}
	colors := []string{"red", "green", "blue"}
	for i := range n {
		ep := e.now.Unix() - int64(r.IntN(1200))
		id := fmt.Sprintf("1-%08x-%024x", ep, r.Uint64()>>8)
		start := float64(ep) + float64(r.IntN(1000))/1000
		rt := float64(1+r.IntN(5000)) / 1000
		st := statuses[r.IntN(len(statuses))]
		ann := fmt.Sprintf(`"color":%q,"n":%d,"ok":%v`, colors[r.IntN(3)], r.IntN(4), r.IntN(2) == 0)
		if r.IntN(10) == 0 {
			ann += fmt.Sprintf(`,%q:"x"`, strings.Repeat("k", 200))
		}
		user := ""
		if u := users[r.IntN(len(users))]; u != "" {
			user = fmt.Sprintf(`"user":%q,`, u)
		}
		docs = append(docs, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"svc-%d","start_time":%f,"end_time":%f,%s"fault":%v,"error":%v,`+
			`"http":{"request":{"method":"GET","url":%q},"response":{"status":%d}},"annotations":{%s}}`,
			id, 0x300000+i, r.IntN(3), start, start+rt, user, st >= 500, st == 404, urls[r.IntN(len(urls))], st, ann))
		if len(docs) == 50 {
			e.putDocs(t, docs...)
			docs = nil
		}
	}
	if len(docs) > 0 {
		e.putDocs(t, docs...)
	}
}

// bruteAggregates computes, from every page of GetTraceSummaries, what
// TraceAggregates must answer.
func (e *searchEnv) bruteAggregates(t *testing.T, expr string, from, to time.Time, topN int) aggOut {
	t.Helper()
	in := &xray.GetTraceSummariesInput{StartTime: aws.Time(from), EndTime: aws.Time(to)}
	if expr != "" {
		in.FilterExpression = aws.String(expr)
	}
	var all []types.TraceSummary
	for {
		out, err := e.c.GetTraceSummaries(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.TraceSummaries...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	var o aggOut
	o.TracesMatched = int64(len(all))
	var rts []float64
	urls, sts, users, entries, roots, keys := map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	vals := map[string]map[string]int64{}
	faultRoots := map[string]int64{}
	for _, s := range all {
		rts = append(rts, aws.ToFloat64(s.ResponseTime))
		o.starts = append(o.starts, float64(s.StartTime.UnixMilli())/1000)
		if aws.ToBool(s.HasFault) {
			o.Faults++
		}
		if aws.ToBool(s.HasError) {
			o.Errors++
		}
		if s.Http != nil && aws.ToString(s.Http.HttpURL) != "" {
			urls[*s.Http.HttpURL]++
		}
		if s.Http != nil && s.Http.HttpStatus != nil {
			sts[strconv.Itoa(int(*s.Http.HttpStatus))]++
		}
		if s.EntryPoint != nil {
			entries[aws.ToString(s.EntryPoint.Name)]++
		}
		seenU := map[string]bool{}
		for _, u := range s.Users {
			if n := aws.ToString(u.UserName); n != "" && !seenU[n] {
				seenU[n] = true
				users[n]++
			}
		}
		seenR := map[string]bool{}
		seenF := map[string]bool{}
		for _, rc := range s.FaultRootCauses {
			for _, sv := range rc.Services {
				seenR[aws.ToString(sv.Name)] = true
				seenF[aws.ToString(sv.Name)] = true
			}
		}
		for n := range seenF {
			faultRoots[n]++
		}
		for _, rc := range s.ErrorRootCauses {
			for _, sv := range rc.Services {
				seenR[aws.ToString(sv.Name)] = true
			}
		}
		for _, rc := range s.ResponseTimeRootCauses {
			for _, sv := range rc.Services {
				seenR[aws.ToString(sv.Name)] = true
			}
		}
		for n := range seenR {
			roots[n]++
		}
		for k, vs := range s.Annotations {
			keys[k]++
			seenV := map[string]bool{}
			for _, v := range vs {
				var key string
				switch x := v.AnnotationValue.(type) {
				case *types.AnnotationValueMemberStringValue:
					key = "s" + x.Value
				case *types.AnnotationValueMemberNumberValue:
					key = "n" + strconv.FormatFloat(x.Value, 'g', -1, 64)
				case *types.AnnotationValueMemberBooleanValue:
					key = "b" + strconv.FormatBool(x.Value)
				}
				if !seenV[key] {
					seenV[key] = true
					if vals[k] == nil {
						vals[k] = map[string]int64{}
					}
					vals[k][key]++
				}
			}
		}
	}
	top := func(c map[string]int64, n int) []api.ValueCount {
		var ks []string
		for k := range c {
			ks = append(ks, k)
		}
		slices.SortFunc(ks, func(a, b string) int {
			return cmp.Or(cmp.Compare(c[b], c[a]), strings.Compare(a, b))
		})
		out := []api.ValueCount{}
		for _, k := range ks[:min(n, len(ks))] {
			out = append(out, api.ValueCount{Value: k, Count: c[k]})
		}
		return out
	}
	o.Urls, o.HttpStatuses, o.Users, o.EntryServices, o.RootCauses = top(urls, topN), top(sts, topN), top(users, topN), top(entries, topN), top(roots, topN)
	o.FaultRootCauses = top(faultRoots, topN)
	for _, kc := range top(keys, 20) {
		o.Annotations = append(o.Annotations, api.KeyBreakdown{Key: kc.Value.(string), Count: kc.Count, Values: top(vals[kc.Value.(string)], topN)})
	}
	o.Slowest = []struct {
		Id           string
		ResponseTime float64
	}{}
	// Slowest: by response time, ties newest first (epoch, then id).
	slices.SortFunc(all, func(a, b types.TraceSummary) int {
		return cmp.Or(cmp.Compare(*b.ResponseTime, *a.ResponseTime), strings.Compare(*b.Id, *a.Id))
	})
	for _, s := range all[:min(topN, len(all))] {
		o.Slowest = append(o.Slowest, struct {
			Id           string
			ResponseTime float64
		}{*s.Id, *s.ResponseTime})
	}
	if len(rts) > 0 {
		slices.Sort(rts)
		rank := func(q float64) float64 { return rts[int(math.Ceil(q*float64(len(rts))))-1] }
		o.ResponseTime = &api.Stats{Min: rts[0], Max: rts[len(rts)-1], P50: rank(0.5), P90: rank(0.9), P95: rank(0.95), P99: rank(0.99)}
	}
	return o
}

// normalize renders breakdown values as the brute force keys them.
func normalize(got aggOut) aggOut {
	norm := func(l []api.ValueCount, f func(any) string) []api.ValueCount {
		for i := range l {
			l[i].Value = f(l[i].Value)
		}
		return l
	}
	str := func(v any) string { return fmt.Sprint(v) }
	typed := func(v any) string {
		switch x := v.(type) {
		case string:
			return "s" + x
		case float64:
			return "n" + strconv.FormatFloat(x, 'g', -1, 64)
		case bool:
			return "b" + strconv.FormatBool(x)
		}
		return "?"
	}
	norm(got.Urls, str)
	norm(got.HttpStatuses, str)
	norm(got.Users, str)
	norm(got.EntryServices, str)
	norm(got.RootCauses, str)
	for i := range got.Annotations {
		norm(got.Annotations[i].Values, typed)
	}
	return got
}

func jsonEq(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// TestTraceAggregatesEqualBruteForce: for random workloads and filters, the
// aggregates equal a computation over every page of GetTraceSummaries.
func TestTraceAggregatesEqualBruteForce(t *testing.T) {
	e := newSearchEnv(t, t.TempDir())
	r := rand.New(rand.NewPCG(20, uint64(time.Now().UnixNano())))
	e.putRandom(t, r, 600+r.IntN(300))
	filters := []string{"", `service("svc-1")`, `responsetime > 2.5`, `annotation.color = "red"`, `http.status = 500`,
		`fault`, `user = "bob"`, `!fault AND duration < 1`, `http.url CONTAINS "api"`, `annotation.n >= 2`, `responsetime > 99`}
	for _, f := range filters {
		for _, win := range []time.Duration{time.Hour, 7 * time.Minute} {
			topN := 1 + r.IntN(12)
			from, to := e.now.Add(-win).Truncate(time.Second), e.now.Add(time.Minute).Truncate(time.Second)
			want := e.bruteAggregates(t, f, from, to, topN)
			status, body := postAggregates(t, e.url, map[string]any{
				"StartTime": from.Unix(), "EndTime": to.Unix(), "FilterExpression": f,
				"SortBy": "ResponseTime", "Limit": 1000, "TopN": topN, "Buckets": 30, "TimeBuckets": 12})
			if status != 200 {
				t.Fatalf("%q: status %d: %s", f, status, body)
			}
			var got aggOut
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("filter %q over %s", f, win)
			if got.TracesMatched != want.TracesMatched {
				t.Fatalf("%s: %d traces, want %d", name, got.TracesMatched, want.TracesMatched)
			}
			if got.ResponseTime != nil {
				got.ResponseTime.Mean = 0
			}
			jsonEq(t, name+": response time", got.ResponseTime, want.ResponseTime)
			jsonEq(t, name+": faults/errors", []int64{got.Faults, got.Errors}, []int64{want.Faults, want.Errors})
			jsonEq(t, name+": slowest", got.Slowest, want.Slowest)
			got = normalize(got)
			jsonEq(t, name+": urls", got.Urls, want.Urls)
			jsonEq(t, name+": statuses", got.HttpStatuses, want.HttpStatuses)
			jsonEq(t, name+": users", got.Users, want.Users)
			jsonEq(t, name+": entry services", got.EntryServices, want.EntryServices)
			jsonEq(t, name+": root causes", got.RootCauses, want.RootCauses)
			jsonEq(t, name+": fault root causes", normalize(aggOut{Urls: got.FaultRootCauses}).Urls, want.FaultRootCauses)
			if len(want.Annotations) == 0 {
				want.Annotations = []api.KeyBreakdown{}
			}
			jsonEq(t, name+": annotations", got.Annotations, want.Annotations)
			// Traces over time, bucketed here by their start times.
			perBucket := make([]int64, 12)
			for _, st := range want.starts {
				perBucket[api.BucketOf(st, float64(from.Unix()), float64(to.Unix()-from.Unix())/12, 12)]++
			}
			gotPer := make([]int64, len(got.OverTime))
			for i, b := range got.OverTime {
				gotPer[i] = b.Count
			}
			jsonEq(t, name+": over time", gotPer, perBucket)
			// The histogram holds every trace, each in the bucket its edges say.
			var n int64
			for i, b := range got.Histogram {
				n += b.Count
				if i > 0 && b.Lower != got.Histogram[i-1].Upper {
					t.Errorf("%s: bucket %d starts at %v, the previous ends at %v", name, i, b.Lower, got.Histogram[i-1].Upper)
				}
			}
			if n != want.TracesMatched {
				t.Errorf("%s: histogram holds %d traces, want %d", name, n, want.TracesMatched)
			}
			// The sorted list is every match, slowest first.
			if int64(len(got.Traces)) != min(want.TracesMatched, 1000) {
				t.Errorf("%s: %d sorted traces", name, len(got.Traces))
			}
			for i := 1; i < len(got.Traces); i++ {
				if got.Traces[i].ResponseTime > got.Traces[i-1].ResponseTime {
					t.Fatalf("%s: traces not sorted by response time at %d", name, i)
				}
			}
			if len(want.Slowest) > 0 && got.Traces[0].Id != want.Slowest[0].Id {
				t.Errorf("%s: first sorted trace %s, the slowest is %s", name, got.Traces[0].Id, want.Slowest[0].Id)
			}
		}
	}
}

// TestTraceAggregatesHistogramCounts checks bucket counts against values
// bucketed independently of the server.
func TestTraceAggregatesHistogramCounts(t *testing.T) {
	v := []float64{0.1, 0.2, 0.2, 0.5, 0.9, 1.0}
	h := api.Histogram(v, 4)
	want := []int64{3, 1, 0, 2} // [0.1,0.325) [0.325,0.55) [0.55,0.775) [0.775,1.0]
	for i, b := range h {
		if b.Count != want[i] {
			t.Errorf("bucket %d [%v,%v) holds %d, want %d", i, b.Lower, b.Upper, b.Count, want[i])
		}
	}
	if got := api.Histogram([]float64{2, 2}, 10); len(got) != 1 || got[0].Count != 2 {
		t.Errorf("equal values: %+v", got)
	}
	if got := api.Percentile([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9); got != 9 {
		t.Errorf("p90 of 1..10 = %v, want 9", got)
	}
}

// TestTraceAggregatesRefusesWhatSearchRefuses: bad input gets the same
// InvalidRequestException message as GetTraceSummaries.
func TestTraceAggregatesRefusesWhatSearchRefuses(t *testing.T) {
	e := newSearchEnv(t, t.TempDir())
	from, to := e.now.Add(-time.Hour).Unix(), e.now.Unix()
	for _, body := range []map[string]any{
		{"StartTime": from, "EndTime": to, "FilterExpression": "responsetime >"},
		{"StartTime": from, "EndTime": to, "FilterExpression": `annotation.`},
		{"StartTime": from, "EndTime": to, "FilterExpression": `service("a") {`},
		{"StartTime": from, "EndTime": to, "FilterExpression": `group.name = "nope"`},
		{"StartTime": to, "EndTime": from},
		{"EndTime": to},
		{"StartTime": from, "EndTime": to, "TimeRangeType": "Wall"},
	} {
		status, got := postAggregates(t, e.url, body)
		b, _ := json.Marshal(body)
		res, err := http.Post(e.url+"/TraceSummaries", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		want.ReadFrom(res.Body)
		res.Body.Close()
		if status != 400 || res.StatusCode != 400 {
			t.Fatalf("%s: status %d (search %d)", b, status, res.StatusCode)
		}
		var g, w map[string]any
		json.Unmarshal(got, &g)
		json.Unmarshal(want.Bytes(), &w)
		if g["__type"] != "InvalidRequestException" || g["message"] != w["message"] {
			t.Errorf("%s: got %s, search says %s", b, got, want.Bytes())
		}
	}
	for _, body := range []map[string]any{
		{"StartTime": from, "EndTime": to, "SortBy": "Name"},
		{"StartTime": from, "EndTime": to, "Limit": 0},
		{"StartTime": from, "EndTime": to, "TopN": 101},
		{"StartTime": from, "EndTime": to, "Buckets": -1},
	} {
		status, got := postAggregates(t, e.url, body)
		if status != 400 || !strings.Contains(string(got), "InvalidRequestException") {
			t.Errorf("%v: status %d %s", body, status, got)
		}
	}
	// An empty window answers zeros, not an error.
	status, got := postAggregates(t, e.url, map[string]any{"StartTime": from, "EndTime": to})
	if status != 200 || !strings.Contains(string(got), `"TracesMatched":0`) || !strings.Contains(string(got), `"NewestTraceTime":0`) {
		t.Errorf("empty window: %d %s", status, got)
	}
}
