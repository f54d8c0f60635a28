package translate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/xraytest/jsonpath"

	"github.com/roentgen-tracing/roentgen/internal/segment"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

var (
	tid   = pcommon.TraceID{0x5f, 0x84, 0xc7, 0xa1, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01}
	sid   = pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8}
	psid  = pcommon.SpanID{8, 7, 6, 5, 4, 3, 2, 1}
	start = time.Unix(1700000000, 123456789)
)

type fixture struct {
	span  ptrace.Span
	res   pcommon.Resource
	scope pcommon.InstrumentationScope
}

func newSpan(kind ptrace.SpanKind, parent bool) fixture {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	ss := rs.ScopeSpans().AppendEmpty()
	sp := ss.Spans().AppendEmpty()
	sp.SetTraceID(tid)
	sp.SetSpanID(sid)
	if parent {
		sp.SetParentSpanID(psid)
	}
	sp.SetKind(kind)
	sp.SetName("GET /cart")
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(250 * time.Millisecond)))
	return fixture{sp, rs.Resource(), ss.Scope()}
}

// run translates, checks the document passes the shared parser, and
// returns it decoded.
func run(t *testing.T, tr *Translator, f fixture) map[string]any {
	t.Helper()
	b, err := tr.Span(f.span, f.res, f.scope)
	if err != nil {
		t.Fatalf("translate: %v", err)
	}
	if _, err := segment.Parse(b, segment.Options{SkipTraceEpoch: true, Stored: true}); err != nil {
		t.Fatalf("segment.Parse rejects %s: %v", b, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func expect(t *testing.T, doc map[string]any, want map[string]any) {
	t.Helper()
	for path, w := range want {
		got := jsonpath.At(doc, path)
		if fmt.Sprint(got) != fmt.Sprint(w) {
			b, _ := json.MarshalIndent(doc, "", " ")
			t.Errorf("%s = %v, want %v\n%s", path, got, w, b)
		}
	}
}

var all = New(Config{IndexAll: true})

func TestServerSpanIsSegment(t *testing.T) {
	f := newSpan(ptrace.SpanKindServer, true)
	a := f.span.Attributes()
	a.PutStr("http.method", "GET")
	a.PutStr("http.scheme", "https")
	a.PutStr("http.host", "shop.example.com")
	a.PutStr("http.target", "/cart?id=7")
	a.PutInt("http.status_code", 200)
	a.PutStr("http.user_agent", "curl/8")
	a.PutStr("http.client_ip", "203.0.113.9")
	a.PutStr("customer.tier", "gold")
	f.res.Attributes().PutStr("service.version", "1.2.3")
	doc := run(t, all, f)
	expect(t, doc, map[string]any{
		"name": "checkout", "id": "0102030405060708", "parent_id": "0807060504030201",
		"trace_id": "1-5f84c7a1-abcdef0123456789abcdef01", "type": nil, "namespace": nil,
		"start_time": 1.700000000123456e+09, "end_time": 1.700000000373456e+09,
		"http.request.method": "GET", "http.request.url": "https://shop.example.com/cart?id=7",
		"http.request.user_agent": "curl/8", "http.request.client_ip": "203.0.113.9", "http.request.x_forwarded_for": true,
		"http.response.status": 200, "annotations.customer_tier": "gold", "service.version": "1.2.3",
		"metadata.default.otel\\.resource\\.service\\.name": nil, "fault": nil, "error": nil,
	})
	if jsonpath.At(doc, "metadata.default") == nil || jsonpath.At(doc, "metadata.default").(map[string]any)["otel.resource.service.name"] != "checkout" {
		t.Errorf("resource attributes not in metadata: %v", doc["metadata"])
	}
	if _, ok := jsonpath.At(doc, "annotations").(map[string]any)["http_method"]; ok {
		t.Error("a consumed HTTP attribute was also annotated")
	}
}

func TestStableHTTPConventions(t *testing.T) {
	f := newSpan(ptrace.SpanKindServer, false)
	a := f.span.Attributes()
	a.PutStr("http.request.method", "POST")
	a.PutStr("url.scheme", "http")
	a.PutStr("server.address", "api.internal")
	a.PutInt("server.port", 8080)
	a.PutStr("url.path", "/orders")
	a.PutStr("url.query", "x=1")
	a.PutInt("http.response.status_code", 503)
	a.PutStr("user_agent.original", "Go-http-client/1.1")
	a.PutStr("client.address", "198.51.100.1")
	a.PutInt("http.response.body.size", 42)
	f.span.Status().SetCode(ptrace.StatusCodeError)
	doc := run(t, all, f)
	expect(t, doc, map[string]any{
		"parent_id": nil, "http.request.method": "POST", "http.request.url": "http://api.internal:8080/orders?x=1",
		"http.request.client_ip": "198.51.100.1", "http.response.status": 503, "http.response.content_length": 42,
		"http.request.user_agent": "Go-http-client/1.1", "fault": true, "error": nil, "throttle": nil,
	})
}

func TestClientSpanIsRemoteSubsegment(t *testing.T) {
	f := newSpan(ptrace.SpanKindClient, true)
	a := f.span.Attributes()
	a.PutStr("http.request.method", "GET")
	a.PutStr("url.full", "https://payments.example.com/charge")
	a.PutInt("http.response.status_code", 429)
	f.span.Status().SetCode(ptrace.StatusCodeError)
	doc := run(t, all, f)
	expect(t, doc, map[string]any{
		"type": "subsegment", "namespace": "remote", "name": "payments.example.com", "parent_id": "0807060504030201",
		"http.request.url": "https://payments.example.com/charge", "error": true, "throttle": true, "fault": nil,
		"origin": nil, "metadata": nil,
	})
}

func TestClientNamePrecedence(t *testing.T) {
	f := newSpan(ptrace.SpanKindClient, true)
	f.span.Attributes().PutStr("peer.service", "inventory")
	f.span.Attributes().PutStr("server.address", "10.0.0.5")
	expect(t, run(t, all, f), map[string]any{"name": "inventory", "namespace": "remote"})

	f = newSpan(ptrace.SpanKindInternal, true)
	f.span.SetName("compute(tax)!")
	expect(t, run(t, all, f), map[string]any{"name": "computetax", "namespace": nil, "type": "subsegment"})
}

func TestAWSSDKSpan(t *testing.T) {
	f := newSpan(ptrace.SpanKindClient, true)
	a := f.span.Attributes()
	a.PutStr("rpc.system", "aws-api")
	a.PutStr("rpc.service", "DynamoDB")
	a.PutStr("rpc.method", "GetItem")
	a.PutStr("aws.region", "eu-west-1")
	a.PutStr("aws.request_id", "REQ123")
	a.PutEmptySlice("aws.dynamodb.table_names").AppendEmpty().SetStr("carts")
	a.PutInt("http.status_code", 400)
	f.span.Status().SetCode(ptrace.StatusCodeError)
	doc := run(t, all, f)
	expect(t, doc, map[string]any{
		"name": "DynamoDB", "namespace": "aws", "aws.operation": "GetItem", "aws.region": "eu-west-1",
		"aws.request_id": "REQ123", "aws.table_name": "carts", "error": true, "fault": nil,
	})
	f.span.Attributes().PutStr("aws.remote.service", "AWS.SDK.S3")
	expect(t, run(t, all, f), map[string]any{"name": "S3", "namespace": "aws"})
}

func TestDatabaseSpan(t *testing.T) {
	f := newSpan(ptrace.SpanKindClient, true)
	a := f.span.Attributes()
	a.PutStr("db.system", "postgresql")
	a.PutStr("db.name", "orders")
	a.PutStr("db.statement", "SELECT * FROM orders WHERE id = ?")
	a.PutStr("db.user", "app")
	a.PutStr("db.connection_string", "postgresql://app:secret@db.example.com:5432")
	doc := run(t, all, f)
	expect(t, doc, map[string]any{
		"name": "orders@db.example.com", "namespace": "remote", "sql.database_type": "postgresql",
		"sql.sanitized_query": "SELECT * FROM orders WHERE id = ?", "sql.user": "app",
		"sql.url": "postgresql://app@db.example.com:5432/orders",
	})
	// Current conventions, no connection string.
	f = newSpan(ptrace.SpanKindClient, true)
	a = f.span.Attributes()
	a.PutStr("db.system.name", "mysql")
	a.PutStr("db.namespace", "shop")
	a.PutStr("db.query.text", "UPDATE carts SET n = ?")
	a.PutStr("server.address", "mysql.local")
	a.PutInt("server.port", 3306)
	expect(t, run(t, all, f), map[string]any{
		"name": "shop@mysql.local", "sql.url": "mysql.local:3306/shop", "sql.database_type": "mysql",
		"sql.sanitized_query": "UPDATE carts SET n = ?",
	})
	// Redis is not SQL: named and remote, but attributes stay metadata.
	f = newSpan(ptrace.SpanKindClient, true)
	f.span.Attributes().PutStr("db.system", "redis")
	f.span.Attributes().PutStr("net.peer.name", "cache")
	f.span.Attributes().PutStr("db.statement", "GET k")
	expect(t, run(t, all, f), map[string]any{"name": "cache", "sql": nil, "namespace": "remote", "annotations.db_statement": "GET k"})
}

func TestExceptionEvents(t *testing.T) {
	f := newSpan(ptrace.SpanKindServer, false)
	f.res.Attributes().PutStr("telemetry.sdk.language", "go")
	f.span.Status().SetCode(ptrace.StatusCodeError)
	f.span.Status().SetMessage("boom")
	ev := f.span.Events().AppendEmpty()
	ev.SetName("exception")
	ev.Attributes().PutStr("exception.type", "*errors.errorString")
	ev.Attributes().PutStr("exception.message", "out of stock")
	ev.Attributes().PutStr("exception.stacktrace", "goroutine 1 [running]:\nmain.checkout(...)\n\t/src/main.go:42 +0x1d\nmain.main()\n\t/src/main.go:10 +0x25\n")
	doc := run(t, all, f)
	expect(t, doc, map[string]any{
		"fault": true, "cause.exceptions.0.type": "*errors.errorString", "cause.exceptions.0.message": "out of stock",
		"cause.exceptions.0.stack.0.label": "main.checkout(...)", "cause.exceptions.0.stack.0.path": "/src/main.go",
		"cause.exceptions.0.stack.0.line": 42, "cause.exceptions.0.stack.1.line": 10, "cause.exceptions.0.remote": nil,
	})
	if id, _ := jsonpath.At(doc, "cause.exceptions.0.id").(string); !segment.IsID(id) {
		t.Errorf("exception id %q", id)
	}
	// Status message only.
	f = newSpan(ptrace.SpanKindClient, true)
	f.span.Status().SetCode(ptrace.StatusCodeError)
	f.span.Status().SetMessage("connection refused")
	expect(t, run(t, all, f), map[string]any{"fault": true, "cause.exceptions.0.message": "connection refused", "cause.exceptions.0.remote": true})
}

func TestStackFormats(t *testing.T) {
	java := "java.lang.IllegalStateException: x\n\tat com.shop.Cart.add(Cart.java:31)\n\tat com.shop.Api.post(Api.java:12)\n"
	if fr, _ := parseStack(java, "java"); len(fr) != 2 || fr[0] != (segment.StackFrame{Label: "com.shop.Cart.add", Path: "Cart.java", Line: 31}) {
		t.Errorf("java: %+v", fr)
	}
	py := "Traceback (most recent call last):\n  File \"/app/api.py\", line 8, in post\n    add()\n  File \"/app/cart.py\", line 3, in add\n    raise ValueError\nValueError\n"
	if fr, _ := parseStack(py, "python"); len(fr) != 2 || fr[0] != (segment.StackFrame{Label: "add", Path: "/app/cart.py", Line: 3}) {
		t.Errorf("python: %+v", fr)
	}
	js := "Error: x\n    at add (/app/cart.js:3:9)\n    at /app/api.js:8:1"
	if fr, _ := parseStack(js, "nodejs"); len(fr) != 2 || fr[0] != (segment.StackFrame{Label: "add", Path: "/app/cart.js", Line: 3}) || fr[1].Path != "/app/api.js" {
		t.Errorf("js: %+v", fr)
	}
	if fr, _ := parseStack("E\nline one\nline two", "cobol"); len(fr) != 2 || fr[1].Label != "line two" {
		t.Errorf("fallback: %+v", fr)
	}
	long := strings.Repeat("\tat a.b(C.java:1)\n", maxFrames+5)
	if fr, trunc := parseStack(long, "java"); len(fr) != maxFrames || trunc != 5 {
		t.Errorf("truncation: %d frames, %d truncated", len(fr), trunc)
	}
}

func TestStatusClassification(t *testing.T) {
	for _, c := range []struct {
		code              ptrace.StatusCode
		http              int64
		fault, err, throt bool
	}{
		{ptrace.StatusCodeError, 0, true, false, false},
		{ptrace.StatusCodeError, 404, false, true, false},
		{ptrace.StatusCodeError, 429, false, true, true},
		{ptrace.StatusCodeError, 500, true, false, false},
		{ptrace.StatusCodeError, 200, true, false, false},
		{ptrace.StatusCodeUnset, 502, true, false, false},
		{ptrace.StatusCodeUnset, 403, false, true, false},
		{ptrace.StatusCodeUnset, 200, false, false, false},
		{ptrace.StatusCodeOk, 500, false, false, false},
	} {
		f := newSpan(ptrace.SpanKindServer, false)
		f.span.Status().SetCode(c.code)
		if c.http != 0 {
			f.span.Attributes().PutInt("http.status_code", c.http)
		}
		doc := run(t, all, f)
		if (doc["fault"] == true) != c.fault || (doc["error"] == true) != c.err || (doc["throttle"] == true) != c.throt {
			t.Errorf("status %v http %d: fault=%v error=%v throttle=%v", c.code, c.http, doc["fault"], doc["error"], doc["throttle"])
		}
	}
}

func TestResourceOrigins(t *testing.T) {
	for _, c := range []struct {
		attrs  map[string]any
		origin string
		check  map[string]any
	}{
		{map[string]any{"cloud.provider": "aws", "cloud.platform": "aws_ec2", "host.id": "i-0abc", "host.type": "m5.large", "cloud.availability_zone": "us-east-1a", "cloud.account.id": "123456789012"},
			"AWS::EC2::Instance", map[string]any{"aws.ec2.instance_id": "i-0abc", "aws.ec2.instance_size": "m5.large", "aws.ec2.availability_zone": "us-east-1a", "aws.account_id": "123456789012"}},
		{map[string]any{"cloud.provider": "aws", "cloud.platform": "aws_ecs", "aws.ecs.launchtype": "fargate", "container.name": "web", "aws.ecs.task.arn": "arn:aws:ecs:t", "aws.ecs.cluster.arn": "arn:aws:ecs:c"},
			"AWS::ECS::Fargate", map[string]any{"aws.ecs.container": "web", "aws.ecs.task_arn": "arn:aws:ecs:t", "aws.ecs.cluster_arn": "arn:aws:ecs:c", "aws.ecs.launch_type": "fargate"}},
		{map[string]any{"cloud.platform": "aws_ecs", "container.name": "web"}, "AWS::ECS::Container", nil},
		{map[string]any{"cloud.provider": "aws", "cloud.platform": "aws_eks", "k8s.pod.name": "web-1", "k8s.cluster.name": "prod", "container.id": "c0ffee"},
			"AWS::EKS::Container", map[string]any{"aws.eks.pod": "web-1", "aws.eks.cluster_name": "prod", "aws.eks.container_id": "c0ffee"}},
		{map[string]any{"cloud.provider": "aws", "cloud.platform": "aws_lambda", "cloud.resource_id": "arn:aws:lambda:us-east-1:1:function:f", "faas.version": "$LATEST"},
			"AWS::Lambda::Function", map[string]any{"resource_arn": "arn:aws:lambda:us-east-1:1:function:f", "aws.lambda.function_version": "$LATEST"}},
		{map[string]any{"cloud.provider": "aws", "cloud.platform": "aws_elastic_beanstalk", "deployment.environment": "prod-env", "service.instance.id": "7"},
			"AWS::ElasticBeanstalk::Environment", map[string]any{"aws.elastic_beanstalk.environment_name": "prod-env", "aws.elastic_beanstalk.deployment_id": 7}},
		{map[string]any{"cloud.provider": "gcp", "cloud.platform": "gcp_compute_engine"}, "", map[string]any{"aws": nil}},
		{map[string]any{"telemetry.sdk.name": "opentelemetry", "telemetry.sdk.language": "go", "telemetry.sdk.version": "1.47.0"},
			"", map[string]any{"aws.xray.sdk": "opentelemetry for go", "aws.xray.sdk_version": "1.47.0", "aws.xray.auto_instrumentation": false}},
	} {
		f := newSpan(ptrace.SpanKindServer, false)
		if err := f.res.Attributes().FromRaw(c.attrs); err != nil {
			t.Fatal(err)
		}
		f.res.Attributes().PutStr("service.name", "svc")
		doc := run(t, all, f)
		want := map[string]any{"origin": c.origin, "name": "svc"}
		if c.origin == "" {
			want["origin"] = nil
		}
		for k, v := range c.check {
			want[k] = v
		}
		expect(t, doc, want)
	}
	// Subsegments carry no resource data.
	f := newSpan(ptrace.SpanKindClient, true)
	f.res.Attributes().PutStr("cloud.platform", "aws_ec2")
	expect(t, run(t, all, f), map[string]any{"origin": nil, "aws": nil, "metadata": nil})
}

func TestAnnotationsAndMetadata(t *testing.T) {
	f := newSpan(ptrace.SpanKindServer, false)
	a := f.span.Attributes()
	a.PutStr("order.id", "o-1")
	a.PutInt("item-count", 3)
	a.PutDouble("ratio", 0.5)
	a.PutBool("vip", true)
	a.PutEmptySlice("tags").AppendEmpty().SetStr("x")
	a.PutEmptyMap("nested").PutStr("k", "v")
	a.PutStr("enduser.id", "alice")
	doc := run(t, all, f)
	expect(t, doc, map[string]any{
		"annotations.order_id": "o-1", "annotations.item_count": 3, "annotations.ratio": 0.5, "annotations.vip": true,
		"metadata.default.tags.0": "x", "metadata.default.nested.k": "v", "user": "alice", "annotations.enduser_id": nil,
	})
	// Only listed keys are indexed; per-span aws.xray.annotations adds more.
	only := New(ParseIndexFlag("order.id, otel.resource.service.name"))
	a.PutEmptySlice("aws.xray.annotations").AppendEmpty().SetStr("vip")
	doc = run(t, only, f)
	expect(t, doc, map[string]any{
		"annotations.order_id": "o-1", "annotations.vip": true, "annotations.item_count": nil, "annotations.otel_resource_service_name": "checkout",
		"metadata.default.item-count": 3, "metadata.default.ratio": 0.5,
	})
	// At most 50 annotations; the rest become metadata.
	f = newSpan(ptrace.SpanKindServer, false)
	for i := range 60 {
		f.span.Attributes().PutInt(fmt.Sprintf("k%02d", i), int64(i))
	}
	doc = run(t, all, f)
	if n := len(doc["annotations"].(map[string]any)); n != MaxAnnotations {
		t.Errorf("%d annotations, want %d", n, MaxAnnotations)
	}
	if n := len(jsonpath.At(doc, "metadata.default").(map[string]any)); n != 60-MaxAnnotations+1 { // +1: otel.resource.service.name
		t.Errorf("%d metadata entries", n)
	}
}

func TestLinksAndIDs(t *testing.T) {
	f := newSpan(ptrace.SpanKindConsumer, true)
	l := f.span.Links().AppendEmpty()
	l.SetTraceID(pcommon.TraceID{0x69, 0x1f, 0x0a, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	l.SetSpanID(pcommon.SpanID{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 1})
	l.Attributes().PutStr("messaging.operation", "receive")
	doc := run(t, all, f)
	expect(t, doc, map[string]any{
		"type": nil, "name": "checkout", "links.0.trace_id": "1-691f0a00-0102030405060708090a0b0c", "links.0.id": "aabbccddeeff0001",
		"links.0.attributes.messaging.operation": nil,
	})
	if jsonpath.At(doc, "links.0.attributes").(map[string]any)["messaging.operation"] != "receive" {
		t.Error("link attributes lost")
	}
	if got := TraceID(pcommon.TraceID{0x69, 0x1f, 0x0a, 0x00}); got != "1-691f0a00-000000000000000000000000" {
		t.Error(got)
	}
}

func TestBadSpans(t *testing.T) {
	f := newSpan(ptrace.SpanKindServer, false)
	f.span.SetTraceID(pcommon.TraceID{})
	if _, err := all.Span(f.span, f.res, f.scope); err == nil || !strings.Contains(err.Error(), "trace id is all zeros") {
		t.Errorf("zero trace id: %v", err)
	}
	f = newSpan(ptrace.SpanKindServer, false)
	f.span.SetSpanID(pcommon.SpanID{})
	if _, err := all.Span(f.span, f.res, f.scope); err == nil || !strings.Contains(err.Error(), "span id is all zeros") {
		t.Errorf("zero span id: %v", err)
	}
	// Oversized attributes are shed to stay under 64 KiB, not rejected.
	f = newSpan(ptrace.SpanKindServer, false)
	f.span.Attributes().PutEmptyMap("big").PutStr("blob", strings.Repeat("x", 100_000))
	doc := run(t, all, f)
	expect(t, doc, map[string]any{"name": "checkout", "metadata.otel.truncated": "metadata dropped: the document exceeded 64 KiB"})
	// Names keep only X-Ray's allowed characters; empty falls back.
	f = newSpan(ptrace.SpanKindServer, false)
	f.res.Attributes().PutStr("service.name", "!!!")
	f.span.SetName("$$$")
	expect(t, run(t, all, f), map[string]any{"name": "span"})
}

func TestNonHTTPSpansHaveNoHTTP(t *testing.T) {
	f := newSpan(ptrace.SpanKindClient, true)
	f.span.Attributes().PutStr("db.system", "postgresql")
	f.span.Attributes().PutStr("db.name", "orders")
	f.span.Attributes().PutStr("net.peer.name", "pg.local")
	f.span.Attributes().PutStr("rpc.service", "x")
	expect(t, run(t, all, f), map[string]any{"http": nil, "name": "orders@pg.local", "sql.url": "pg.local/orders"})
	f = newSpan(ptrace.SpanKindClient, true)
	f.span.Attributes().PutStr("rpc.system", "grpc")
	f.span.Attributes().PutStr("rpc.service", "inventory.Stock")
	f.span.Attributes().PutStr("server.address", "10.0.0.7")
	expect(t, run(t, all, f), map[string]any{"http": nil, "name": "inventory.Stock", "namespace": "remote", "annotations.server_address": "10.0.0.7"})
}
