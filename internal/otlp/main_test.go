package otlp_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The OpenTelemetry SDK and the X-Ray SDK keep process-wide
		// goroutines once used; pebble's and glog-style loggers likewise.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreAnyFunction("github.com/aws/aws-xray-sdk-go/xray.(*DefaultEmitter).RefreshEmitterWithAddress"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// startApp runs the real all-in-one server on loopback ports.
func startApp(t *testing.T) *app.App {
	t.Helper()
	a, err := app.Start(app.Config{
		DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0",
		OTLPGRPCAddr: "127.0.0.1:0", OTLPHTTPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop() })
	return a
}

// xrayClient is aws-sdk-go-v2's X-Ray client against the app (SigV4-signed).
func xrayClient(a *app.App) *xray.Client {
	return xray.New(xray.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String("http://" + a.Addr("http").String()),
		HTTPClient:   &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	})
}

// segments returns the trace's documents by id, waiting up to 5 s for at
// least n of them (UDP ingest is asynchronous).
func segments(t *testing.T, c *xray.Client, traceID string, n int) map[string]map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{traceID}})
		if err != nil {
			t.Fatal(err)
		}
		docs := map[string]map[string]any{}
		for _, tr := range out.Traces {
			for _, s := range tr.Segments {
				var m map[string]any
				if err := json.Unmarshal([]byte(aws.ToString(s.Document)), &m); err != nil {
					t.Fatal(err)
				}
				if m["inferred"] == true {
					continue
				}
				docs[aws.ToString(s.Id)] = m
			}
		}
		if len(docs) >= n || time.Now().After(deadline) {
			if len(docs) < n {
				t.Fatalf("trace %s has %d documents, want %d", traceID, len(docs), n)
			}
			return docs
		}
		time.Sleep(50 * time.Millisecond)
	}
}
