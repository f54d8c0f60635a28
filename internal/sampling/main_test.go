package sampling_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"go.uber.org/goleak"
)

var (
	driverOnce sync.Once
	driverDir  string
	driverPath string
	driverErr  error
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) {
		if driverDir != "" {
			os.RemoveAll(driverDir)
		}
	}))
}

// sdkDriver builds the Go SDK driver program once per test run.
func sdkDriver(t *testing.T) string {
	t.Helper()
	driverOnce.Do(func() {
		driverDir, driverErr = os.MkdirTemp("", "sdkdriver")
		if driverErr != nil {
			return
		}
		driverPath = filepath.Join(driverDir, "sdkdriver")
		out, err := exec.Command("go", "build", "-o", driverPath, "github.com/roentgen-tracing/roentgen/internal/sampling/sdkdriver").CombinedOutput()
		if err != nil {
			driverErr = &buildError{err, string(out)}
		}
	})
	if driverErr != nil {
		t.Fatalf("building the SDK driver: %v", driverErr)
	}
	return driverPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// startApp runs the all-in-one server on loopback with free ports.
func startApp(t *testing.T) *app.App {
	t.Helper()
	a, err := app.Start(app.Config{
		DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop() })
	return a
}

// client is an aws-sdk-go-v2 X-Ray client that signs with SigV4 and talks
// to the app's API port.
func client(t *testing.T, a *app.App) *xray.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return xray.New(xray.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String("http://" + a.Addr("http").String()),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:       &http.Client{Transport: tr},
		RetryMaxAttempts: 1,
	})
}

var bg = context.Background()
