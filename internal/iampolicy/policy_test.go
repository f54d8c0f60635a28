package iampolicy

import (
	"errors"
	"strings"
	"testing"
)

var opts = Options{
	Actions: []string{"PutTraceSegments", "GetSamplingRules", "GetSamplingTargets", "BatchGetTraces", "GetTraceSummaries", "PutResourcePolicy", "DeleteGroup"},
	Region:  "us-east-1", Account: "000000000000",
}

const alice = "arn:aws:iam::000000000000:user/ALICE"

func mustSet(t *testing.T, docs ...string) *Set {
	t.Helper()
	var ps []*Policy
	for i, d := range docs {
		p, err := Parse(string(rune('a'+i)), d, opts)
		if err != nil {
			t.Fatalf("Parse(%s): %v", d, err)
		}
		ps = append(ps, p)
	}
	return Compile(ps, opts)
}

func TestParseRefuses(t *testing.T) {
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	for _, c := range []struct{ doc, typ, want string }{
		{`not json`, Malformed, "JSON object"},
		{`[]`, Malformed, "JSON object"},
		{`{"Statement":[]}`, Malformed, "at least one"},
		{`{"Version":"2012-10-17"}`, Malformed, "no Statement"},
		{`{"Version":"2020-01-01","Statement":[]}`, Malformed, "Version"},
		{`{"Statement":[],"Extra":1}`, Malformed, `unknown member "Extra"`},
		{`{"Statement":"x"}`, Malformed, "object or a list"},
		{stmt(`{"Effect":"Maybe","Principal":"*","Action":"xray:*","Resource":"*"}`), Malformed, "Effect must be Allow or Deny"},
		{stmt(`{"Effect":"Deny","Action":"xray:*","Resource":"*"}`), Malformed, "Principal is required"},
		{stmt(`{"Effect":"Deny","Principal":"me","Action":"xray:*","Resource":"*"}`), Malformed, "Principal must be"},
		{stmt(`{"Effect":"Deny","Principal":{"AWS":"alice"},"Action":"xray:*","Resource":"*"}`), Malformed, "12-digit account"},
		{stmt(`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:user/*"},"Action":"xray:*","Resource":"*"}`), Malformed, "has a wildcard"},
		{stmt(`{"Effect":"Deny","Principal":{"Group":"x"},"Action":"xray:*","Resource":"*"}`), Malformed, "unknown kind"},
		{stmt(`{"Effect":"Deny","Principal":"*","Resource":"*"}`), Malformed, "Action is required"},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":[],"Resource":"*"}`), Malformed, "non-empty list"},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":"xray:PutTraceSegment","Resource":"*"}`), Malformed, "names no X-Ray operation"},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*"}`), Malformed, "not an X-Ray action"},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":"PutTraceSegments","Resource":"*"}`), Malformed, "xray:Operation"},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":"xray:*"}`), Malformed, "Resource is required"},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":"xray:*","Resource":"arn:aws:xray:us-east-1:000000000000:group/g/*"}`), Malformed, "single X-Ray resources"},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":"xray:*","Resource":"arn:aws:sns:us-east-1:000000000000:*"}`), Malformed, "not an X-Ray resource"},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":"xray:*","Resource":"bucket"}`), Malformed, "ARN"},
		{stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"Action":"xray:*","Resource":"*"}`), Malformed, "NotPrincipal is not supported"},
		{stmt(`{"Effect":"Deny","Principal":"*","NotAction":"xray:*","Resource":"*"}`), Malformed, "NotAction is not supported"},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":"xray:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), Malformed, "Condition is supported only"},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":"xray:*","Resource":"*","Bogus":1}`), Malformed, `unknown member "Bogus"`},
		{stmt(`{"Sid":"a","Effect":"Deny","Principal":"*","Action":"xray:*","Resource":"*"},{"Sid":"a","Effect":"Allow","Principal":"*","Action":"xray:*","Resource":"*"}`), Malformed, "Sids must be unique"},
		{`{"Statement":[{"Sid":"` + strings.Repeat("x", MaxBytes) + `"}]}`, SizeLimited, "at most 5120"},
	} {
		_, err := Parse("p", c.doc, opts)
		var e *Error
		if !errors.As(err, &e) || e.Type != c.typ || !strings.Contains(e.Message, c.want) {
			t.Errorf("Parse(%.80s) = %v; want %s containing %q", c.doc, err, c.typ, c.want)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	for _, doc := range []string{
		// AWS's own example: SNS active tracing, with a condition on the service.
		`{"Version":"2012-10-17","Statement":[{"Sid":"SNSAccess","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},
		  "Action":["xray:PutTraceSegments","xray:GetSamplingRules","xray:GetSamplingTargets"],"Resource":"*",
		  "Condition":{"StringEquals":{"aws:SourceAccount":"000000000000"},"StringLike":{"aws:SourceArn":"arn:aws:sns:us-east-1:000000000000:t"}}}]}`,
		`{"Statement":{"Effect":"Deny","Principal":{"AWS":["arn:aws:iam::000000000000:user/A","123456789012"]},"Action":"xray:Get*","Resource":"arn:aws:xray:*:*:*"}}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":["*"]}]}`,
	} {
		if _, err := Parse("p", doc, opts); err != nil {
			t.Errorf("Parse(%.60s...): %v", doc, err)
		}
	}
}

func TestEvaluate(t *testing.T) {
	denyAlicePut := `{"Statement":[{"Sid":"NoAlice","Effect":"Deny","Principal":{"AWS":"` + alice + `"},"Action":"xray:PutTraceSegments","Resource":"*"}]}`
	allowAccountReads := `{"Statement":[{"Sid":"Reads","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":["xray:BatchGet*","xray:GetTraceSummaries"],"Resource":"*"}]}`
	allowAllPut := `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"xray:puttracesegments","Resource":"*"}]}`
	otherRegion := `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"xray:*","Resource":"arn:aws:xray:eu-west-1:000000000000:*"}]}`
	service := `{"Statement":[{"Effect":"Deny","Principal":{"Service":"sns.amazonaws.com"},"Action":"xray:*","Resource":"*"}]}`
	s := mustSet(t, denyAlicePut, allowAccountReads, allowAllPut, otherRegion, service)
	bob := "arn:aws:iam::000000000000:user/BOB"
	for _, c := range []struct {
		r    Request
		want Decision
	}{
		{Request{"PutTraceSegments", alice}, Decision{Deny, "a", "NoAlice"}}, // Deny wins over allowAllPut
		{Request{"PutTraceSegments", bob}, Decision{Allow, "c", ""}},
		{Request{"PutTraceSegments", ""}, Decision{Allow, "c", ""}}, // "*" names anonymous callers too
		{Request{"BatchGetTraces", bob}, Decision{Allow, "b", "Reads"}},
		{Request{"BatchGetTraces", "arn:aws:iam::111111111111:user/BOB"}, Decision{}}, // another account
		{Request{"BatchGetTraces", ""}, Decision{}},
		{Request{"DeleteGroup", alice}, Decision{}}, // eu-west-1 only; service principal names no key
	} {
		if got := s.Evaluate(c.r); got != c.want {
			t.Errorf("Evaluate(%+v) = %+v; want %+v", c.r, got, c.want)
		}
	}
	if d := (*Set)(nil).Evaluate(Request{"PutTraceSegments", alice}); d.Effect != None {
		t.Errorf("nil set: %+v", d)
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"xray:get*", "xray:gettracesummaries", true},
		{"*:*", "xray:x", true}, {"abc", "abd", false}, {"", "", true}, {"", "a", false}, {"a**", "a", true},
	} {
		if got := glob(c.p, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

// FuzzParse: no document crashes the checker, and whatever it accepts
// compiles and evaluates.
func FuzzParse(f *testing.F) {
	f.Add(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"xray:*","Resource":"*"}]}`)
	f.Add(`{"Statement":{"Effect":"Allow","Principal":{"AWS":["123456789012"]},"Action":["xray:Get?ampling*"],"Resource":"arn:aws:xray:*:*:*"}}`)
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"*","Resource":"*","Condition":{}}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse("p", doc, opts)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		s := Compile([]*Policy{p}, opts)
		for _, a := range opts.Actions {
			s.Evaluate(Request{a, alice})
			s.Evaluate(Request{a, ""})
		}
	})
}

// BenchmarkEvaluate is one request's evaluation against five policies of
// two statements each covering its operation, none naming the caller.
func BenchmarkEvaluate(b *testing.B) {
	var docs []string
	for i := 0; i < 5; i++ {
		docs = append(docs, `{"Statement":[{"Sid":"D","Effect":"Deny","Principal":{"AWS":["arn:aws:iam::000000000000:user/X`+string(rune('0'+i))+`","111111111111"]},"Action":"xray:Put*","Resource":"*"},
		 {"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/r"},"Action":"xray:*","Resource":"*"}]}`)
	}
	var ps []*Policy
	for i, d := range docs {
		p, err := Parse(string(rune('a'+i)), d, opts)
		if err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	s := Compile(ps, opts)
	r := Request{"PutTraceSegments", alice}
	b.ReportAllocs()
	for b.Loop() {
		if s.Evaluate(r).Effect != None {
			b.Fatal("decided")
		}
	}
}
