package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/cockroachdb/pebble/v2/internal/invariants.init.func1"))
}

// hermetic points the AWS configuration at nothing but static keys, so
// that the machine's own files or IMDS play no part.
func hermetic(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_XRAY", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
}

func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// knownTrace is a checkout: a frontend segment calling a payments service
// (which fails) and a database, one of its subsegments streamed on its own.
func knownTrace(base int64) (string, []string) {
	id := fmt.Sprintf("1-%08x-%024x", base, 42)
	t := func(off float64) string {
		return fmt.Sprintf("%d.%06d", base+int64(off), int((off-float64(int64(off)))*1e6))
	}
	return id, []string{
		`{"trace_id":"` + id + `","id":"a000000000000001","name":"frontend","origin":"AWS::EC2::Instance","start_time":` + t(0) + `,"end_time":` + t(1) +
			`,"http":{"request":{"method":"POST","url":"https://shop.example.com/checkout"},"response":{"status":502}},"fault":true,` +
			`"subsegments":[{"id":"b000000000000001","name":"payments.example.com","namespace":"remote","start_time":` + t(0.125) + `,"end_time":` + t(0.625) +
			`,"http":{"request":{"method":"POST","url":"https://payments.example.com/charge"},"response":{"status":500}},"fault":true},` +
			`{"id":"b000000000000002","name":"render","start_time":` + t(0.75) + `,"end_time":` + t(0.875) + `}]}`,
		`{"trace_id":"` + id + `","id":"c000000000000001","parent_id":"b000000000000001","name":"payments","start_time":` + t(0.25) + `,"end_time":` + t(0.5) +
			`,"http":{"response":{"status":500}},"fault":true,"subsegments":[{"id":"d000000000000001","name":"validate","start_time":` + t(0.25) + `,"end_time":` + t(0.3125) + `,"error":true}]}`,
		`{"type":"subsegment","trace_id":"` + id + `","id":"e000000000000001","parent_id":"c000000000000001","name":"orders-db","namespace":"remote","start_time":` + t(0.3125) + `,"end_time":` + t(0.4375) +
			`,"sql":{"url":"postgres://db/orders"},"throttle":true}`,
	}
}

func put(t *testing.T, c *xray.Client, docs []string) {
	t.Helper()
	out, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.UnprocessedTraceSegments) > 0 {
		t.Fatalf("unprocessed: %s", aws.ToString(out.UnprocessedTraceSegments[0].Message))
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

// The timeline of a known trace: every document's (sub)segment on its own
// line, nested as sent (the streamed subsegment under its parent, the
// payments segment under the call that made it), bars placed by time.
func TestTraceTimeline(t *testing.T) {
	hermetic(t)
	a := xraytest.NewAPI(t, t.TempDir())
	base := time.Now().Unix() - 60
	id, docs := knownTrace(base)
	put(t, a.Client(t), docs)
	out, errOut, code := runCLI(t, "", "trace", id, "--endpoint", a.URL, "--width", "40")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "timeline.golden", strings.ReplaceAll(out, id, "TRACE_ID"))

	// --output json: the same rows, for scripts.
	out, errOut, code = runCLI(t, "", "trace", "--output", "json", id, "--endpoint", a.URL)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var j struct {
		Id    string
		Spans []row
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range j.Spans {
		names = append(names, fmt.Sprintf("%d:%s", r.Depth, r.Name))
	}
	if want := "[0:frontend 1:payments.example.com 2:payments 3:validate 3:orders-db 1:render]"; fmt.Sprint(names) != want || j.Id != id {
		t.Errorf("json rows %v, want %s", names, want)
	}
	if _, errOut, code := runCLI(t, "", "trace", "1-00000000-000000000000000000000000", "--endpoint", a.URL); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown trace: exit %d %q", code, errOut)
	}
}

func TestTracesAndGraph(t *testing.T) {
	hermetic(t)
	a := xraytest.NewAPI(t, t.TempDir())
	id, docs := knownTrace(time.Now().Unix() - 60)
	put(t, a.Client(t), docs)
	t.Setenv("AWS_ENDPOINT_URL_XRAY", a.URL) // honoured without --endpoint

	out, errOut, code := runCLI(t, "", "traces", "--since", "5m")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "FAULT") || !strings.Contains(out, "POST https://shop.example.com/checkout 502") {
		t.Fatalf("traces: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = runCLI(t, "", "traces", "--filter", `service("nothing-here")`, "-o", "json")
	var sums struct{ TraceSummaries []map[string]any }
	if code != 0 || json.Unmarshal([]byte(out), &sums) != nil || len(sums.TraceSummaries) != 0 {
		t.Fatalf("filtered traces: exit %d %s", code, out)
	}
	if _, errOut, code := runCLI(t, "", "traces", "--filter", `service(`); code != 1 || !strings.Contains(errOut, "InvalidRequestException") {
		t.Errorf("bad filter: exit %d %s", code, errOut)
	}

	out, errOut, code = runCLI(t, "", "graph", "--since", "5m")
	if code != 0 {
		t.Fatalf("graph: exit %d %s", code, errOut)
	}
	for _, want := range []string{"frontend", "payments", "-> payments", "orders-db"} {
		if !strings.Contains(out, want) {
			t.Errorf("graph lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runCLI(t, "", "graph", "--output", "json")
	var g struct{ Services []map[string]any }
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil || len(g.Services) < 3 {
		t.Errorf("graph json: exit %d %s", code, out)
	}
	if _, _, code := runCLI(t, "", "graph", "--output", "yaml"); code != 2 {
		t.Errorf("--output yaml: exit %d, want 2", code)
	}
}

// Export from one server, import into a fresh one: the same BatchGetTraces
// answer, byte for byte (the streamed subsegment travels grafted, so 4
// documents go for the 6 sent).
func TestExportImportRoundTrip(t *testing.T) {
	hermetic(t)
	a := xraytest.NewAPI(t, t.TempDir())
	base := time.Now().Unix() - 60
	id, docs := knownTrace(base)
	id2, docs2 := knownTrace(base - 1)
	put(t, a.Client(t), append(docs, docs2...))

	exp, errOut, code := runCLI(t, "", "export", id, id2, "--endpoint", a.URL)
	if code != 0 {
		t.Fatalf("export: exit %d %s", code, errOut)
	}
	b := xraytest.NewAPI(t, t.TempDir())
	if _, errOut, code := runCLI(t, exp, "import", "-", "--endpoint", b.URL); code != 0 || !strings.Contains(errOut, "imported 4 documents of 2 traces") {
		t.Fatalf("import: exit %d %s", code, errOut)
	}
	again, errOut, code := runCLI(t, "", "export", id, id2, "--endpoint", b.URL)
	if code != 0 {
		t.Fatalf("export after import: exit %d %s", code, errOut)
	}
	if again != exp {
		t.Errorf("BatchGetTraces differs after export and import:\nbefore %s\nafter  %s", exp, again)
	}
	// A file works as well as standard input; an unknown id is reported.
	f := filepath.Join(t.TempDir(), "t.json")
	if err := os.WriteFile(f, []byte(exp), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCLI(t, "", "import", f, "--endpoint", b.URL); code != 0 {
		t.Errorf("import %s: exit %d %s", f, code, errOut)
	}
	if _, errOut, code := runCLI(t, "", "export", "1-00000000-000000000000000000000000", "--endpoint", a.URL); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("export of an unknown id: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "not json", "import", "-", "--endpoint", b.URL); code != 1 || !strings.Contains(errOut, "not a BatchGetTraces answer") {
		t.Errorf("import of garbage: exit %d %s", code, errOut)
	}
}
