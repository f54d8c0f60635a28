package sampling_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// The Python SDK preinstalled on the machine fetches the rules, samples by
// them and reports statistics, all without logging an error.
func pythonSDK(t *testing.T) func(*testing.T) {
	if err := exec.Command("python3", "-c", "import aws_xray_sdk").Run(); err != nil {
		return func(t *testing.T) { t.Skip("python3 with aws-xray-sdk is not installed") }
	}
	a := xraytest.Start(t)
	c := client(t, a)
	putRule(t, c, "py-all", "py-svc", 5, 1, 0)

	addr := fmt.Sprintf("tcp:%s udp:%s", a.Addr("tcp"), a.Addr("udp"))
	cmd := exec.Command("python3", "testdata/python_driver.py", addr, "py-svc", "10", "13")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T) {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("python driver: %v\n%s", err, errb.String())
		}
		byRule := map[string]int{}
		unsampled := 0
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			var sec, sampled int
			var rule string
			if _, err := fmt.Sscan(sc.Text(), &sec, &sampled, &rule); err != nil {
				t.Fatalf("driver line %q: %v", sc.Text(), err)
			}
			if sec >= 2 {
				byRule[rule]++
				if sampled == 0 {
					unsampled++
				}
			}
		}
		if byRule["py-all"] < 80 || len(byRule) != 1 || unsampled != 0 {
			t.Errorf("after 2 s: decisions by rule %v, %d unsampled; want all by py-all, sampled", byRule, unsampled)
		}
		logs := errb.String()
		for _, bad := range []string{"ERROR", "Traceback", "Encountered an issue"} {
			if strings.Contains(logs, bad) {
				t.Errorf("the Python SDK logged %q:\n%s", bad, logs)
			}
		}
		// Its ~10 s report reached the statistics windows.
		sums, err := c.GetSamplingStatisticSummaries(bg, &xray.GetSamplingStatisticSummariesInput{})
		if err != nil {
			t.Fatal(err)
		}
		reported := int32(0)
		for _, s := range sums.SamplingStatisticSummaries {
			if aws.ToString(s.RuleName) == "py-all" {
				reported += s.RequestCount
			}
		}
		if reported < 50 {
			t.Errorf("statistics hold %d py-all requests, want the SDK's report of ~100:\n%s", reported, logs)
		}
	}
}
