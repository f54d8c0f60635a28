package trace_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// shapeTraces are single-segment traces (and a few with a second document)
// of every shape the summariser sizes its arrays by: no, one or two
// inferred calls; response-time paths of one to five entities over one or
// two services; none to six annotations; users, EC2 and resource ARNs or
// not; faults with exceptions, in-progress segments; a segment whose
// parent is its own subsegment (no root).
func shapeTraces(tb testing.TB) []*trace.Trace {
	tb.Helper()
	var out []*trace.Trace
	n := 0
	for _, call := range []string{"none", "local", "dynamo", "http", "two"} {
		for _, depth := range []int{1, 2, 4} {
			for _, long := range []bool{false, true} {
				for _, ann := range []int{0, 2, 3, 6} {
					for _, extra := range []int{0, 1, 2, 3} {
						for _, flags := range []string{"ok", "fault", "progress", "selfparent", "orphan"} {
							n++
							out = append(out, shapeTrace(tb, n, call, depth, long, ann, extra, flags))
						}
					}
				}
			}
		}
	}
	return out
}

func shapeTrace(tb testing.TB, n int, call string, depth int, long bool, ann, extra int, flags string) *trace.Trace {
	tb.Helper()
	id := fmt.Sprintf("1-5759e988-%024x", n)
	segID := fmt.Sprintf("a%015x", n)
	// The chain of local subsegments, each covering most (long) or a
	// tenth of its parent, ends in the call.
	end := 100.0 + 1
	span := 1.0
	var inner string
	switch call {
	case "local":
		inner = `"name":"work"`
	case "dynamo":
		inner = `"name":"DynamoDB","namespace":"aws","aws":{"table_name":"users","operation":"GetItem"}`
	case "http":
		inner = `"name":"backend.example.com","namespace":"remote","http":{"request":{"url":"http://backend.example.com/x","method":"GET"},"response":{"status":503}},"fault":true`
	case "two":
		inner = `"name":"DynamoDB","namespace":"aws","aws":{"table_name":"orders"}`
	}
	var subs string
	if call != "none" {
		frac := 0.1
		if long {
			frac = 0.9
		}
		for d := depth; d >= 1; d-- {
			sspan := span
			for range d {
				sspan *= frac
			}
			body := `"name":"step` + fmt.Sprint(d) + `"`
			if d == depth {
				body = inner
			}
			var annot string
			if d == 1 && ann > 2 {
				annot = `,"annotations":{"sub":"x","k0":1}`
			}
			sub := fmt.Sprintf(`{"id":"b%015x",%s,"start_time":100,"end_time":%f%s`, n*10+d, body, 100+sspan, annot)
			if subs != "" {
				sub += `,"subsegments":[` + subs + `]`
			}
			subs = sub + `}`
		}
		if call == "two" {
			subs += fmt.Sprintf(`,{"id":"c%015x","name":"SQS","namespace":"aws","aws":{"queue_url":"https://sqs.us-east-1.amazonaws.com/1/q"},"start_time":100,"end_time":100.01}`, n)
		}
	}
	var fields []string
	if ann > 0 {
		var kv []string
		for i := range ann {
			switch i % 3 {
			case 0:
				kv = append(kv, fmt.Sprintf(`"k%d":"v%d"`, i, n%3))
			case 1:
				kv = append(kv, fmt.Sprintf(`"k%d":%d`, i, n%5))
			default:
				kv = append(kv, fmt.Sprintf(`"k%d":%v`, i, n%2 == 0))
			}
		}
		fields = append(fields, `"annotations":{`+strings.Join(kv, ",")+`}`)
	}
	if extra&1 != 0 {
		fields = append(fields, `"user":"u`+fmt.Sprint(n%4)+`"`, `"resource_arn":"arn:aws:lambda:us-east-1:1:function:f"`)
	}
	if extra&2 != 0 {
		fields = append(fields, `"aws":{"account_id":"123456789012","ec2":{"instance_id":"i-1","availability_zone":"us-east-1a"}}`)
	}
	switch flags {
	case "fault":
		fields = append(fields, `"fault":true,"cause":{"exceptions":[{"id":"e1","type":"Boom","message":"bad"}]}`)
	case "progress":
		fields = append(fields, `"in_progress":true`)
		end = 0
	case "selfparent":
		if call != "none" {
			fields = append(fields, fmt.Sprintf(`"parent_id":"b%015x"`, n*10+1))
		}
	}
	doc := fmt.Sprintf(`{"trace_id":%q,"id":%q,"name":"api","start_time":100`, id, segID)
	if end != 0 {
		doc += fmt.Sprintf(`,"end_time":%f`, end)
	}
	doc += `,"http":{"request":{"url":"http://api/x","method":"POST","client_ip":"10.0.0.1"},"response":{"status":200}}`
	for _, f := range fields {
		doc += "," + f
	}
	if subs != "" {
		doc += `,"subsegments":[` + subs + `]`
	}
	doc += "}"
	docs := []string{doc}
	if flags == "orphan" {
		docs = append(docs, fmt.Sprintf(`{"trace_id":%q,"id":"d%015x","type":"subsegment","parent_id":"ffffffffffffffff","name":"late","start_time":100.2,"end_time":100.3,"annotations":{"o":"p"},"user":"v"}`, id, n))
	}
	tr := &trace.Trace{ID: id}
	for _, d := range docs {
		segs, err := segment.Parse([]byte(d), segment.Options{SkipTraceEpoch: true, Stored: true})
		if err != nil {
			tb.Fatalf("%v: %s", err, d)
		}
		tr.Put(segs...)
	}
	return tr
}

// TestSummaryShapesDigest pins the summaries of shapeTraces, as
// TestSummaryDigest does for the fixtures and generated traces: the digest
// was written by the code before summaries of one segment were cut from
// blocks sized by their shape (summ21).
func TestSummaryShapesDigest(t *testing.T) {
	traces := shapeTraces(t)
	checkSummaryDigest(t, "testdata/summary-shapes-digest", len(traces), func(add func(*trace.Summary)) {
		for _, tr := range traces {
			prev := trace.SummarizeTrace(tr, nil, 1.7e9)
			add(prev)
			add(trace.Summarize(trace.Assemble(tr), prev, 1.7e9+1))
		}
	})
}
