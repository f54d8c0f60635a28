package console_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/console"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The real server answers the console, its info endpoint and the API on
// the same --http port.
func TestServedByApp(t *testing.T) {
	a := xraytest.Start(t, func(c *app.Config) { c.Version = "1.2.3" })
	base := a.URL("http")

	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "<html") {
		t.Fatalf("GET / = %d %s %.200q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}

	res, err = http.Get(base + "/console/info")
	if err != nil {
		t.Fatal(err)
	}
	var in console.Info
	err = json.NewDecoder(res.Body).Decode(&in)
	res.Body.Close()
	if err != nil || in.Version != "1.2.3" || in.UDP != a.Addr("udp").String() || in.HTTP != a.Addr("http").String() || in.Role != app.RoleAll {
		t.Fatalf("/console/info = %+v (%v), want version 1.2.3, udp %s", in, err, a.Addr("udp"))
	}

	res, err = http.Post(base+"/TraceSummaries", "application/json", strings.NewReader(`{"StartTime":1,"EndTime":2}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST /TraceSummaries through the console's mux = %d", res.StatusCode)
	}
	res, err = http.Get(base + "/TraceSummaries")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("X-Amzn-ErrorType") == "" {
		t.Errorf("GET of an API path was not answered by the API (status %d)", res.StatusCode)
	}
	res, err = http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("/health = %d", res.StatusCode)
	}
}
