package sampling_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
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

// client is the server's X-Ray client, making one attempt per call.
func client(t *testing.T, a *xraytest.Server) *xray.Client {
	return a.Client(t, func(o *xray.Options) { o.RetryMaxAttempts = 1 })
}

// post sends an unsigned JSON request to one of a's listeners.
func post(t *testing.T, a *xraytest.Server, listener, path, body string) (int, string) {
	t.Helper()
	resp, b := xraytest.Post(t, a.URL(listener)+path, "application/json", []byte(body))
	return resp.StatusCode, string(b)
}

var bg = context.Background()
