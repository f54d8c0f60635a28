package sampling

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/roentgen-tracing/roentgen/xray/daemoncfg"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWildcard(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "anything", true}, {"", "", true}, {"", "a", false},
		{"a*c", "abbbc", true}, {"a*c", "ab", false}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"*.example.com", "API.Example.com", true}, {"/api/*/orders", "/api/v1/orders", true},
		{"*a*b", "xaxb", true}, {"*a*b", "xaxbx", false}, {"GET", "get", true},
	} {
		if got := WildcardMatchCaseInsensitive(c.p, c.s); got != c.want {
			t.Errorf("match(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

// clock is an injected wall clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLocalRulesReservoirThenRate(t *testing.T) {
	s, err := NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":1,"rate":0.05},
		"rules":[{"description":"health","host":"*","http_method":"GET","url_path":"/health","fixed_target":0,"rate":0}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{time.Unix(1_800_000_000, 0)}
	r := 0.5
	s.now, s.rand = c.now, func() float64 { return r }
	req := Request{Host: "shop", Method: "GET", URL: "/orders"}
	if !s.Decide(req).Sample {
		t.Error("the first request of a second was not sampled")
	}
	if s.Decide(req).Sample {
		t.Error("the second request of a second was sampled at rate 0.05 with draw 0.5")
	}
	r = 0.01
	if !s.Decide(req).Sample {
		t.Error("a draw under the rate was not sampled")
	}
	r = 0.5
	c.t = c.t.Add(time.Second)
	if !s.Decide(req).Sample {
		t.Error("the reservoir did not refill in the next second")
	}
	if s.Decide(Request{Host: "shop", Method: "GET", URL: "/health"}).Sample {
		t.Error("the health rule (0, 0) sampled")
	}
}

// The request's time (the SDK passes the segment's start) drives the
// reservoir when no clock is injected.
func TestLocalRulesUseTheRequestTime(t *testing.T) {
	s, err := NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":1,"rate":0},"rules":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1_800_000_000, 0)
	req := Request{ServiceName: "shop", Now: at}
	if !s.Decide(req).Sample || s.Decide(req).Sample {
		t.Fatal("not exactly the first request of the second was sampled")
	}
	req.Now = at.Add(time.Second)
	if !s.Decide(req).Sample {
		t.Error("the reservoir did not refill in the request's next second")
	}
}

func TestLocalRulesFileVersions(t *testing.T) {
	v1, err := NewLocalizedStrategyFromJSONBytes([]byte(`{"version":1,"default":{"fixed_target":0,"rate":0},
		"rules":[{"service_name":"api.*","http_method":"*","url_path":"*","fixed_target":1,"rate":0}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !v1.Decide(Request{Host: "api.shop"}).Sample || v1.Decide(Request{Host: "web.shop"}).Sample {
		t.Error("version 1 service_name is not matched against the host")
	}
	for _, bad := range []string{
		`{"version":3,"default":{"fixed_target":1,"rate":0.05}}`,
		`{"version":2}`,
		`{"version":2,"default":{"fixed_target":1,"rate":0.05,"url_path":"/x"}}`,
		`{"version":2,"default":{"fixed_target":1,"rate":1.5}}`,
		`{"version":2,"default":{"fixed_target":1,"rate":0.05},"rules":[{"host":"*","fixed_target":1,"rate":1}]}`,
		`not json`,
	} {
		if _, err := ManifestFromJSONBytes([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// daemonAPI answers the daemon's TCP side like the recordings in
// shared/fixtures, and records what the strategy sent.
type daemonAPI struct {
	mu      sync.Mutex
	rules   string
	targets string
	stats   []map[string]any
	calls   map[string]int
}

func (d *daemonAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls[r.URL.Path]++
	switch r.URL.Path {
	case "/GetSamplingRules":
		io.WriteString(w, d.rules)
	case "/SamplingTargets":
		var in struct{ SamplingStatisticsDocuments []map[string]any }
		_ = json.Unmarshal(body, &in)
		d.stats = append(d.stats, in.SamplingStatisticsDocuments...)
		io.WriteString(w, d.targets)
	default:
		http.NotFound(w, r)
	}
}

func rule(name string, prio int, rate float64, size int, urlPath string) string {
	b, _ := json.Marshal(map[string]any{"SamplingRule": map[string]any{
		"RuleName": name, "RuleARN": "arn:aws:xray:us-east-1:123456789012:sampling-rule/" + name, "ResourceARN": "*",
		"Priority": prio, "FixedRate": rate, "ReservoirSize": size, "ServiceName": "*", "ServiceType": "*",
		"Host": "*", "HTTPMethod": "*", "URLPath": urlPath, "Version": 1, "Attributes": map[string]any{}}})
	return string(b)
}

func TestCentralizedRulesQuotasAndStatistics(t *testing.T) {
	api := &daemonAPI{calls: map[string]int{},
		rules: `{"SamplingRuleRecords":[` + rule("Default", 10000, 0, 1, "*") + `,` + rule("orders", 5, 0, 10, "/orders*") + `,` +
			`{"SamplingRule":{"RuleName":"arn-bound","ResourceARN":"arn:x","Priority":1,"FixedRate":1,"ReservoirSize":1,"Version":1,"Attributes":{}}}]}`}
	srv := httptest.NewServer(api)
	defer srv.Close()
	s, _ := NewCentralizedStrategy()
	s.Close() // no pollers: the test drives refreshes itself
	ep, _ := daemoncfg.Parse(strings.TrimPrefix(srv.URL, "http://"))
	s.LoadDaemonEndpoints(ep)
	c := &clock{time.Unix(1_800_000_000, 0)}
	s.now, s.rand = c.now, func() float64 { return 0.99 }

	// Before rules arrive: the local fallback (1/s).
	if d := s.Decide(Request{URL: "/orders/1"}); !d.Sample || d.Rule != nil {
		t.Errorf("fallback decision = %+v", d)
	}
	if err := s.RefreshRules(context.Background()); err != nil {
		t.Fatal(err)
	}
	// No quota yet: borrow one per second, then the fixed rate (0).
	d1, d2 := s.Decide(Request{URL: "/orders/1"}), s.Decide(Request{URL: "/orders/2"})
	if !d1.Sample || *d1.Rule != "orders" || d2.Sample {
		t.Errorf("borrow: %+v %+v", d1, d2)
	}
	if d := s.Decide(Request{URL: "/cart"}); *d.Rule != "Default" {
		t.Errorf("unmatched request went to rule %s", *d.Rule)
	}
	api.targets = `{"SamplingTargetDocuments":[{"RuleName":"orders","FixedRate":0.5,"ReservoirQuota":2,"ReservoirQuotaTTL":` +
		`1800000100,"Interval":10}],"LastRuleModification":0,"UnprocessedStatistics":[]}`
	if err := s.RefreshTargets(context.Background()); err != nil {
		t.Fatal(err)
	}
	byRule := map[string]map[string]any{}
	for _, st := range api.stats {
		byRule[st["RuleName"].(string)] = st
	}
	if o := byRule["orders"]; o == nil || o["RequestCount"] != 2.0 || o["BorrowCount"] != 1.0 || o["SampledCount"] != 0.0 || len(o["ClientID"].(string)) != 24 {
		t.Errorf("orders statistics = %v", o)
	}
	c.t = c.t.Add(time.Second)
	got := 0
	for i := 0; i < 3; i++ {
		if s.Decide(Request{URL: "/orders/x"}).Sample {
			got++
		}
	}
	if got != 2 {
		t.Errorf("quota 2 sampled %d of 3 (draw above the rate)", got)
	}
	// An hour without a rules refresh: back to local rules.
	c.t = c.t.Add(2 * time.Hour)
	if d := s.Decide(Request{URL: "/orders/x"}); d.Rule != nil {
		t.Errorf("stale rules still used: %+v", d)
	}
}

// The pollers start with the first decision, fetch the rules and stop on
// Close (goleak checks they are gone).
func TestCentralizedPollersStartAndStop(t *testing.T) {
	api := &daemonAPI{calls: map[string]int{}, rules: `{"SamplingRuleRecords":[` + rule("Default", 10000, 1, 1, "*") + `]}`}
	srv := httptest.NewServer(api)
	defer srv.Close()
	s, _ := NewCentralizedStrategy()
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	ep, _ := daemoncfg.Parse(host + ":" + port)
	s.LoadDaemonEndpoints(ep)
	s.Decide(Request{})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		s.mu.RLock()
		n := len(s.rules)
		s.mu.RUnlock()
		if n == 1 {
			break
		}
	}
	s.Close()
	if d := s.Decide(Request{}); d.Rule == nil || *d.Rule != "Default" {
		t.Errorf("decision after the first fetch = %+v", d)
	}
}

// A rules file either parses into a usable strategy or is an error.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(DefaultRules))
	f.Add([]byte(`{"version":1,"default":{"fixed_target":1,"rate":0.1},"rules":[{"service_name":"a","http_method":"*","url_path":"*","fixed_target":0,"rate":1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := NewLocalizedStrategyFromJSONBytes(b)
		if err != nil {
			return
		}
		s.Decide(Request{Host: "h", Method: "GET", URL: "/"})
	})
}
