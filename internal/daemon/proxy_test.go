package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

type captured struct {
	method, path string
	header       http.Header
	body         []byte
}

// recorder is an upstream that records requests and answers teapot bodies.
func recorder(t *testing.T) (*httptest.Server, func() []captured) {
	var mu sync.Mutex
	var reqs []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h := r.Header.Clone()
		h.Set("Host", r.Host)
		mu.Lock()
		reqs = append(reqs, captured{r.Method, r.URL.Path, h, b})
		mu.Unlock()
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, `{"from":"upstream"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured { mu.Lock(); defer mu.Unlock(); return append([]captured(nil), reqs...) }
}

// An SDK's unsigned, chunked sampling call leaves the proxy signed with
// SigV4 (service xray, the daemon's region and credentials from the
// standard chain); the signature verifies, and the upstream's answer comes
// back verbatim.
func TestProxySignsSamplingCalls(t *testing.T) {
	up, reqs := recorder(t)
	d := startDaemon(t, testConfig(up.URL))
	body := `{"SamplingStatisticsDocuments":[]}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.Addr("tcp").String()+"/SamplingTargets", io.NopCloser(strings.NewReader(body)))
	req.ContentLength = -1 // chunked, as some SDKs send
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || string(got) != `{"from":"upstream"}` || resp.Header.Get("X-Upstream") != "yes" {
		t.Fatalf("answer %d %s %v", resp.StatusCode, got, resp.Header)
	}
	rs := reqs()
	if len(rs) != 1 || rs[0].path != "/SamplingTargets" || string(rs[0].body) != body {
		t.Fatalf("upstream saw %+v", rs)
	}
	c := rs[0]
	auth := c.header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDDAEMONTEST/") || !strings.Contains(auth, "/us-east-1/xray/aws4_request") {
		t.Fatalf("Authorization = %q", auth)
	}
	// Verify: sign the request the upstream saw again, at its time.
	when, err := time.Parse("20060102T150405Z", c.header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	check, _ := http.NewRequest(c.method, up.URL+c.path, bytes.NewReader(c.body))
	for k, v := range c.header {
		if k != "Authorization" && k != "Host" {
			check.Header[k] = v
		}
	}
	check.ContentLength = int64(len(c.body))
	sum := sha256.Sum256(c.body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDDAEMONTEST", SecretAccessKey: "daemon-secret"},
		check, hex.EncodeToString(sum[:]), "xray", "us-east-1", when); err != nil {
		t.Fatal(err)
	}
	if check.Header.Get("Authorization") != auth {
		t.Errorf("signature does not verify:\n got  %s\n want %s", auth, check.Header.Get("Authorization"))
	}
}

// Through the proxy to a real Roentgen: the SDKs' two sampling calls.
func TestProxyToRoentgen(t *testing.T) {
	srv := xraytest.Start(t)
	d := startDaemon(t, testConfig(srv.URL("http")))
	base := "http://" + d.Addr("tcp").String()
	resp, body := xraytest.Post(t, base+"/GetSamplingRules", "", []byte(`{"NextToken":null}`))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"RuleName":"Default"`) {
		t.Errorf("GetSamplingRules: %d %s", resp.StatusCode, body)
	}
	resp, body = xraytest.Post(t, base+"/SamplingTargets", "application/json",
		[]byte(`{"SamplingStatisticsDocuments":[{"RuleName":"Default","ClientID":"0123456789abcdef01234567","Timestamp":`+
			strconv.FormatInt(time.Now().Unix(), 10)+`,"RequestCount":1,"SampledCount":1,"BorrowCount":0}]}`))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"SamplingTargetDocuments"`) {
		t.Errorf("SamplingTargets: %d %s", resp.StatusCode, body)
	}
}

// With the upstream unreachable the SDK gets a clear error, not a hang.
func TestProxyUpstreamDown(t *testing.T) {
	up := newRestartable(t, http.NotFoundHandler())
	up.down()
	d := startDaemon(t, testConfig(up.URL()))
	resp, body := xraytest.Post(t, "http://"+d.Addr("tcp").String()+"/GetSamplingRules", "", nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "ServiceUnavailableException") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}
