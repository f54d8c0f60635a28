package otlp_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/xraytest/jsonpath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/otlp/translate"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	xrayprop "go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func check(t *testing.T, what string, doc map[string]any, want map[string]any) {
	t.Helper()
	if doc == nil {
		t.Fatalf("%s: no document", what)
	}
	for p, w := range want {
		if got := jsonpath.At(doc, p); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s: %s = %v, want %v", what, p, got, w)
		}
	}
}

func newProvider(exp sdktrace.SpanExporter, service string) *sdktrace.TracerProvider {
	res := resource.NewSchemaless(
		attribute.String("service.name", service), attribute.String("service.version", "2.0.1"),
		attribute.String("cloud.provider", "aws"), attribute.String("cloud.platform", "aws_ec2"),
		attribute.String("host.id", "i-0123456789abcdef0"), attribute.String("cloud.availability_zone", "us-east-1b"),
		attribute.String("telemetry.sdk.name", "opentelemetry"), attribute.String("telemetry.sdk.language", "go"),
	)
	return sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(res), sdktrace.WithIDGenerator(xrayprop.NewIDGenerator()))
}

// TestOTelSDKExporters sends spans of every kind through the OpenTelemetry
// Go SDK's gRPC and HTTP exporters and reads them back with the X-Ray API.
func TestOTelSDKExporters(t *testing.T) {
	a := xraytest.Start(t, xraytest.OTLP())
	xc := a.Client(t)
	ctx := context.Background()
	exporters := map[string]func() (sdktrace.SpanExporter, error){
		"grpc": func() (sdktrace.SpanExporter, error) {
			return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(a.Addr("otlp-grpc").String()), otlptracegrpc.WithInsecure(), otlptracegrpc.WithCompressor("gzip"))
		},
		"http": func() (sdktrace.SpanExporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(a.Addr("otlp-http").String()), otlptracehttp.WithInsecure(), otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		},
	}
	for name, mk := range exporters {
		t.Run(name, func(t *testing.T) {
			exp, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			tp := newProvider(exp, "storefront-"+name)
			tr := tp.Tracer("test")
			began := time.Now()

			sctx, server := tr.Start(ctx, "GET /checkout", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
				attribute.String("http.method", "GET"), attribute.String("http.scheme", "http"), attribute.String("http.host", "shop.local"),
				attribute.String("http.target", "/checkout"), attribute.Int("http.status_code", 200), attribute.String("enduser.id", "alice"),
				attribute.String("cart.id", "c-42")))
			_, httpc := tr.Start(sctx, "POST", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
				attribute.String("http.request.method", "POST"), attribute.String("url.full", "https://payments.example.com/charge"),
				attribute.Int("http.response.status_code", 503)))
			httpc.SetStatus(codes.Error, "")
			httpc.End()
			_, db := tr.Start(sctx, "SELECT orders", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
				attribute.String("db.system", "postgresql"), attribute.String("db.name", "orders"), attribute.String("net.peer.name", "pg.local"),
				attribute.String("db.statement", "SELECT * FROM orders WHERE id = $1")))
			db.End()
			_, ddb := tr.Start(sctx, "DynamoDB.GetItem", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
				attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", "DynamoDB"), attribute.String("rpc.method", "GetItem"),
				attribute.String("aws.region", "us-east-1"), attribute.StringSlice("aws.dynamodb.table_names", []string{"carts"}),
				attribute.Int("http.status_code", 429)))
			ddb.SetStatus(codes.Error, "throttled")
			ddb.End()
			_, work := tr.Start(sctx, "price cart", trace.WithSpanKind(trace.SpanKindInternal))
			work.RecordError(errors.New("price service timed out"), trace.WithStackTrace(true))
			work.SetStatus(codes.Error, "price service timed out")
			work.End()
			server.End()
			if err := tp.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}

			tid := server.SpanContext().TraceID()
			xid := translate.TraceID(pcommon.TraceID(tid))
			if epoch := xid[2:10]; fmt.Sprintf("%08x", began.Unix()) > epoch || epoch > fmt.Sprintf("%08x", time.Now().Unix()) {
				t.Errorf("X-Ray id generator epoch %s not now", epoch)
			}
			docs := segments(t, xc, xid, 5)
			id := func(s trace.Span) string { return s.SpanContext().SpanID().String() }
			check(t, "server", docs[id(server)], map[string]any{
				"name": "storefront-" + name, "trace_id": xid, "parent_id": nil, "type": nil, "origin": "AWS::EC2::Instance",
				"http.request.method": "GET", "http.request.url": "http://shop.local/checkout", "http.response.status": 200,
				"user": "alice", "annotations.cart_id": "c-42", "aws.ec2.instance_id": "i-0123456789abcdef0", "service.version": "2.0.1",
				"aws.xray.sdk": "opentelemetry for go", "fault": nil,
			})
			check(t, "http client", docs[id(httpc)], map[string]any{
				"name": "payments.example.com", "type": "subsegment", "namespace": "remote", "parent_id": id(server),
				"http.request.method": "POST", "http.request.url": "https://payments.example.com/charge", "http.response.status": 503, "fault": true,
			})
			check(t, "db", docs[id(db)], map[string]any{
				"name": "orders@pg.local", "namespace": "remote", "sql.database_type": "postgresql", "sql.url": "pg.local/orders",
				"sql.sanitized_query": "SELECT * FROM orders WHERE id = $1",
			})
			check(t, "aws", docs[id(ddb)], map[string]any{
				"name": "DynamoDB", "namespace": "aws", "aws.operation": "GetItem", "aws.table_name": "carts", "aws.region": "us-east-1",
				"error": true, "throttle": true, "fault": nil, "cause.exceptions.0.message": "throttled",
			})
			check(t, "internal", docs[id(work)], map[string]any{
				"name": "price cart", "namespace": nil, "fault": true, "cause.exceptions.0.type": "*errors.errorString",
				"cause.exceptions.0.message": "price service timed out",
			})
			if lbl, _ := jsonpath.At(docs[id(work)], "cause.exceptions.0.stack.0.label").(string); lbl == "" {
				t.Errorf("no parsed Go stack frames: %v", jsonpath.At(docs[id(work)], "cause"))
			}

			sums, err := xc.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(began.Add(-time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute))})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range sums.TraceSummaries {
				if aws.ToString(s.Id) != xid {
					continue
				}
				found = true
				if s.Http == nil || aws.ToInt32(s.Http.HttpStatus) != 200 || aws.ToString(s.Http.HttpMethod) != "GET" {
					t.Errorf("summary http: %+v", s.Http)
				}
				if aws.ToBool(s.HasFault) {
					t.Error("root answered 200 but the summary has a fault")
				}
				if len(s.Users) != 1 || aws.ToString(s.Users[0].UserName) != "alice" {
					t.Errorf("users %+v", s.Users)
				}
				if _, ok := s.Annotations["cart_id"]; !ok {
					t.Errorf("annotations %v", s.Annotations)
				}
			}
			if !found {
				t.Errorf("trace %s not in GetTraceSummaries", xid)
			}
		})
	}
}
