package filter

import (
	"sort"
	"strings"
	"testing"
)

var groupsForTest = map[string]string{
	"high_response_time": "responsetime > 3",
	"frontend-errors":    `service("frontend") AND fault = true`,
	"loop-a":             `group.name = "loop-b"`,
	"loop-b":             `group.name = "loop-a" OR fault`,
	"broken":             `responsetime >`,
	"all":                ``,
}

func testGroups(byARN bool, ref string) (string, bool) {
	if byARN {
		ref = strings.TrimPrefix(ref, "arn:aws:xray:us-east-1:000000000000:group/")
		ref = ref[:max(strings.IndexByte(ref, '/'), 0)]
	}
	e, ok := groupsForTest[ref]
	return e, ok
}

// TestMatch checks, for each keyword and operator, which traces of the
// corpus match and that all others do not.
func TestMatch(t *testing.T) {
	all := corpus(t)
	generated := []string{"multi", "rootcause"}
	cases := []struct {
		expr string
		want []string
		only []string // restrict the corpus (facts only generated traces have)
	}{
		// Boolean keywords, bare, negated, compared.
		{expr: "ok", want: []string{"go-ok", "py-order", "py-batch", "py-plain", "node-partial", "multi"}},
		{expr: "!ok", want: []string{"go-fail", "go-404", "rootcause"}},
		{expr: "ok = false", want: []string{"go-fail", "go-404", "rootcause"}},
		{expr: "error", want: []string{"go-404"}},
		{expr: "error = true", want: []string{"go-404"}},
		{expr: "fault", want: []string{"go-fail", "rootcause"}},
		{expr: "fault = true", want: []string{"go-fail", "rootcause"}},
		{expr: "fault != true", want: []string{"go-ok", "go-404", "py-order", "py-batch", "py-plain", "node-partial", "multi"}},
		{expr: "!fault", want: []string{"go-ok", "go-404", "py-order", "py-batch", "py-plain", "node-partial", "multi"}},
		{expr: "throttle", want: []string{"multi"}},
		{expr: "partial", want: []string{"node-partial"}},
		{expr: "!partial", want: []string{"go-ok", "go-fail", "go-404", "py-order", "py-batch", "py-plain", "multi", "rootcause"}},
		{expr: "inferred", want: []string{"multi", "rootcause"}, only: append([]string{"py-plain"}, generated...)},
		{expr: "!inferred", want: []string{"py-plain"}, only: append([]string{"py-plain"}, generated...)},
		{expr: "root", want: []string{"go-ok", "go-fail", "go-404", "py-order", "py-batch", "py-plain", "node-partial", "multi", "rootcause"}},
		// Numbers.
		{expr: "responsetime > 3", want: []string{"multi", "rootcause"}},
		{expr: "responsetime > 5", want: []string{"rootcause"}},
		{expr: "responsetime = 9", want: []string{"rootcause"}},
		{expr: "responsetime != 9", want: []string{"go-ok", "go-fail", "go-404", "py-order", "py-batch", "py-plain", "node-partial", "multi"}},
		{expr: "responsetime < 3", want: []string{"go-ok", "go-fail", "go-404", "py-order", "py-batch", "py-plain", "node-partial"}},
		{expr: "duration >= 5 AND duration <= 8", want: []string{"multi"}},
		{expr: "duration > 8.5", want: []string{"rootcause"}},
		{expr: "ok !partial duration <3", want: []string{"go-ok", "py-order", "py-batch", "py-plain"}},
		{expr: "http.status != 200", want: []string{"go-fail", "go-404", "py-order", "node-partial", "rootcause"}},
		{expr: "http.status = 201", want: []string{"py-order", "node-partial"}},
		{expr: "http.status >= 500", want: []string{"go-fail", "rootcause"}},
		{expr: "http.status < 300", want: []string{"go-ok", "py-order", "py-plain", "node-partial", "multi"}},
		{expr: "http.status <= 404 AND http.status > 201", want: []string{"go-404"}},
		// Strings.
		{expr: `http.url CONTAINS "/api/game/"`, want: []string{"multi"}},
		{expr: `http.url BEGINSWITH "https://shop.example.com/"`, want: []string{"py-order", "py-plain"}},
		{expr: `http.url ENDSWITH "/fail"`, want: []string{"go-fail"}},
		{expr: `http.url = "http://127.0.0.1:39101/notfound"`, want: []string{"go-404"}},
		{expr: `http.url != "http://127.0.0.1:39101/ok"`, want: []string{"go-fail", "go-404", "py-order", "py-plain", "node-partial", "multi", "rootcause"}},
		{expr: `http.url`, want: []string{"go-ok", "go-fail", "go-404", "py-order", "py-plain", "node-partial", "multi", "rootcause"}},
		{expr: `!http.url`, want: []string{"py-batch"}},
		{expr: `http.method = "POST"`, want: []string{"py-order", "node-partial"}},
		{expr: `http.method = "post"`, want: nil},
		{expr: `http.useragent CONTAINS "Mozilla"`, want: []string{"py-order", "node-partial"}},
		{expr: `http.clientip = "203.0.113.7"`, want: []string{"py-order", "node-partial"}},
		{expr: `user = "alice"`, want: []string{"multi"}},
		{expr: `user CONTAINS ""`, want: []string{"py-order", "node-partial", "multi"}},
		{expr: `user`, want: []string{"py-order", "node-partial", "multi"}},
		{expr: `user != "alice"`, want: []string{"py-order", "node-partial"}},
		{expr: `user BEGINSWITH "user-"`, want: []string{"py-order", "node-partial"}},
		{expr: `user ENDSWITH "ob"`, want: []string{"multi"}},
		{expr: `name = "backend"`, want: []string{"go-ok", "go-fail", "go-404"}},
		{expr: `name = backend`, want: []string{"go-ok", "go-fail", "go-404"}},
		{expr: `name = "UpstreamTimeout"`, want: []string{"multi"}},
		{expr: `name CONTAINS "checkout"`, want: []string{"py-order", "py-plain", "node-partial"}},
		{expr: `type = "AWS::Lambda::Function"`, want: []string{"multi", "rootcause"}},
		{expr: `type BEGINSWITH "AWS::DynamoDB"`, want: []string{"multi", "rootcause"}},
		{expr: `message CONTAINS "card declined"`, want: []string{"go-fail"}},
		{expr: `availabilityzone = "us-east-1a"`, want: []string{"multi"}},
		{expr: `availabilityzone != "us-east-1a"`, want: nil},
		{expr: `instance.id = "i-0abc123"`, want: []string{"multi"}},
		{expr: `resource.arn ENDSWITH ":random-name"`, want: []string{"multi"}},
		// Annotations of every type.
		{expr: `annotation.customer = "c-42"`, want: []string{"go-ok", "go-fail", "go-404", "py-order", "node-partial"}},
		{expr: `annotation.customer != "c-42"`, want: nil},
		{expr: `annotation.customer BEGINSWITH "c-"`, want: []string{"go-ok", "go-fail", "go-404", "py-order", "node-partial"}},
		{expr: `annotation.Customer = "c-42"`, want: nil},
		{expr: `annotation.gameid = "817DL6VO"`, want: []string{"multi"}},
		{expr: `annotation.age > 29`, want: []string{"multi"}},
		{expr: `annotation.age < 29`, want: nil},
		{expr: `annotation.age != 29`, want: []string{"multi"}},
		{expr: `!annotation.age`, want: []string{"go-ok", "go-fail", "go-404", "py-order", "py-batch", "py-plain", "node-partial", "rootcause"}},
		{expr: `annotation.items = 3`, want: []string{"go-ok", "go-fail", "go-404", "py-order", "node-partial"}},
		{expr: `annotation.vip = true`, want: []string{"go-ok", "go-fail", "go-404", "py-order", "node-partial"}},
		{expr: `annotation.vip != true`, want: nil},
		{expr: `annotation.beta = false`, want: []string{"multi"}},
		{expr: `annotation.beta`, want: []string{"multi"}},
		{expr: `annotation.beta = true`, want: nil},
		{expr: `annotation.index = 2`, want: []string{"py-batch"}},
		{expr: `annotation.index > 1 AND annotation.index < 1`, want: []string{"py-batch"}},
		{expr: `annotation.amount >= 12.5`, want: []string{"py-order", "node-partial"}},
		// service() and node scope.
		{expr: `service("backend")`, want: []string{"go-ok", "go-fail", "go-404"}},
		{expr: `!service("backend")`, want: []string{"py-order", "py-batch", "py-plain", "node-partial", "multi", "rootcause"}},
		{expr: `service("backend") { fault }`, want: []string{"go-fail"}},
		{expr: `service("frontend") { error }`, want: []string{"go-404"}},
		{expr: `service("frontend") { ok }`, want: []string{"go-ok"}},
		{expr: `service() { fault }`, want: []string{"go-fail", "multi", "rootcause"}},
		{expr: `service("api.example.com") { fault = true OR responsetime > 2.5 } AND annotation.account = "12345"`, want: []string{"multi"}},
		{expr: `service("api.example.com") { fault = true OR responsetime > 3.5 }`, want: nil},
		{expr: `service("backend.example.com") { http.status = 502 }`, want: []string{"multi"}},
		{expr: `service("backend.example.com") { http.url CONTAINS "/score" AND http.method = "POST" }`, want: []string{"multi"}},
		{expr: `service("data-plane") {root = true and fault = true}`, want: nil},
		{expr: `service("GetWeatherData") {root = true and fault = true}`, want: []string{"rootcause"}},
		{expr: `service("backend.example.com") { root }`, want: nil},
		{expr: `service(id(name: "random-name", type: "AWS::Lambda::Function")) { error }`, want: []string{"multi"}},
		{expr: `service(id(name: "random-name", type: "AWS::Lambda")) { error }`, want: nil},
		{expr: `service(id(account.id: "222222222222"))`, want: []string{"multi"}},
		{expr: `service(id(type: "AWS::DynamoDB::Table")) { throttle }`, want: []string{"multi"}},
		{expr: `service("Orders") { inferred }`, want: []string{"multi"}},
		{expr: `service("api.example.com") { inferred }`, want: nil},
		{expr: `service("DynamoDB")`, want: []string{"multi"}},
		{expr: `service("backend.example.com") { user = "bob" }`, want: []string{"multi"}},
		{expr: `service("api.example.com") { user = "bob" }`, want: nil},
		{expr: `service("backend.example.com") { message CONTAINS "timed out" }`, want: []string{"multi"}},
		{expr: `service("backend.example.com") { name = "backend.example.com" AND type = "AWS::ECS::Container" }`, want: []string{"multi"}},
		{expr: `service("backend.example.com") { duration < 1 }`, want: []string{"multi"}},
		{expr: `id(type: "AWS::ECS::Container")`, want: []string{"multi"}},
		// edge() and edge scope.
		{expr: `edge("api.example.com", "backend.example.com") { error }`, want: []string{"multi"}},
		{expr: `edge("api.example.com", "backend.example.com") { fault }`, want: nil},
		{expr: `edge("api.example.com", "backend.example.com")`, want: []string{"multi"}},
		{expr: `edge("backend.example.com", "api.example.com")`, want: nil},
		{expr: `edge("frontend", "backend") { error }`, want: []string{"go-404"}},
		{expr: `edge("frontend", "backend") { fault }`, want: []string{"go-fail"}},
		{expr: `edge("frontend", "backend") { ok }`, want: []string{"go-ok"}},
		{expr: `edge("api.example.com", id(type: "AWS::DynamoDB::Table")) { throttle and http.status = 429 }`, want: []string{"multi"}},
		{expr: `edge("api.example.com", "backend.example.com") { responsetime > 0.5 AND http.status = 404 }`, want: []string{"multi"}},
		{expr: `edge(id(type: "AWS::Lambda"), id(type: "AWS::Lambda::Function")) { error }`, want: []string{"multi"}},
		// Combinations.
		{expr: `http.url BEGINSWITH "http://api.example.com/" AND http.url CONTAINS "/v2/" AND !service("api.example.com")`, want: nil},
		{expr: `http.url BEGINSWITH "http://api.example.com/" AND http.url CONTAINS "/v2/" AND !service("nothing")`, want: []string{"multi"}},
		{expr: `fault = true AND http.url CONTAINS "example/game" AND responsetime >= 5`, want: nil},
		{expr: `(error OR fault) AND !annotation.customer`, want: []string{"rootcause"}},
		{expr: `error || throttle`, want: []string{"go-404", "multi"}},
		{expr: `fault && http.status = 500`, want: []string{"go-fail", "rootcause"}},
		{expr: `!(ok OR partial)`, want: []string{"go-fail", "go-404", "rootcause"}},
		{expr: `NOT ok AND NOT error`, want: []string{"go-fail", "rootcause"}},
		{expr: `SERVICE("backend") { FAULT }`, want: []string{"go-fail"}},
		{expr: `responseTime > 3 and Http.Status = 200`, want: []string{"multi"}},
		{expr: `Annotation.age > 29 or User = "user-7"`, want: []string{"multi", "py-order", "node-partial"}},
		// Groups.
		{expr: `group.name = "high_response_time" AND user = "alice"`, want: []string{"multi"}},
		{expr: `group.name = "frontend-errors"`, want: []string{"go-fail"}},
		{expr: `group.arn = "arn:aws:xray:us-east-1:000000000000:group/frontend-errors/ABC"`, want: []string{"go-fail"}},
		{expr: `group.name = "all" AND error`, want: []string{"go-404"}},
		// Root causes (generated traces: the analysis is the graph's).
		{expr: `rootcause.fault.entity { last and name = "deserialize" }`, want: []string{"rootcause"}, only: generated},
		{expr: `rootcause.fault.entity { first and name = "deserialize" }`, want: nil, only: generated},
		{expr: `rootcause.fault.entity { index = 1 }`, want: []string{"rootcause"}, only: generated},
		{expr: `rootcause.responsetime.entity { remote and coverage > 0.7 and name = "traces" }`, want: []string{"rootcause"}, only: generated},
		{expr: `rootcause.responsetime.entity { remote and coverage > 0.9 }`, want: nil, only: generated},
		{expr: `rootcause.responsetime.service { last and type = "AWS::DynamoDB" }`, want: []string{"rootcause"}, only: generated},
		{expr: `rootcause.responsetime.service { first and type = "AWS::DynamoDB" }`, want: nil, only: generated},
		{expr: `rootcause.responsetime.service { inferred and coverage < 0.8 }`, want: []string{"rootcause"}, only: generated},
		{expr: `rootcause.fault.exception { name = "JSONDecodeError" and message BEGINSWITH "Expecting" }`, want: []string{"rootcause"}, only: generated},
		{expr: `rootcause.error.exception { message = "city is required" }`, want: []string{"rootcause"}, only: generated},
		{expr: `rootcause.error.service { name = "GetWeatherData" AND message CONTAINS "required" }`, want: []string{"rootcause"}, only: generated},
		{expr: `rootcause.fault.service`, want: []string{"rootcause"}, only: generated},
		{expr: `rootcause.json = #[{ "Services": [ { "Name": "GetWeatherData", "EntityPath": [{ "Name": "GetWeatherData" }, { "Name": "get_temperature" }, { "Name": "deserialize" } ] } ] }]`, want: []string{"rootcause"}, only: generated},
		{expr: `rootcause.json = #[{ "Services": [ { "Name": "GetWeatherData", "EntityPath": [{ "Name": "GetWeatherData" }, { "Name": "get_temperature" } ] } ] }]`, want: nil, only: generated},
		{expr: `rootcause.json = #[{ "ClientImpacting": true, "Services": [ { "Name": "GetWeatherData" }, { "Type": "AWS::DynamoDB", "Inferred": true } ] }]`, want: []string{"rootcause"}, only: generated},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			e, err := Parse(c.expr, Options{Groups: testGroups})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			labels := c.only
			if labels == nil {
				for l := range all {
					labels = append(labels, l)
				}
			}
			var got []string
			for _, l := range labels {
				if e.Match(all[l]) {
					got = append(got, l)
				}
			}
			sort.Strings(got)
			want := append([]string(nil), c.want...)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("matched %v, want %v", got, want)
			}
			// Narrowing must never lose a match: every matching trace
			// carries one of the expression's terms.
			checkTerms(t, e, labels, all)
		})
	}
}
