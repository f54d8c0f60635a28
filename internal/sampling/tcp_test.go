package sampling_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

var timestampRe = regexp.MustCompile(`("Timestamp":\s*)([0-9]{10})`)

// replay sends a recorded request byte for byte over a raw TCP connection
// and reads the answer.
func replay(t *testing.T, addr string, raw []byte) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// The SDKs' and the CLI's recorded sampling requests, replayed on the TCP
// side of the all-in-one server: Go (chunked, no signature), Node and
// Python (unsigned), the CLI (SigV4), with and without Content-Type.
func TestRecordedSamplingRequestsOverTCP(t *testing.T) {
	a := xraytest.Start(t)
	files, _ := filepath.Glob("../fixtures/testdata/*/sampling/*.http")
	cli, _ := filepath.Glob("../fixtures/testdata/awscli-*/*sampling*.http")
	files = append(files, cli...)
	if len(files) < 6 {
		t.Fatalf("found only %d recorded sampling requests", len(files))
	}
	now := strconv.FormatInt(time.Now().Unix(), 10)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Reports carry their recording time; move it to now (same width,
		// so Content-Length and chunk sizes still hold).
		fresh := timestampRe.ReplaceAll(raw, []byte("${1}"+now))
		variants := map[string][]byte{"as recorded": fresh}
		if bytes.Contains(fresh, []byte("Content-Type: application/json\r\n")) && !strings.Contains(f, "create-") {
			variants["without Content-Type"] = bytes.Replace(fresh, []byte("Content-Type: application/json\r\n"), nil, 1)
		}
		for name, req := range variants {
			resp, body := replay(t, a.Addr("tcp").String(), req)
			if resp.StatusCode != 200 {
				t.Errorf("%s (%s): %d %s", f, name, resp.StatusCode, body)
				continue
			}
			checkSamplingAnswer(t, f+" ("+name+")", body)
		}
	}
	// A report from long ago is answered, not refused: UnprocessedStatistics
	// with a 4xx code makes the SDK fetch rules again.
	raw, _ := os.ReadFile("../fixtures/testdata/node-sdk-3.12.0/sampling/012.http")
	raw = timestampRe.ReplaceAll(raw, []byte("${1}1000000000"))
	resp, body := replay(t, a.Addr("tcp").String(), raw)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"UnprocessedStatistics":[{"RuleName":"Default","ErrorCode":"400"`) {
		t.Errorf("stale report: %d %s", resp.StatusCode, body)
	}
}

// checkSamplingAnswer checks what the SDKs require of each answer (spec
// §5.3): every SamplingRule member present with Attributes an object;
// targets with FixedRate, and LastRuleModification a number.
func checkSamplingAnswer(t *testing.T, what string, body []byte) {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s: %v: %s", what, err, body)
	}
	if recs, ok := out["SamplingRuleRecords"].([]any); ok {
		for _, r := range recs {
			rec := r.(map[string]any)
			rule := rec["SamplingRule"].(map[string]any)
			for _, m := range []string{"RuleName", "RuleARN", "ResourceARN", "Priority", "FixedRate", "ReservoirSize", "ServiceName",
				"ServiceType", "Host", "HTTPMethod", "URLPath", "Version"} {
				if rule[m] == nil {
					t.Errorf("%s: rule %v lacks %s", what, rule["RuleName"], m)
				}
			}
			if _, ok := rule["Attributes"].(map[string]any); !ok {
				t.Errorf("%s: rule %v has Attributes %v, want an object", what, rule["RuleName"], rule["Attributes"])
			}
			if _, ok := rule["SamplingRateBoost"]; ok {
				t.Errorf("%s: rule %v carries an unset SamplingRateBoost", what, rule["RuleName"])
			}
			if _, ok := rec["ModifiedAt"].(float64); !ok {
				t.Errorf("%s: ModifiedAt %v is not a number", what, rec["ModifiedAt"])
			}
		}
		return
	}
	if _, ok := out["SamplingRuleRecord"]; ok {
		return // CreateSamplingRule
	}
	if _, ok := out["LastRuleModification"].(float64); !ok {
		t.Errorf("%s: LastRuleModification %v is not a number: %s", what, out["LastRuleModification"], body)
	}
	docs, _ := out["SamplingTargetDocuments"].([]any)
	if len(docs) != 1 {
		t.Fatalf("%s: want one target: %s", what, body)
	}
	d := docs[0].(map[string]any)
	for _, m := range []string{"RuleName", "FixedRate", "ReservoirQuota", "ReservoirQuotaTTL", "Interval"} {
		if _, ok := d[m].(any); !ok || d[m] == nil {
			t.Errorf("%s: target lacks %s: %s", what, m, body)
		}
	}
	if _, ok := out["UnprocessedStatistics"].([]any); !ok {
		t.Errorf("%s: UnprocessedStatistics is not a list: %s", what, body)
	}
}
