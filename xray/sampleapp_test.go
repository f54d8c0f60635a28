package xray_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsxray "github.com/aws/aws-sdk-go-v2/service/xray"

	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// The sample program differs between its two variants in import paths only.
func TestSampleAppDiffersOnlyInImports(t *testing.T) {
	off, _ := os.ReadFile("testdata/sampleapp/official/main.go")
	rt, _ := os.ReadFile("testdata/sampleapp/roentgen/main.go")
	strip := func(b []byte) (code, imports []string) {
		for _, l := range strings.Split(string(b), "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, `"github.com/aws/aws-xray-sdk-go/`) || strings.HasPrefix(l, `"github.com/roentgen-tracing/roentgen/xray`) {
				imports = append(imports, strings.NewReplacer(`"github.com/aws/aws-xray-sdk-go/xray"`, `"github.com/roentgen-tracing/roentgen/xray"`,
					`"github.com/aws/aws-xray-sdk-go/`, `"github.com/roentgen-tracing/roentgen/xray/`).Replace(l))
				continue
			}
			if l != "" {
				code = append(code, l)
			}
		}
		sort.Strings(imports)
		return code, imports
	}
	c1, i1 := strip(off)
	c2, i2 := strip(rt)
	if len(c1) < 50 || !reflect.DeepEqual(c1, c2) || !reflect.DeepEqual(i1, i2) {
		t.Fatalf("the variants differ beyond imports:\n%v\n%v", i1, i2)
	}
}

// The sample program built once with aws-xray-sdk-go and once with this
// package: Roentgen stores the same segments, subsegments, namespaces and
// service graph for both.
func TestSampleAppTracesMatchOfficialSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs")
	}
	off := runSample(t, "official")
	rt := runSample(t, "roentgen")
	// aws-xray-sdk-go sometimes embeds a subsegment of the failing request
	// twice, with one id, in the segment it sends (seen in CI: every
	// subsegment of req1's backend doubled): a race in that SDK between the
	// request context ending and the subsegments closing. Such copies are
	// left out of its lines; this package must never send one.
	if rt.dups != 0 {
		t.Errorf("this package embedded %d subsegments twice in one parent", rt.dups)
	}
	if off.dups != 0 {
		t.Logf("aws-xray-sdk-go embedded %d subsegments twice in one parent (left out of the comparison)", off.dups)
	}
	if !reflect.DeepEqual(off.traces, rt.traces) {
		t.Errorf("traces differ:\naws-xray-sdk-go:\n%s\nroentgen:\n%s", strings.Join(off.traces, "\n"), strings.Join(rt.traces, "\n"))
	}
	if !reflect.DeepEqual(off.graph, rt.graph) {
		t.Errorf("service graphs differ:\naws-xray-sdk-go: %v\nroentgen:        %v", off.graph, rt.graph)
	}
	if len(off.graph) < 4 {
		t.Errorf("service graph too small: %v", off.graph)
	}
}

type sampleResult struct {
	traces []string // one canonical line per document and subsegment
	graph  []string // nodes and edges
	dups   int      // subsegments embedded twice (same id) in one parent
}

func runSample(t *testing.T, variant string) sampleResult {
	t.Helper()
	bin := filepath.Join(t.TempDir(), variant)
	build := exec.Command("go", "build", "-o", bin, "./testdata/sampleapp/"+variant)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", variant, err, out)
	}
	s := xraytest.Start(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "DAEMON="+s.Addr("udp").String(), "AWS_XRAY_DAEMON_ADDRESS=")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	// aws-xray-sdk-go logs to standard output too; skip to READY.
	br := bufio.NewReader(stdout)
	var url string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("%s did not start: %v", variant, err)
		}
		if u, ok := strings.CutPrefix(strings.TrimSpace(line), "READY "); ok {
			url = u
			break
		}
	}
	go io.Copy(io.Discard, br)
	from := time.Now().Add(-time.Minute)
	var ids []string
	for _, path := range []string{"/ok", "/fail"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		root, _, _ := strings.Cut(strings.TrimPrefix(resp.Header.Get("X-Amzn-Trace-Id"), "Root="), ";")
		ids = append(ids, root)
	}
	c := s.Client(t)
	var res sampleResult
	for i, id := range ids {
		var docs []*string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			out, err := c.BatchGetTraces(context.Background(), &awsxray.BatchGetTracesInput{TraceIds: []string{id}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Traces) == 1 && len(out.Traces[0].Segments) >= 2 {
				docs = nil
				for _, sg := range out.Traces[0].Segments {
					docs = append(docs, sg.Document)
				}
				if traceComplete(docs) {
					break
				}
			}
		}
		if len(docs) < 2 {
			t.Fatalf("%s: trace %s has %d documents", variant, id, len(docs))
		}
		var lines []string
		for _, d := range docs {
			var m map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(d)), &m); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, canonical(m, fmt.Sprintf("req%d", i), &res.dups)...)
		}
		sort.Strings(lines)
		res.traces = append(res.traces, lines...)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		g, err := c.GetServiceGraph(context.Background(), &awsxray.GetServiceGraphInput{StartTime: aws.Time(from), EndTime: aws.Time(time.Now().Add(time.Minute))})
		if err != nil {
			t.Fatal(err)
		}
		res.graph = nil
		names := map[int32]string{}
		for _, sv := range g.Services {
			names[aws.ToInt32(sv.ReferenceId)] = aws.ToString(sv.Name) + "(" + aws.ToString(sv.Type) + ")"
		}
		for _, sv := range g.Services {
			res.graph = append(res.graph, "node "+names[aws.ToInt32(sv.ReferenceId)])
			for _, e := range sv.Edges {
				res.graph = append(res.graph, "edge "+names[aws.ToInt32(sv.ReferenceId)]+" -> "+names[aws.ToInt32(e.ReferenceId)])
			}
		}
		sort.Strings(res.graph)
		if len(res.graph) >= 7 {
			break
		}
	}
	return res
}

// traceComplete reports whether every document's parent is in the trace:
// the backend's segment arrives before the frontend's that holds its
// parent, and a service graph read in between shows the backend called by
// a client of its own.
func traceComplete(docs []*string) bool {
	ids := map[string]bool{}
	var parents []string
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		if id, ok := m["id"].(string); ok {
			ids[id] = true
		}
		subs, _ := m["subsegments"].([]any)
		for _, s := range subs {
			if sm, ok := s.(map[string]any); ok {
				walk(sm)
			}
		}
	}
	for _, d := range docs {
		var m map[string]any
		if json.Unmarshal([]byte(aws.ToString(d)), &m) != nil {
			return false
		}
		if p, ok := m["parent_id"].(string); ok {
			parents = append(parents, p)
		}
		walk(m)
	}
	for _, p := range parents {
		if !ids[p] {
			return false
		}
	}
	return true
}

// connectionPhases depend on connection reuse timing, not on the SDK.
var connectionPhases = map[string]bool{"connect": true, "dns": true, "dial": true, "tls": true}

// canonical describes a document and its subsegments by what the service
// uses: names, namespaces, flags, status, annotations, metadata namespaces,
// sql and aws fields — not ids, times or host ports.
func canonical(m map[string]any, prefix string, dups *int) []string {
	var out []string
	var walk func(m map[string]any, path string)
	walk = func(m map[string]any, path string) {
		name, _ := m["name"].(string)
		if connectionPhases[name] {
			return
		}
		if strings.HasPrefix(name, "127.0.0.1:") {
			name = "127.0.0.1:*"
		}
		path += "/" + name
		var f []string
		for _, k := range []string{"namespace", "origin", "fault", "error", "throttle", "type"} {
			if v, ok := m[k]; ok {
				f = append(f, fmt.Sprintf("%s=%v", k, v))
			}
		}
		if h, ok := m["http"].(map[string]any); ok {
			if r, ok := h["response"].(map[string]any); ok {
				f = append(f, fmt.Sprintf("status=%v", r["status"]))
			}
			if r, ok := h["request"].(map[string]any); ok {
				f = append(f, fmt.Sprintf("method=%v", r["method"]))
			}
		}
		if a, ok := m["annotations"].(map[string]any); ok {
			f = append(f, fmt.Sprintf("annotations=%v", a))
		}
		if md, ok := m["metadata"].(map[string]any); ok {
			var ns []string
			for k := range md {
				ns = append(ns, k)
			}
			sort.Strings(ns)
			f = append(f, fmt.Sprintf("metadata=%v", ns))
		}
		if q, ok := m["sql"].(map[string]any); ok {
			f = append(f, fmt.Sprintf("sql=%v,%v,%v,%v", q["url"], q["database_type"], q["user"], q["sanitized_query"]))
		}
		if a, ok := m["aws"].(map[string]any); ok {
			f = append(f, fmt.Sprintf("aws=%v,%v,%v", a["operation"], a["region"], a["request_id"]))
		}
		if c, ok := m["cause"].(map[string]any); ok {
			var types []string
			for _, e := range c["exceptions"].([]any) {
				types = append(types, fmt.Sprint(e.(map[string]any)["type"], ":", e.(map[string]any)["message"]))
			}
			f = append(f, fmt.Sprintf("exceptions=%v", types))
		}
		out = append(out, prefix+path+" "+strings.Join(f, " "))
		subs, _ := m["subsegments"].([]any)
		seen := map[any]bool{}
		for _, s := range subs {
			sm := s.(map[string]any)
			if id := sm["id"]; id != nil && seen[id] {
				*dups++ // counted, compared apart (TestSampleAppTracesMatchOfficialSDK)
				continue
			}
			seen[sm["id"]] = true
			walk(sm, path)
		}
	}
	walk(m, "")
	return out
}
