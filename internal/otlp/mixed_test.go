package otlp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/xraytest/jsonpath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	xraysdk "github.com/aws/aws-xray-sdk-go/xray"
	"github.com/roentgen-tracing/roentgen/internal/otlp/translate"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	xrayprop "go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TestMixedTrace: an OpenTelemetry-instrumented HTTP service calls one
// instrumented with the official X-Ray Go SDK, propagating X-Amzn-Trace-Id
// with the OpenTelemetry X-Ray propagator. Both must form one trace and an
// edge on the service graph.
func TestMixedTrace(t *testing.T) {
	a := xraytest.Start(t, xraytest.OTLP())
	xc := a.Client(t)
	ctx := context.Background()

	// The X-Ray SDK service, reporting over real UDP to the app.
	strategy, err := sampling.NewLocalizedStrategy()
	if err != nil {
		t.Fatal(err)
	}
	if err := xraysdk.Configure(xraysdk.Config{DaemonAddr: "tcp:" + a.Addr("tcp").String() + " udp:" + a.Addr("udp").String(), SamplingStrategy: strategy}); err != nil {
		t.Fatal(err)
	}
	inventory := httptest.NewServer(xraysdk.Handler(xraysdk.NewFixedSegmentNamer("inventory"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "7 in stock")
	})))
	defer inventory.Close()

	// The OpenTelemetry service.
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(a.Addr("otlp-grpc").String()), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := newProvider(exp, "frontend")
	tr := tp.Tracer("frontend")
	prop := xrayprop.Propagator{}
	began := time.Now()
	frontend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sctx, server := tr.Start(prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header)), "GET /product",
			trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attribute.String("http.method", "GET"), attribute.Int("http.status_code", 200)))
		defer server.End()
		cctx, client := tr.Start(sctx, "GET inventory", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("http.method", "GET"), attribute.String("http.url", inventory.URL+"/stock"), attribute.String("peer.service", "inventory")))
		defer client.End()
		req, _ := http.NewRequestWithContext(cctx, "GET", inventory.URL+"/stock", nil)
		prop.Inject(cctx, propagation.HeaderCarrier(req.Header))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(w, resp.Body)
		resp.Body.Close()
		client.SetAttributes(attribute.Int("http.status_code", resp.StatusCode))
	}))
	defer frontend.Close()

	// A traced caller: the X-Ray id generator makes an id that both sides share.
	_, root := tr.Start(ctx, "probe")
	req, _ := http.NewRequest("GET", frontend.URL+"/product", nil)
	prop.Inject(trace.ContextWithSpan(ctx, root), propagation.HeaderCarrier(req.Header))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	root.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()

	xid := translate.TraceID(pcommon.TraceID(root.SpanContext().TraceID()))
	docs := segments(t, xc, xid, 4) // probe, frontend server + client, inventory
	var front, call, inv map[string]any
	for _, d := range docs {
		switch {
		case d["name"] == "inventory" && d["type"] == nil:
			inv = d
		case d["name"] == "inventory":
			call = d
		case d["name"] == "frontend" && d["parent_id"] != nil:
			front = d
		}
	}
	if front == nil || call == nil || inv == nil {
		t.Fatalf("segments: %v", docs)
	}
	if call["parent_id"] != front["id"] || inv["parent_id"] != call["id"] {
		t.Errorf("parentage: frontend %v, call %v (parent %v), inventory parent %v", front["id"], call["id"], call["parent_id"], inv["parent_id"])
	}
	if inv["trace_id"] != xid || jsonpath.At(inv, "aws.xray.sdk") != "X-Ray for Go" {
		t.Errorf("inventory segment: %v", inv)
	}

	window := &xray.GetTraceSummariesInput{StartTime: aws.Time(began.Add(-time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute))}
	sums, err := xc.GetTraceSummaries(ctx, window)
	if err != nil {
		t.Fatal(err)
	}
	var sum *types.TraceSummary
	for i := range sums.TraceSummaries {
		if aws.ToString(sums.TraceSummaries[i].Id) == xid {
			sum = &sums.TraceSummaries[i]
		}
	}
	if sum == nil {
		t.Fatalf("trace %s not summarised; got %d summaries", xid, len(sums.TraceSummaries))
	}
	if len(sums.TraceSummaries) != 1 {
		t.Errorf("%d traces, want one", len(sums.TraceSummaries))
	}
	services := map[string]bool{}
	for _, s := range sum.ServiceIds {
		services[aws.ToString(s.Name)] = true
	}
	if !services["frontend"] || !services["inventory"] {
		t.Errorf("ServiceIds %v", services)
	}

	g, err := xc.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: window.StartTime, EndTime: window.EndTime})
	if err != nil {
		t.Fatal(err)
	}
	refs := map[int32]string{}
	for _, s := range g.Services {
		refs[aws.ToInt32(s.ReferenceId)] = aws.ToString(s.Name) + "/" + aws.ToString(s.Type)
	}
	edge := false
	for _, s := range g.Services {
		if aws.ToString(s.Name) != "frontend" {
			continue
		}
		for _, e := range s.Edges {
			if n := refs[aws.ToInt32(e.ReferenceId)]; n == "inventory/" || n == "inventory/AWS::EC2::Instance" {
				edge = true
			}
		}
	}
	if !edge {
		t.Errorf("no frontend → inventory edge; nodes %v", refs)
	}
}
