package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/smithy-go"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

func apiCode(err error) (code, msg string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

func TestPutTraceSegmentsAndReadBack(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	for _, listener := range []string{"http", "tcp"} {
		c := s.client(listener)
		id := newTraceID(map[string]int{"http": 1, "tcp": 2}[listener])
		good := segDoc(id, "70de5b6f19ff9a0a", "front end",
			`"http":{"request":{"method":"POST","url":"http://shop/cart","client_ip":"10.0.0.7","user_agent":"curl/8"},"response":{"status":502}}`,
			`"fault":true`, `"user":"alice"`, `"annotations":{"tier":"gold","items":3,"vip":true}`,
			`"resource_arn":"arn:aws:ec2:eu-west-3:123456789012:instance/i-0abc"`,
			`"aws":{"ec2":{"instance_id":"i-0abc","availability_zone":"eu-west-3a"}}`, `"origin":"AWS::EC2::Instance"`)
		sub := segDoc(id, "53995c3f42cd8ad8", "db", `"type":"subsegment"`, `"parent_id":"70de5b6f19ff9a0a"`, `"throttle":true`, `"namespace":"remote"`)
		oversize := segDoc(id, "1111111111111111", "big", `"metadata":{"default":{"pad":"`+strings.Repeat("x", 70<<10)+`"}}`)
		res, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{
			good, `{"id":"2222222222222222","name":`, sub, segDoc("1-00000001-000000000000000000000001", "3333333333333333", "x"), oversize,
		}})
		if err != nil {
			t.Fatalf("%s: %v", listener, err)
		}
		want := map[string]string{"2222222222222222": "MalformedDocument", "3333333333333333": "InvalidTraceId", "1111111111111111": "SegmentTooLarge"}
		if len(res.UnprocessedTraceSegments) != len(want) {
			t.Fatalf("%s: unprocessed = %+v", listener, res.UnprocessedTraceSegments)
		}
		for _, u := range res.UnprocessedTraceSegments {
			if want[aws.ToString(u.Id)] != aws.ToString(u.ErrorCode) || !strings.HasPrefix(aws.ToString(u.Message), "Invalid segment. ErrorCode: ") {
				t.Errorf("%s: unprocessed %s %s %q", listener, aws.ToString(u.Id), aws.ToString(u.ErrorCode), aws.ToString(u.Message))
			}
		}

		unknown := newTraceID(99)
		got, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{id, unknown}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Traces) != 1 || len(got.UnprocessedTraceIds) != 1 || got.UnprocessedTraceIds[0] != unknown {
			t.Fatalf("%s: BatchGetTraces = %d traces, unprocessed %v", listener, len(got.Traces), got.UnprocessedTraceIds)
		}
		tr := got.Traces[0]
		if aws.ToString(tr.Id) != id || aws.ToFloat64(tr.Duration) <= 0 || aws.ToBool(tr.LimitExceeded) {
			t.Errorf("%s: trace %s duration %v limit %v", listener, aws.ToString(tr.Id), aws.ToFloat64(tr.Duration), aws.ToBool(tr.LimitExceeded))
		}
		docs := map[string]string{}
		for _, sg := range tr.Segments {
			docs[aws.ToString(sg.Id)] = aws.ToString(sg.Document)
		}
		// The subsegment sent on its own comes back grafted into its parent,
		// as X-Ray answers; the rest as sent.
		var front map[string]any
		_ = json.Unmarshal([]byte(docs["70de5b6f19ff9a0a"]), &front)
		subs, _ := front["subsegments"].([]any)
		delete(front, "subsegments")
		frontJSON, _ := json.Marshal(front)
		var subJSON []byte
		if len(subs) == 1 {
			subJSON, _ = json.Marshal(subs[0])
		}
		if _, top := docs["53995c3f42cd8ad8"]; top || string(frontJSON) != canonical(t, good) || string(subJSON) != canonical(t, sub) {
			t.Errorf("%s: documents not returned as sent, the subsegment grafted: %v", listener, docs)
		}

		sum, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute))})
		if err != nil {
			t.Fatal(err)
		}
		var ts *types.TraceSummary
		for i := range sum.TraceSummaries {
			if aws.ToString(sum.TraceSummaries[i].Id) == id {
				ts = &sum.TraceSummaries[i]
			}
		}
		if ts == nil {
			t.Fatalf("%s: trace missing from GetTraceSummaries", listener)
		}
		checkSummary(t, ts)
		if aws.ToInt64(sum.TracesProcessedCount) < 1 || sum.ApproximateTime == nil {
			t.Errorf("%s: processed %v approx %v", listener, sum.TracesProcessedCount, sum.ApproximateTime)
		}
	}
}

func checkSummary(t *testing.T, ts *types.TraceSummary) {
	t.Helper()
	if !aws.ToBool(ts.HasFault) || aws.ToBool(ts.HasError) || !aws.ToBool(ts.HasThrottle) || aws.ToBool(ts.IsPartial) {
		t.Errorf("flags fault=%v error=%v throttle=%v partial=%v", aws.ToBool(ts.HasFault), aws.ToBool(ts.HasError), aws.ToBool(ts.HasThrottle), aws.ToBool(ts.IsPartial))
	}
	if d, r := aws.ToFloat64(ts.Duration), aws.ToFloat64(ts.ResponseTime); d < 0.49 || d > 0.51 || r < 0.49 || r > 0.51 {
		t.Errorf("duration %v response time %v, want 0.5", d, r)
	}
	if ts.StartTime == nil || time.Since(*ts.StartTime) > time.Minute {
		t.Errorf("start time %v", ts.StartTime)
	}
	h := ts.Http
	if h == nil || aws.ToString(h.HttpMethod) != "POST" || aws.ToString(h.HttpURL) != "http://shop/cart" || aws.ToInt32(h.HttpStatus) != 502 ||
		aws.ToString(h.ClientIp) != "10.0.0.7" || aws.ToString(h.UserAgent) != "curl/8" {
		t.Errorf("http = %+v", h)
	}
	if v := ts.Annotations["tier"]; len(v) != 1 || v[0].AnnotationValue.(*types.AnnotationValueMemberStringValue).Value != "gold" || len(v[0].ServiceIds) != 1 || aws.ToString(v[0].ServiceIds[0].Name) != "front end" {
		t.Errorf("annotation tier = %+v", v)
	}
	if v := ts.Annotations["items"]; len(v) != 1 || v[0].AnnotationValue.(*types.AnnotationValueMemberNumberValue).Value != 3 {
		t.Errorf("annotation items = %+v", v)
	}
	if v := ts.Annotations["vip"]; len(v) != 1 || !v[0].AnnotationValue.(*types.AnnotationValueMemberBooleanValue).Value {
		t.Errorf("annotation vip = %+v", v)
	}
	if len(ts.Users) != 1 || aws.ToString(ts.Users[0].UserName) != "alice" {
		t.Errorf("users = %+v", ts.Users)
	}
	if ts.EntryPoint == nil || aws.ToString(ts.EntryPoint.Name) != "front end" || aws.ToString(ts.EntryPoint.Type) != "AWS::EC2::Instance" {
		t.Errorf("entry point = %+v", ts.EntryPoint)
	}
	names := map[string]bool{}
	for _, s := range ts.ServiceIds {
		names[aws.ToString(s.Name)] = true
	}
	if !names["front end"] {
		t.Errorf("service ids = %v", names)
	}
	if len(ts.ResourceARNs) != 1 || aws.ToString(ts.ResourceARNs[0].ARN) != "arn:aws:ec2:eu-west-3:123456789012:instance/i-0abc" {
		t.Errorf("resource arns = %+v", ts.ResourceARNs)
	}
	if len(ts.InstanceIds) != 1 || aws.ToString(ts.InstanceIds[0].Id) != "i-0abc" || len(ts.AvailabilityZones) != 1 || aws.ToString(ts.AvailabilityZones[0].Name) != "eu-west-3a" {
		t.Errorf("instances %+v zones %+v", ts.InstanceIds, ts.AvailabilityZones)
	}
	if ts.Revision != 0 {
		t.Errorf("revision %d, want 0 for a trace put in one call", ts.Revision)
	}
}

func TestGetTraceSummariesPagingAndRanges(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.client("http")
	const n = 230
	var docs []string
	want := map[string]bool{}
	for i := range n {
		id := newTraceID(1000 + i)
		want[id] = true
		docs = append(docs, segDoc(id, fmt.Sprintf("%016x", i+1), "pager"))
	}
	for i := 0; i < n; i += 50 {
		res, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs[i:min(i+50, n)]})
		if err != nil || len(res.UnprocessedTraceSegments) != 0 {
			t.Fatalf("put: %v %+v", err, res)
		}
	}
	for _, rt := range []types.TimeRangeType{"", types.TimeRangeTypeTraceId, types.TimeRangeTypeEvent} {
		in := &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-5 * time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute)), TimeRangeType: rt}
		seen := map[string]bool{}
		pages := 0
		p := xray.NewGetTraceSummariesPaginator(c, in)
		var prevStart time.Time
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("%q: %v", rt, err)
			}
			pages++
			for _, ts := range out.TraceSummaries {
				id := aws.ToString(ts.Id)
				if seen[id] {
					t.Errorf("%q: %s on two pages", rt, id)
				}
				seen[id] = true
				if !prevStart.IsZero() && ts.StartTime.After(prevStart.Add(time.Second)) {
					t.Errorf("%q: not newest first", rt)
				}
				prevStart = *ts.StartTime
				if rt == types.TimeRangeTypeEvent && ts.MatchedEventTime == nil {
					t.Errorf("Event range: %s has no MatchedEventTime", id)
				}
			}
		}
		if len(seen) != n || pages < 3 {
			t.Errorf("%q: %d traces over %d pages, want %d over at least 3", rt, len(seen), pages, n)
		}
	}
	// A window before the traces finds none.
	out, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now().Add(-30 * time.Minute))})
	if err != nil || len(out.TraceSummaries) != 0 || out.NextToken != nil {
		t.Errorf("empty window: %v %d %v", err, len(out.TraceSummaries), out.NextToken)
	}
}

func TestBatchGetTracesPaging(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.client("http")
	var ids, docs []string
	for i := range 12 {
		id := newTraceID(2000 + i)
		ids = append(ids, id)
		docs = append(docs, segDoc(id, fmt.Sprintf("%016x", i+1), "batch"))
	}
	if _, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs}); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	p := xray.NewBatchGetTracesPaginator(c, &xray.BatchGetTracesInput{TraceIds: append(ids, newTraceID(9999))})
	unprocessed := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range out.Traces {
			got[aws.ToString(tr.Id)] = true
		}
		unprocessed += len(out.UnprocessedTraceIds)
	}
	if len(got) != 12 || unprocessed != 1 {
		t.Errorf("paged BatchGetTraces: %d traces, %d unprocessed", len(got), unprocessed)
	}
}

func TestTelemetryAndEncryption(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.client("tcp")
	_, err := c.PutTelemetryRecords(ctx, &xray.PutTelemetryRecordsInput{
		Hostname: aws.String("host-1"), EC2InstanceId: aws.String("i-0123"),
		TelemetryRecords: []types.TelemetryRecord{{
			Timestamp: aws.Time(time.Now()), SegmentsReceivedCount: aws.Int32(10), SegmentsSentCount: aws.Int32(9), SegmentsRejectedCount: aws.Int32(1),
			BackendConnectionErrors: &types.BackendConnectionErrors{TimeoutCount: aws.Int32(2)},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	_ = s.Store().ListMeta(ctx, "telemetry", func(k string, v []byte) bool { stored = append(stored, string(v)); return true })
	if len(stored) != 1 || !strings.Contains(stored[0], `"SegmentsReceivedCount":10`) || !strings.Contains(stored[0], `"host-1"`) || !strings.Contains(stored[0], `"TimeoutCount":2`) {
		t.Errorf("stored telemetry = %v", stored)
	}
	// Invalid: a record without its required Timestamp (sent raw: the SDK
	// would refuse to send it).
	resp, body := xraytest.Post(t, s.URL("http")+"/TelemetryRecords", "application/json", []byte(`{"TelemetryRecords":[{"SegmentsSentCount":1}]}`))
	code, hdr := resp.StatusCode, resp.Header
	if code != 400 || hdr.Get("X-Amzn-ErrorType") != "InvalidRequestException" || !strings.Contains(string(body), "TelemetryRecords[0].Timestamp") {
		t.Errorf("record without Timestamp: %d %s %s", code, hdr.Get("X-Amzn-ErrorType"), body)
	}

	enc, err := c.GetEncryptionConfig(ctx, &xray.GetEncryptionConfigInput{})
	if err != nil {
		t.Fatal(err)
	}
	if enc.EncryptionConfig.Type != types.EncryptionTypeNone || enc.EncryptionConfig.Status != types.EncryptionStatusActive {
		t.Errorf("encryption config = %+v", enc.EncryptionConfig)
	}
}

func TestErrors(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.client("http")

	// A trace id longer than the model allows.
	_, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{strings.Repeat("1", 36)}})
	if code, msg := apiCode(err); code != "InvalidRequestException" || !strings.Contains(msg, strings.Repeat("1", 36)) {
		t.Errorf("long trace id: %v", err)
	}
	// A well-formed but unknown id is simply unprocessed; a malformed short
	// one too (X-Ray answers the same).
	out, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{"nope", newTraceID(5)}})
	if err != nil || len(out.UnprocessedTraceIds) != 2 {
		t.Errorf("unknown ids: %v %+v", err, out)
	}
	// FilterExpression is not supported yet and says so.
	_, err = c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Minute)), EndTime: aws.Time(time.Now()), FilterExpression: aws.String(`service("a")`)})
	if err != nil {
		if code, msg := apiCode(err); code != "InvalidRequestException" || !strings.Contains(msg, "FilterExpression") {
			t.Errorf("filter expression: %v", err)
		}
	}
	// Inverted window.
	_, err = c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now()), EndTime: aws.Time(time.Now().Add(-time.Minute))})
	if code, msg := apiCode(err); code != "InvalidRequestException" || !strings.Contains(msg, "EndTime") {
		t.Errorf("inverted window: %v", err)
	}
	// A NextToken this server never gave.
	_, err = c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Minute)), EndTime: aws.Time(time.Now()), NextToken: aws.String("garbage!")})
	if code, msg := apiCode(err); code != "InvalidRequestException" || !strings.Contains(msg, "NextToken") {
		t.Errorf("bad token: %v", err)
	}
	// An insight that does not exist is named.
	_, err = c.GetInsight(ctx, &xray.GetInsightInput{InsightId: aws.String("0b7e1a2c-0000-4000-8000-000000000000")})
	if code, msg := apiCode(err); code != "InvalidRequestException" || !strings.Contains(msg, `no insight "0b7e1a2c-0000-4000-8000-000000000000"`) {
		t.Errorf("GetInsight: %v", err)
	}
	// A NextToken where everything fits one page.
	_, err = c.ListResourcePolicies(ctx, &xray.ListResourcePoliciesInput{NextToken: aws.String("garbage!")})
	if code, msg := apiCode(err); code != "InvalidRequestException" || !strings.Contains(msg, "ListResourcePolicies") {
		t.Errorf("ListResourcePolicies: %v", err)
	}

	// Raw requests: what the SDK would refuse to send.
	for _, tc := range []struct {
		name, path, body string
		status           int
		errType, want    string
	}{
		{"malformed JSON", "/TraceSegments", `{"TraceSegmentDocuments":[`, 400, "InvalidRequestException", "not valid JSON"},
		{"wrong member type", "/TraceSegments", `{"TraceSegmentDocuments":"doc"}`, 400, "InvalidRequestException", "TraceSegmentDocuments"},
		{"missing documents", "/TraceSegments", `{}`, 400, "InvalidRequestException", "TraceSegmentDocuments is required"},
		{"missing trace ids", "/Traces", `{}`, 400, "InvalidRequestException", "TraceIds"},
		{"missing window", "/TraceSummaries", `{"EndTime":1}`, 400, "InvalidRequestException", "StartTime"},
		{"bad timestamp", "/TraceSummaries", `{"StartTime":"yesterday","EndTime":1}`, 400, "InvalidRequestException", "yesterday"},
		{"unknown path", "/NoSuchOperation", `{}`, 404, "UnknownOperationException", "/NoSuchOperation"},
	} {
		resp, body := xraytest.Post(t, s.URL("http")+tc.path, "application/json", []byte(tc.body))
		code, hdr := resp.StatusCode, resp.Header
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		if code != tc.status || hdr.Get("X-Amzn-ErrorType") != tc.errType || e.Type != tc.errType || !strings.Contains(e.Message, tc.want) || hdr.Get("X-Amzn-RequestId") == "" {
			t.Errorf("%s: %d %s %s (request id %q)", tc.name, code, hdr.Get("X-Amzn-ErrorType"), body, hdr.Get("X-Amzn-RequestId"))
		}
	}
	// GET is not an X-Ray method.
	resp, err := http.Get(s.URL("tcp") + "/TraceSegments")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("X-Amzn-ErrorType") == "" {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

func TestBodiesAcceptedInEveryForm(t *testing.T) {
	s := startServer(t)
	id := newTraceID(7)
	body, _ := json.Marshal(map[string]any{"TraceSegmentDocuments": []string{segDoc(id, "70de5b6f19ff9a0a", "gz")}})
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(body)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL("http")+"/TraceSegments", &gz)
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("gzip body: %d", resp.StatusCode)
	}
	s.waitTraces(id)
	// Operations without input take an empty body, {} or null members, with
	// or without a Content-Type (the Go X-Ray SDK sends none).
	for _, b := range []string{"", "{}", `{"NextToken":null}`, "null"} {
		for _, ct := range []string{"", "application/json", "application/x-amz-json-1.1"} {
			resp, out := xraytest.Post(t, s.URL("tcp")+"/EncryptionConfig", ct, []byte(b))
			code, hdr := resp.StatusCode, resp.Header
			if code != 200 || !strings.Contains(string(out), `"Type":"NONE"`) || hdr.Get("X-Amzn-RequestId") == "" {
				t.Errorf("body %q content type %q: %d %s", b, ct, code, out)
			}
		}
	}
}
