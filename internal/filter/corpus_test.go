package filter

import (
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// corpus labels traces for the table tests: recorded from the official
// SDKs (Go, Python, Node) and generated multi-service traces.
func corpus(t testing.TB) map[string]*trace.Summary {
	t.Helper()
	out := map[string]*trace.Summary{}
	pick := func(label string, ok func(s *trace.Summary) bool) {
		for _, s := range fixtureSummaries(t) {
			if ok(s) {
				out[label] = s
				return
			}
		}
		t.Fatalf("no fixture trace for %s", label)
	}
	entry := func(s *trace.Summary) string {
		if s.EntryPoint < 0 {
			return ""
		}
		return s.Nodes[s.EntryPoint].Name
	}
	pick("go-ok", func(s *trace.Summary) bool { return entry(s) == "frontend" && strings.HasSuffix(s.HTTP.URL, "/ok") })
	pick("go-fail", func(s *trace.Summary) bool { return entry(s) == "frontend" && strings.HasSuffix(s.HTTP.URL, "/fail") })
	pick("go-404", func(s *trace.Summary) bool {
		return entry(s) == "frontend" && strings.HasSuffix(s.HTTP.URL, "/notfound")
	})
	pick("py-order", func(s *trace.Summary) bool { return entry(s) == "checkout-py" && len(s.Users) > 0 })
	pick("py-batch", func(s *trace.Summary) bool { return entry(s) == "ingest-py" })
	pick("py-plain", func(s *trace.Summary) bool {
		return entry(s) == "checkout-py" && strings.HasSuffix(s.HTTP.URL, "/orders/0")
	})
	pick("node-partial", func(s *trace.Summary) bool { return entry(s) == "checkout-node" && s.IsPartial })
	out["multi"] = multiService()
	out["rootcause"] = withRootCauses()
	return out
}

// multiService is a generated trace: a client calls api.example.com
// (slow, 200) which calls backend.example.com (fault 502), a Lambda
// function (error) and DynamoDB (throttled).
func multiService() *trace.Summary {
	return &trace.Summary{
		TraceID: "1-6b000000-000000000000000000000001", Epoch: 1795313000,
		StartTime: 1795313000, EndTime: 1795313006, Duration: 6, ResponseTime: 3.2,
		HasThrottle: true, RootOK: true,
		HTTP:       trace.HTTP{URL: "http://api.example.com/v2/api/game/17", Method: "PUT", UserAgent: "curl/8.0", ClientIP: "198.51.100.9", Status: 200},
		EntryPoint: 0,
		Nodes: []trace.Node{
			{NodeID: trace.NodeID{Name: "api.example.com", Type: "AWS::EC2::Instance", AccountID: "111111111111"}, Names: []string{"api.example.com"}, Root: true},
			{NodeID: trace.NodeID{Name: "backend.example.com", Type: "AWS::ECS::Container", AccountID: "111111111111"}, Names: []string{"backend.example.com"}},
			{NodeID: trace.NodeID{Name: "random-name", Type: "AWS::Lambda"}, Names: []string{"random-name"}},
			{NodeID: trace.NodeID{Name: "random-name", Type: "AWS::Lambda::Function", AccountID: "222222222222"}, Names: []string{"random-name"}},
			{NodeID: trace.NodeID{Name: "Orders", Type: "AWS::DynamoDB::Table"}, Names: []string{"Orders", "DynamoDB"}, Inferred: true},
		},
		Segments: []trace.SegmentFact{
			{Node: 0, Root: true, Start: 1795313000, End: 1795313003.2, HTTP: trace.HTTP{URL: "http://api.example.com/v2/api/game/17", Method: "PUT", Status: 200}},
			{Node: 1, Fault: true, Start: 1795313000.5, End: 1795313001, HTTP: trace.HTTP{URL: "http://backend.example.com/score", Method: "POST", Status: 502}},
			{Node: 2, Start: 1795313001, End: 1795313002},
			{Node: 3, Error: true, Start: 1795313001.1, End: 1795313001.9},
			{Node: 4, Inferred: true, Throttle: true, Error: true, Start: 1795313002, End: 1795313002.1, HTTP: trace.HTTP{Status: 429}},
		},
		Edges: []trace.Edge{
			{From: 0, To: 1, Error: true, Start: 1795313000.4, End: 1795313001.1, HTTP: trace.HTTP{URL: "http://backend.example.com/score", Method: "POST", Status: 404}},
			{From: 0, To: 2, Start: 1795313001, End: 1795313002},
			{From: 2, To: 3, Error: true, Start: 1795313001.1, End: 1795313001.9},
			{From: 0, To: 4, Throttle: true, Error: true, Start: 1795313002, End: 1795313002.1, HTTP: trace.HTTP{Status: 429}},
		},
		Annotations: []trace.Annotation{
			{Key: "account", Value: "12345", Nodes: []int{0}},
			{Key: "gameid", Value: "817DL6VO", Nodes: []int{0}},
			{Key: "age", Value: 31.0, Nodes: []int{1}},
			{Key: "beta", Value: false, Nodes: []int{1}},
		},
		Users:             []trace.User{{Name: "alice", Nodes: []int{0}}, {Name: "bob", Nodes: []int{1}}},
		Exceptions:        []trace.ExceptionFact{{Node: 1, Type: "UpstreamTimeout", Message: "upstream timed out after 500ms"}},
		ResourceARNs:      []string{"arn:aws:lambda:us-east-1:222222222222:function:random-name"},
		InstanceIDs:       []string{"i-0abc123"},
		AvailabilityZones: []string{"us-east-1a"},
	}
}

func cov(f float64) *float64 { return &f }

// withRootCauses is a generated trace with every kind of root cause.
func withRootCauses() *trace.Summary {
	return &trace.Summary{
		TraceID: "1-6b000000-000000000000000000000002", Epoch: 1795313000,
		StartTime: 1795313000, EndTime: 1795313009, Duration: 9, ResponseTime: 9, HasFault: true,
		HTTP:       trace.HTTP{URL: "https://weather.example.com/forecast", Method: "GET", Status: 500},
		EntryPoint: 0,
		Nodes: []trace.Node{
			{NodeID: trace.NodeID{Name: "GetWeatherData", Type: "AWS::Lambda::Function"}, Names: []string{"GetWeatherData"}, Root: true},
			{NodeID: trace.NodeID{Name: "Forecasts", Type: "AWS::DynamoDB::Table"}, Names: []string{"Forecasts"}, Inferred: true},
		},
		Segments: []trace.SegmentFact{
			{Node: 0, Root: true, Fault: true, Start: 1795313000, End: 1795313009, HTTP: trace.HTTP{Status: 500}},
			{Node: 1, Inferred: true, Start: 1795313001, End: 1795313008},
		},
		FaultRootCauses: []trace.RootCause{{ClientImpacting: true, Services: []trace.RootCauseService{{
			Name: "GetWeatherData", Names: []string{"GetWeatherData"}, Type: "AWS::Lambda::Function",
			EntityPath: []trace.RootCauseEntity{
				{Name: "GetWeatherData"},
				{Name: "get_temperature"},
				{Name: "deserialize", Exceptions: []trace.RootCauseException{{Name: "JSONDecodeError", Message: "Expecting value: line 1 column 1"}}},
			},
		}}}},
		ErrorRootCauses: []trace.RootCause{{Services: []trace.RootCauseService{{
			Name: "GetWeatherData", Names: []string{"GetWeatherData"}, Type: "AWS::Lambda::Function",
			EntityPath: []trace.RootCauseEntity{{Name: "GetWeatherData", Exceptions: []trace.RootCauseException{{Name: "ValidationError", Message: "city is required"}}}},
		}}}},
		ResponseTimeRootCauses: []trace.RootCause{{ClientImpacting: true, Services: []trace.RootCauseService{
			{Name: "GetWeatherData", Names: []string{"GetWeatherData"}, Type: "AWS::Lambda::Function",
				EntityPath: []trace.RootCauseEntity{{Name: "GetWeatherData", Coverage: cov(1)}, {Name: "traces", Remote: true, Coverage: cov(0.8)}}},
			{Name: "Forecasts", Names: []string{"Forecasts"}, Type: "AWS::DynamoDB", Inferred: true,
				EntityPath: []trace.RootCauseEntity{{Name: "Forecasts", Coverage: cov(0.78)}}},
		}}},
	}
}
