package sampling_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// second is one line of the driver's output.
type second struct {
	Sec       int            `json:"sec"`
	Requests  int            `json:"requests"`
	Sampled   map[string]int `json:"sampled"`
	Unsampled map[string]int `json:"unsampled"`
}

type driverRun struct {
	seconds []second
	stderr  string
}

// total sums decisions made by rule in seconds [from, to).
func (r driverRun) total(rule string, from, to int) (decided, sampled int) {
	for _, s := range r.seconds {
		if s.Sec >= from && s.Sec < to {
			decided += s.Sampled[rule] + s.Unsampled[rule]
			sampled += s.Sampled[rule]
		}
	}
	return
}

// runDriver starts one SDK process against the app; wait returns its output.
func runDriver(t *testing.T, a *xraytest.Server, service string, rate int, d time.Duration) (wait func() driverRun) {
	t.Helper()
	cmd := exec.Command(sdkDriver(t), "-service", service, "-rate", fmt.Sprint(rate), "-duration", d.String())
	cmd.Env = append(os.Environ(), fmt.Sprintf("AWS_XRAY_DAEMON_ADDRESS=tcp:%s udp:%s", a.Addr("tcp"), a.Addr("udp")))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	var run driverRun
	return func() driverRun {
		once.Do(func() {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("driver %s: %v\n%s", service, err, errb.String())
			}
			run.stderr = errb.String()
			sc := bufio.NewScanner(&out)
			for sc.Scan() {
				var s second
				if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
					t.Fatalf("driver output %q: %v", sc.Text(), err)
				}
				run.seconds = append(run.seconds, s)
			}
		})
		return run
	}
}

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs official SDK processes for many seconds")
	}
}

func createRule(c *xray.Client, name, service string, priority int32, rate float64, reservoir int32) error {
	_, err := c.CreateSamplingRule(bg, &xray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: aws.String(name), ResourceARN: aws.String("*"), Priority: aws.Int32(priority),
		FixedRate: rate, ReservoirSize: reservoir, ServiceName: aws.String(service), ServiceType: aws.String("*"),
		Host: aws.String("*"), HTTPMethod: aws.String("*"), URLPath: aws.String("*"), Version: aws.Int32(1),
	}})
	return err
}

func putRule(t *testing.T, c *xray.Client, name, service string, priority int32, rate float64, reservoir int32) {
	t.Helper()
	if err := createRule(c, name, service, priority, rate, reservoir); err != nil {
		t.Fatal(err)
	}
}

func setDefault(t *testing.T, c *xray.Client, rate float64, reservoir int32) {
	t.Helper()
	_, err := c.UpdateSamplingRule(bg, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{
		RuleName: aws.String("Default"), FixedRate: aws.Float64(rate), ReservoirSize: aws.Int32(reservoir)}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOfficialSDKs runs every scenario with real SDK processes at once, each
// against its own server, then checks them one by one: the scenarios mostly
// wait on SDK timers, so together they take as long as the longest (~65 s).
func TestOfficialSDKs(t *testing.T) {
	skipShort(t)
	scenarios := []struct {
		name  string
		start func(t *testing.T) (check func(t *testing.T))
	}{
		{"GoRules", goSDKFollowsRules},
		{"GoNewRule", goSDKPicksUpNewRule},
		{"GoFleet", goSDKFleetSharesReservoir},
		{"Python", pythonSDK},
	}
	checks := make([]func(*testing.T), len(scenarios))
	for i, s := range scenarios {
		checks[i] = s.start(t)
	}
	for i, s := range scenarios {
		t.Run(s.name, checks[i])
	}
}

// A rule with FixedRate 1 for one service samples all of it, while the
// rest of the traffic follows Default at 0.5.
func goSDKFollowsRules(t *testing.T) func(*testing.T) {
	a := xraytest.Start(t)
	c := client(t, a)
	putRule(t, c, "checkout-all", "checkout", 10, 1, 0)
	setDefault(t, c, 0.5, 0)

	waitAll := runDriver(t, a, "checkout", 50, 8*time.Second)
	waitHalf := runDriver(t, a, "other", 100, 8*time.Second)
	return func(t *testing.T) {
		all, half := waitAll(), waitHalf()

		decided, sampled := all.total("checkout-all", 0, 100)
		if decided < 250 || sampled != decided {
			t.Errorf("checkout-all: %d of %d decisions sampled, want all of at least 250", sampled, decided)
		}
		if d, _ := all.total("Default", 0, 100); d != 0 {
			t.Errorf("%d checkout requests fell to Default", d)
		}
		n, k := half.total("Default", 0, 100)
		// Binomial(n, 0.5): allow 4.5 standard deviations (false alarm < 1e-5).
		if bound := 4.5 * math.Sqrt(float64(n)/4); n < 500 || math.Abs(float64(k)-float64(n)/2) > bound {
			t.Errorf("Default at 0.5: %d of %d sampled, want %d ± %.0f", k, n, n/2, bound)
		}
	}
}

// A rule created while the SDK runs takes effect at the SDK's next targets
// report: LastRuleModification is newer than its last rules fetch, so it
// fetches the rules out of band.
func goSDKPicksUpNewRule(t *testing.T) func(*testing.T) {
	a := xraytest.Start(t)
	c := client(t, a)
	setDefault(t, c, 0, 0)
	wait := runDriver(t, a, "late", 20, 24*time.Second)
	created := make(chan error, 1)
	go func() {
		time.Sleep(3 * time.Second)
		created <- createRule(c, "late-all", "late", 1, 1, 0)
	}()
	return func(t *testing.T) {
		if err := <-created; err != nil {
			t.Fatal(err)
		}
		run := wait()

		if d, s := run.total("Default", 0, 3); d < 20 || s != 0 {
			t.Errorf("before the rule: Default sampled %d of %d, want 0 of at least 20", s, d)
		}
		if d, s := run.total("late-all", 16, 24); d < 100 || s != d {
			t.Errorf("after the next report: late-all sampled %d of %d, want all of at least 100", s, d)
		}
		if !strings.Contains(run.stderr, "out-of-band") {
			t.Errorf("the SDK did not log an out-of-band rules refresh:\n%s", run.stderr)
		}
		if strings.Contains(strings.ToLower(run.stderr), "error") {
			t.Errorf("the SDK logged errors:\n%s", run.stderr)
		}
	}
}

// Three SDK processes share a rule with ReservoirSize 10 and FixedRate 0 at
// 50, 100 and 150 requests per second. The server splits the reservoir by
// traffic share: 1.67, 3.33 and 5 → quotas 2, 3 and 5 (largest remainder),
// so the fleet samples 10 per second and each process its quota.
//
// Tolerance: quotas never sum past 10 and the SDK takes at most its quota
// per wall-clock second, so over W whole seconds a process samples at most
// quota·(W+1) (its seconds and the SDK's are not aligned). The lower bound
// allows one unit of the reservoir to be idle for a report interval. The
// measured window starts at 30 s: the first report (10 s) sizes the first
// reporter alone, the second (20 s) converges.
func goSDKFleetSharesReservoir(t *testing.T) func(*testing.T) {
	a := xraytest.Start(t)
	c := client(t, a)
	putRule(t, c, "fleet", "fleet", 1, 0, 10)

	rates := []int{50, 100, 150}
	want := []float64{2, 3, 5}
	var waits []func() driverRun
	for _, r := range rates {
		waits = append(waits, runDriver(t, a, "fleet", r, 60*time.Second))
	}
	return func(t *testing.T) {
		const from, to = 30, 59
		w := float64(to - from)
		fleet := 0.0
		requests := 0
		for i, wait := range waits {
			run := wait()
			_, sampled := run.total("fleet", from, to)
			got := float64(sampled) / w
			fleet += got
			t.Logf("client at %d req/s: %.2f sampled/s (want %.0f)", rates[i], got, want[i])
			if got < want[i]-0.5 || got > want[i]*(w+1)/w+0.01 {
				t.Errorf("client at %d req/s sampled %.2f/s, want its quota %.0f", rates[i], got, want[i])
			}
			d, _ := run.total("fleet", 0, 100)
			requests += d
		}
		t.Logf("fleet: %.2f sampled/s", fleet)
		if fleet < 9 || fleet > 10*(w+1)/w+0.01 {
			t.Errorf("fleet sampled %.2f/s, want 10 (ReservoirSize)", fleet)
		}

		// The reports the clients sent are in the statistics windows.
		out, err := c.GetSamplingStatisticSummaries(bg, &xray.GetSamplingStatisticSummariesInput{})
		if err != nil {
			t.Fatal(err)
		}
		reported := 0
		for _, s := range out.SamplingStatisticSummaries {
			if aws.ToString(s.RuleName) == "fleet" {
				reported += int(s.RequestCount)
			}
		}
		if reported < requests*7/10 || reported > requests {
			t.Errorf("statistics windows hold %d fleet requests, the clients made %d", reported, requests)
		}
	}
}
