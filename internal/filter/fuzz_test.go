package filter

import (
	"testing"
)

// FuzzParseAndMatch: no input crashes or hangs the parser, and whatever
// parses evaluates on every corpus trace and narrows consistently.
func FuzzParseAndMatch(f *testing.F) {
	seeds := []string{
		`responsetime > 5`, `duration >= 5 AND duration <= 8`, `ok !partial duration <3`, `http.status != 200`,
		`http.url CONTAINS "/api/game/"`, `user CONTAINS ""`, `annotation.gameid = "817DL6VO"`, `annotation.age > 29`,
		`!annotation.age`, `service("api.example.com") { fault = true OR responsetime > 2.5 } AND annotation.account = "12345"`,
		`service() { fault }`, `edge("api.example.com", "backend.example.com") { error }`,
		`http.url BEGINSWITH "http://api.example.com/" AND http.url CONTAINS "/v2/" AND !service("api.example.com")`,
		`service(id(name: "random-name", type: "AWS::Lambda::Function")) { error }`, `service(id(account.id: "account-id"))`,
		`service("data-plane") {root = true and fault = true}`, `group.name = "high_response_time" AND user = "alice"`,
		`rootcause.fault.entity { last and name = "deserialize" }`,
		`rootcause.responsetime.entity { remote and coverage > 0.7 and name = "traces" }`,
		`rootcause.responsetime.service { last and type = "AWS::DynamoDB" }`,
		`rootcause.json = #[{ "Services": [ { "Name": "GetWeatherData", "EntityPath": [{ "Name": "GetWeatherData" }, { "Name": "get_temperature" } ] } ] }]`,
		`fault = true AND http.url CONTAINS "example/game" AND responsetime >= 5`,
		`(((fault)))`, `!!!ok`, `"\"`, `#[`, `id(`, `annotation.x = -1e5`, `error || (throttle && !fault)`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	all := corpus(f)
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src, Options{Groups: testGroups})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not a *filter.Error", err, err)
			}
			return
		}
		labels := make([]string, 0, len(all))
		for l := range all {
			labels = append(labels, l)
		}
		checkTerms(t, e, labels, all)
	})
}
