package sampling_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// handler is the API on a real Pebble store (xraytest.NewAPI).
func handler(tb testing.TB) http.Handler { return xraytest.NewAPI(tb, tb.TempDir()) }

func serve(h http.Handler, path, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return w
}

// BenchmarkGetSamplingTargets: one SDK report (two rules) through the whole
// handler, for a fleet of 1,000 clients reporting in turn.
func BenchmarkGetSamplingTargets(b *testing.B) {
	h := handler(b)
	if w := serve(h, "/CreateSamplingRule", `{"SamplingRule":{"RuleName":"api","ResourceARN":"*","Priority":1,"FixedRate":0.1,"ReservoirSize":50,"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"/api/*","Version":1}}`); w.Code != 200 {
		b.Fatal(w.Body.String())
	}
	bodies := make([]string, 1000)
	now := time.Now().Unix()
	for i := range bodies {
		id := fmt.Sprintf("%024x", i)
		bodies[i] = fmt.Sprintf(`{"SamplingStatisticsDocuments":[{"RuleName":"api","ClientID":%q,"Timestamp":%d,"RequestCount":%d,"SampledCount":5,"BorrowCount":0},{"RuleName":"Default","ClientID":%q,"Timestamp":%d,"RequestCount":10,"SampledCount":1,"BorrowCount":0}]}`, id, now, 100+i, id, now)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if w := serve(h, "/SamplingTargets", bodies[i%len(bodies)]); w.Code != 200 {
			b.Fatal(w.Body.String())
		}
	}
}

// BenchmarkGetSamplingRules: what every SDK process asks at start-up and
// every 5 minutes, with 25 rules.
func BenchmarkGetSamplingRules(b *testing.B) {
	h := handler(b)
	for i := 0; i < 25; i++ {
		body := fmt.Sprintf(`{"SamplingRule":{"RuleName":"r%d","ResourceARN":"*","Priority":%d,"FixedRate":0.1,"ReservoirSize":5,"ServiceName":"svc-%d","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","Version":1}}`, i, i+1, i)
		if w := serve(h, "/CreateSamplingRule", body); w.Code != 200 {
			b.Fatal(w.Body.String())
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if w := serve(h, "/GetSamplingRules", `{"NextToken": null}`); w.Code != 200 {
			b.Fatal(w.Body.String())
		}
	}
}

// FuzzSamplingRequests: any body to any sampling operation gets a 200 or a
// 4xx in restJson1 form, never a 5xx or a crash.
func FuzzSamplingRequests(f *testing.F) {
	for _, s := range []string{
		`{"SamplingRule":{"RuleName":"a","ResourceARN":"*","Priority":1,"FixedRate":0.5,"ReservoirSize":1,"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","Version":1,"Attributes":{"k":"v"}},"Tags":[{"Key":"a","Value":"b"}]}`,
		`{"SamplingRuleUpdate":{"RuleName":"Default","FixedRate":0.2,"ReservoirSize":3}}`,
		`{"SamplingStatisticsDocuments":[{"RuleName":"Default","ClientID":"0123456789abcdef01234567","Timestamp":1795313784.613,"RequestCount":4,"SampledCount":3,"BorrowCount":1}]}`,
		`{"SamplingBoostStatisticsDocuments":[{"RuleName":"a","ServiceName":"s","Timestamp":"2026-01-01T00:00:00Z","AnomalyCount":1,"TotalCount":2,"SampledAnomalyCount":1}],"SamplingStatisticsDocuments":[]}`,
		`{"RuleARN":"arn:aws:xray:us-east-1:0:sampling-rule/a"}`,
		`{"NextToken":null}`, `null`, ``, `[`, `{"SamplingRule":{"Priority":1e40}}`,
	} {
		for op := uint8(0); op < 6; op++ {
			f.Add(op, s)
		}
	}
	h := handler(f)
	paths := []string{"/CreateSamplingRule", "/UpdateSamplingRule", "/DeleteSamplingRule", "/SamplingTargets", "/GetSamplingRules", "/SamplingStatisticSummaries"}
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		w := serve(h, paths[int(op)%len(paths)], body)
		if w.Code >= 500 || w.Code != 200 && w.Header().Get("X-Amzn-ErrorType") == "" {
			t.Fatalf("%s %q: %d %s", paths[int(op)%len(paths)], body, w.Code, w.Body.String())
		}
	})
}
