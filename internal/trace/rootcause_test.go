package trace_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

const tid = "1-5f000000-000000000000000000000001"

func summarize(t *testing.T, docs ...string) *trace.Summary {
	t.Helper()
	tr := &trace.Trace{ID: tid}
	for _, d := range docs {
		segs, err := segment.Parse([]byte(d), segment.Options{SkipTraceEpoch: true, Stored: true})
		if err != nil {
			t.Fatalf("parse %s: %v", d, err)
		}
		tr.Put(segs...)
	}
	return trace.Summarize(trace.Assemble(tr), nil, 0)
}

// path renders a root cause as "svc[entity,entity] > svc[...]".
func path(rc trace.RootCause) string {
	var parts []string
	for _, s := range rc.Services {
		var es []string
		for _, e := range s.EntityPath {
			x := e.Name
			if e.Remote {
				x += "(remote)"
			}
			for _, ex := range e.Exceptions {
				x += "!" + ex.Name + ":" + ex.Message
			}
			if e.Coverage != nil {
				x += fmt.Sprintf("@%.2f", *e.Coverage)
			}
			es = append(es, x)
		}
		name := s.Name
		if s.Inferred {
			name += "(inferred " + s.Type + ")"
		}
		parts = append(parts, name+"["+strings.Join(es, ",")+"]")
	}
	return strings.Join(parts, " > ") + fmt.Sprintf(" client=%v", rc.ClientImpacting)
}

func paths(rcs []trace.RootCause) []string {
	var out []string
	for _, rc := range rcs {
		out = append(out, path(rc))
	}
	return out
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestFaultDeepInCallChain(t *testing.T) {
	s := summarize(t,
		`{"trace_id":"`+tid+`","id":"a000000000000001","name":"frontend","start_time":100,"end_time":101,"fault":true,
		  "subsegments":[{"id":"a000000000000002","name":"backend","namespace":"remote","start_time":100.1,"end_time":100.9,"fault":true,
		    "http":{"request":{"url":"http://backend/","traced":true},"response":{"status":500}}}]}`,
		`{"trace_id":"`+tid+`","id":"b000000000000001","parent_id":"a000000000000002","name":"backend","start_time":100.2,"end_time":100.8,"fault":true,
		  "subsegments":[{"id":"b000000000000002","name":"handler","start_time":100.25,"end_time":100.75,"fault":true,
		    "subsegments":[{"id":"b000000000000003","name":"parse","start_time":100.3,"end_time":100.4,"fault":true,
		      "cause":{"exceptions":[{"id":"e000000000000001","type":"NullPointerException","message":"order is null"}]}}]}]}`)
	same(t, "fault root causes", paths(s.FaultRootCauses), []string{
		"frontend[frontend,backend(remote)] > backend[backend,handler,parse!NullPointerException:order is null] client=true",
	})
	if len(s.ErrorRootCauses) != 0 {
		t.Errorf("error root causes for a trace without errors: %v", paths(s.ErrorRootCauses))
	}
}

func TestHandledErrorOfInferredCallee(t *testing.T) {
	s := summarize(t,
		`{"trace_id":"`+tid+`","id":"a000000000000001","name":"api","origin":"AWS::EC2::Instance","start_time":100,"end_time":100.5,
		  "http":{"response":{"status":200}},
		  "subsegments":[{"id":"a000000000000002","name":"DynamoDB","namespace":"aws","start_time":100.1,"end_time":100.2,"error":true,"throttle":true,
		    "aws":{"operation":"GetItem","table_name":"users"},"http":{"response":{"status":400}},
		    "cause":{"exceptions":[{"id":"e000000000000001","type":"ProvisionedThroughputExceededException","message":"slow down","remote":true}]}}]}`)
	same(t, "error root causes", paths(s.ErrorRootCauses), []string{
		"api[api,DynamoDB(remote)!ProvisionedThroughputExceededException:slow down] > users(inferred AWS::DynamoDB::Table)[DynamoDB!ProvisionedThroughputExceededException:slow down] client=false",
	})
	if len(s.FaultRootCauses) != 0 {
		t.Errorf("fault root causes without faults: %v", paths(s.FaultRootCauses))
	}
	// The inferred callee is a node of the trace, with its own segment fact.
	var inferred []string
	for _, n := range s.Nodes {
		if n.Inferred {
			inferred = append(inferred, n.Type+" "+n.Name)
		}
	}
	same(t, "inferred nodes", inferred, []string{"AWS::DynamoDB::Table users"})
}

func TestSlowDownstream(t *testing.T) {
	s := summarize(t,
		`{"trace_id":"`+tid+`","id":"a000000000000001","name":"web","start_time":100,"end_time":101,
		  "subsegments":[
		    {"id":"a000000000000002","name":"render","start_time":100.0,"end_time":100.1},
		    {"id":"a000000000000003","name":"catalog","namespace":"remote","start_time":100.1,"end_time":100.9,"http":{"request":{"url":"http://catalog/","traced":true}}}]}`,
		`{"trace_id":"`+tid+`","id":"b000000000000001","parent_id":"a000000000000003","name":"catalog","start_time":100.12,"end_time":100.87,
		  "subsegments":[
		    {"id":"b000000000000002","name":"compute","start_time":100.12,"end_time":100.22},
		    {"id":"b000000000000003","name":"S3","namespace":"aws","start_time":100.22,"end_time":100.82,"aws":{"operation":"GetObject","bucket_name":"images"}}]}`)
	same(t, "response-time root causes", paths(s.ResponseTimeRootCauses), []string{
		"web[web@1.00,catalog(remote)@0.80] > catalog[catalog@0.75,S3(remote)@0.60] > images(inferred AWS::S3::Bucket)[S3@0.60] client=true",
	})
	// The summary's root causes are in the API's own JSON shape.
	b, _ := json.Marshal(s.ResponseTimeRootCauses[0].Services[0])
	if !strings.Contains(string(b), `"EntityPath":[{"Name":"web","Remote":false,"Coverage":1}`) {
		t.Errorf("JSON shape: %s", b)
	}
}

func TestInferenceRules(t *testing.T) {
	s := summarize(t,
		`{"trace_id":"`+tid+`","id":"a000000000000001","name":"svc","start_time":100,"end_time":101,
		  "subsegments":[
		    {"id":"a000000000000002","name":"SNS","namespace":"aws","start_time":100.1,"end_time":100.2,"aws":{"operation":"Publish","topic_arn":"arn:aws:sns:us-east-1:1:t"}},
		    {"id":"a000000000000003","name":"sqs","namespace":"aws","start_time":100.2,"end_time":100.3,"aws":{"queue_url":"https://sqs.us-east-1.amazonaws.com/1/jobs"},
		      "subsegments":[{"id":"a000000000000004","name":"sqs.us-east-1.amazonaws.com","namespace":"remote","start_time":100.21,"end_time":100.29}]},
		    {"id":"a000000000000005","name":"app@db.internal","namespace":"remote","start_time":100.3,"end_time":100.4,"sql":{"url":"postgresql://db.internal/app"}},
		    {"id":"a000000000000006","name":"api.example.com","start_time":100.4,"end_time":100.5,"http":{"request":{"url":"https://api.example.com/x"}}},
		    {"id":"a000000000000007","name":"local-work","start_time":100.5,"end_time":100.6},
		    {"id":"a000000000000008","name":"Lambda","namespace":"aws","start_time":100.6,"end_time":100.9,"aws":{"function_name":"arn:aws:lambda:us-east-1:1:function:resize"}}]}`,
		// The Lambda call's callee reported its own segment: not inferred.
		`{"trace_id":"`+tid+`","id":"c000000000000001","parent_id":"a000000000000008","name":"resize","origin":"AWS::Lambda","start_time":100.61,"end_time":100.89}`)
	var got []string
	for _, n := range s.Nodes {
		got = append(got, fmt.Sprintf("%s|%s|inferred=%v", n.Type, n.Name, n.Inferred))
	}
	same(t, "nodes", got, []string{
		"|svc|inferred=false",
		"AWS::Lambda|resize|inferred=false",
		"AWS::SNS|SNS|inferred=true",
		"AWS::SQS::Queue|jobs|inferred=true",
		"Database::SQL|app@db.internal|inferred=true",
		"remote|api.example.com|inferred=true",
	})
	if len(s.Edges) != 5 {
		t.Errorf("want 5 edges (4 inferred + 1 to the Lambda segment), got %d", len(s.Edges))
	}
}
