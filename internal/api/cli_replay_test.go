package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/fixtures"
)

// TestRecordedCLISearchAndGroupRequests replays the AWS CLI's own requests
// byte for byte (signed headers included) against the server.
func TestRecordedCLISearchAndGroupRequests(t *testing.T) {
	e := newSearchEnv(t, t.TempDir())
	for _, c := range []struct {
		name  string
		check func(map[string]any) bool
	}{
		{"awscli-1.45.11/create-group.http", func(m map[string]any) bool {
			g, _ := m["Group"].(map[string]any)
			return g["GroupName"] == "frontend-errors" && g["FilterExpression"] == `service("frontend") AND fault = true`
		}},
		{"awscli-1.45.11/get-groups.http", func(m map[string]any) bool {
			gs, _ := m["Groups"].([]any)
			return len(gs) == 2
		}},
		{"awscli-1.45.11/get-trace-summaries.http", func(m map[string]any) bool {
			_, ok := m["TraceSummaries"].([]any)
			return ok && m["TracesProcessedCount"] != nil
		}},
	} {
		r := fixtures.RequestNamed(c.name)
		req, err := http.NewRequest(r.Method, e.url+r.URL.Path, bytes.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m map[string]any
		if resp.StatusCode != 200 || json.Unmarshal(body, &m) != nil || !c.check(m) {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, body)
		}
	}
}
