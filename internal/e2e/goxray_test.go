package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsxray "github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
)

// The official Go X-Ray SDK, configured only with the daemon address, sends
// over real UDP; the trace reads back through the API.
func TestGoXRaySDKOverUDP(t *testing.T) {
	s := startServer(t)
	strategy, err := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":0,"rate":1.0},"rules":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := xray.Configure(xray.Config{DaemonAddr: s.Addr("udp").String(), SamplingStrategy: strategy, ServiceVersion: "9.9.9"}); err != nil {
		t.Fatal(err)
	}

	backend := httptest.NewServer(xray.Handler(xray.NewFixedSegmentNamer("backend"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		xray.AddAnnotation(ctx, "customer", "c-42")
		xray.AddAnnotation(ctx, "items", 3)
		xray.AddMetadata(ctx, "order", map[string]any{"id": "o-1"})
		err := xray.Capture(ctx, "charge-card", func(context.Context) error { return errors.New("card declined") })
		xray.AddError(ctx, err)
		http.Error(w, "boom", http.StatusInternalServerError)
	})))
	defer backend.Close()
	client := xray.Client(&http.Client{})
	frontend := httptest.NewServer(xray.Handler(xray.NewFixedSegmentNamer("frontend"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, backend.URL+"/pay", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	})))
	defer frontend.Close()

	resp, err := http.Get(frontend.URL + "/checkout")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	hdr := resp.Header.Get("X-Amzn-Trace-Id")
	traceID := strings.TrimPrefix(strings.Split(hdr, ";")[0], "Root=")
	if resp.StatusCode != 500 || len(traceID) != 35 {
		t.Fatalf("frontend answered %d with trace header %q", resp.StatusCode, hdr)
	}

	// A manual segment with a subsegment too.
	ctx, seg := xray.BeginSegment(context.Background(), "manual-job")
	xray.AddAnnotation(ctx, "job", "nightly")
	seg.User = "ops"
	_ = xray.Capture(ctx, "step", func(ctx context.Context) error { time.Sleep(time.Millisecond); return nil })
	seg.Close(nil)

	tr := s.waitDocs(traceID, 2)
	docs := docsByID(t, tr)
	var front, back map[string]any
	for _, d := range docs {
		switch d["name"] {
		case "frontend":
			front = d
		case "backend":
			back = d
		}
	}
	if front == nil || back == nil {
		t.Fatalf("documents = %v", docs)
	}
	// The backend's parent is the frontend's outgoing-call subsegment.
	calls := front["subsegments"].([]any)
	if len(calls) == 0 || back["parent_id"] != calls[0].(map[string]any)["id"] {
		t.Errorf("backend parent_id %v is not the frontend's call subsegment", back["parent_id"])
	}
	if back["fault"] != true || back["annotations"].(map[string]any)["customer"] != "c-42" || back["metadata"] == nil || back["cause"] == nil {
		t.Errorf("backend document lost data: %v", back)
	}
	if back["http"].(map[string]any)["response"].(map[string]any)["status"] != 500.0 {
		t.Errorf("backend http = %v", back["http"])
	}

	c := s.client("http")
	sum, err := c.GetTraceSummaries(context.Background(), &awsxray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]types.TraceSummary{}
	for _, x := range sum.TraceSummaries {
		byID[aws.ToString(x.Id)] = x
	}
	ts, ok := byID[traceID]
	if !ok {
		t.Fatalf("trace %s not summarised; got %d summaries", traceID, len(byID))
	}
	if !aws.ToBool(ts.HasFault) || aws.ToString(ts.EntryPoint.Name) != "frontend" || aws.ToInt32(ts.Http.HttpStatus) != 500 ||
		aws.ToString(ts.Http.HttpMethod) != "GET" || !strings.HasSuffix(aws.ToString(ts.Http.HttpURL), "/checkout") {
		t.Errorf("summary: fault=%v entry=%v http=%+v", aws.ToBool(ts.HasFault), ts.EntryPoint, ts.Http)
	}
	names := map[string]bool{}
	for _, id := range ts.ServiceIds {
		names[aws.ToString(id.Name)] = true
	}
	if !names["frontend"] || !names["backend"] {
		t.Errorf("service ids = %v", names)
	}
	if v := ts.Annotations["customer"]; len(v) != 1 || aws.ToString(v[0].ServiceIds[0].Name) != "backend" {
		t.Errorf("annotation customer = %+v", v)
	}

	manual := s.waitDocs(seg.TraceID, 1)
	md := docsByID(t, manual)[seg.ID]
	// The SDK sometimes serialises a closed subsegment twice under the same
	// id (seen in the recordings too); the document is stored as sent.
	if md == nil || md["user"] != "ops" || len(md["subsegments"].([]any)) == 0 || md["subsegments"].([]any)[0].(map[string]any)["name"] != "step" {
		t.Errorf("manual segment = %v", md)
	}
	if m, ok := byID[seg.TraceID]; ok && len(m.Users) != 1 {
		t.Errorf("manual users = %+v", m.Users)
	}
}
