package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const keyFile = `# Roentgen access keys
ADMINKEY0001  admin-secret-0123456789  admin

READKEY00001  read-secret-0123456789a  read
INGESTKEY001  ingest-secret-012345678  ingest
`

func testKeys(t testing.TB) *Keys {
	ks, err := ParseKeys(strings.NewReader(keyFile))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestParseKeys(t *testing.T) {
	ks := testKeys(t)
	if ks.Len() != 3 || ks.Lookup("READKEY00001").Role != RoleRead {
		t.Fatalf("keys: %d", ks.Len())
	}
	if ks.Check("ADMINKEY0001", "admin-secret-0123456789") == nil || ks.Check("ADMINKEY0001", "admin-secret-012345678X") != nil {
		t.Error("Check")
	}
	_, err := ParseKeys(strings.NewReader("# c\nA1234 secret-secret-secret admin\nB1234 short read\n\nC1234 secret-secret-secret root\nD1234 only-two\nA1234 secret-secret-secret read\nE/1 secret-secret-secret read\n"))
	if err == nil {
		t.Fatal("bad file accepted")
	}
	for _, want := range []string{"line 3: the secret of B1234 has 5 characters", "line 5: role \"root\"", "line 6: want ACCESS_KEY_ID", "line 7: access key id A1234 appears twice", "line 8: access key id \"E/1\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := ParseKeys(strings.NewReader("# nothing\n")); err == nil {
		t.Error("an empty file gives keys")
	}
}

func TestParseTokens(t *testing.T) {
	tk, err := ParseTokens(strings.NewReader("# tokens\n0123456789abcdef0123 collector-a\n\nfedcba98765432100000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := tk.Check("0123456789abcdef0123"); !ok || n != "collector-a" {
		t.Errorf("Check = %q %v", n, ok)
	}
	if n, ok := tk.Check("fedcba98765432100000"); !ok || n != "line 4" {
		t.Errorf("Check = %q %v", n, ok)
	}
	if _, ok := tk.Check("0123456789abcdef012"); ok {
		t.Error("a prefix of a token is accepted")
	}
	_, err = ParseTokens(strings.NewReader("short\n0123456789abcdef0123\n0123456789abcdef0123 again\n"))
	if err == nil || !strings.Contains(err.Error(), "line 1: the token has 5") || !strings.Contains(err.Error(), "line 3: the same token as line 2") {
		t.Errorf("err = %v", err)
	}
}

// signed is a request as aws-sdk-go-v2's X-Ray client sends it.
func signed(t testing.TB, id, secret, service string, at time.Time, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:2020/TraceSegments", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.0")
	r.Header.Set("Amz-Sdk-Invocation-Id", "a1b2")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, r,
		hex.EncodeToString(sum[:]), service, "eu-west-3", at); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerify(t *testing.T) {
	ks := testKeys(t)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	v := NewVerifier(func() *Keys { return ks }, func() time.Time { return now })
	body := []byte(`{"TraceSegmentDocuments":["{}"]}`)
	check := func(name string, r *http.Request, body []byte, wantType, wantMsg string) {
		t.Helper()
		k, e := v.Verify(r, body)
		switch {
		case wantType == "" && e != nil:
			t.Errorf("%s: refused: %v", name, e)
		case wantType == "" && k.ID != "INGESTKEY001":
			t.Errorf("%s: key %v", name, k)
		case wantType != "" && (e == nil || e.Type != wantType || !strings.Contains(e.Message, wantMsg)):
			t.Errorf("%s: got %v, want %s (%s)", name, e, wantType, wantMsg)
		}
	}
	good := func() *http.Request {
		return signed(t, "INGESTKEY001", "ingest-secret-012345678", "xray", now.Add(-14*time.Minute), body)
	}
	check("valid", good(), body, "", "")
	check("other body", good(), []byte(`{"TraceSegmentDocuments":["{\"x\":1}"]}`), "InvalidSignatureException", "does not match")
	check("wrong secret", signed(t, "INGESTKEY001", "ingest-secret-01234567X", "xray", now, body), body, "InvalidSignatureException", "does not match")
	check("unknown key", signed(t, "NOBODY", "ingest-secret-012345678", "xray", now, body), body, "UnrecognizedClientException", "NOBODY")
	check("other service", signed(t, "INGESTKEY001", "ingest-secret-012345678", "s3", now, body), body, "InvalidSignatureException", "'xray'")
	check("too old", signed(t, "INGESTKEY001", "ingest-secret-012345678", "xray", now.Add(-16*time.Minute), body), body, "InvalidSignatureException", "15 minutes")
	check("too new", signed(t, "INGESTKEY001", "ingest-secret-012345678", "xray", now.Add(16*time.Minute), body), body, "InvalidSignatureException", "15 minutes")
	r := good()
	r.Header.Set("Content-Type", "text/plain") // a signed header changed on the way
	check("changed header", r, body, "InvalidSignatureException", "does not match")
	r = good()
	r.Host = "other:2020"
	check("changed host", r, body, "InvalidSignatureException", "does not match")
	r = good()
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	check("unsigned payload", r, body, "InvalidSignatureException", "X-Amz-Content-Sha256")
	r = good()
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=", "SignedHeaders=user-agent;", 1))
	check("unverifiable header", r, body, "InvalidSignatureException", "cannot be verified")
	r = good()
	r.Header.Del("X-Amz-Date")
	check("no date", r, body, "IncompleteSignatureException", "X-Amz-Date")
	r = good()
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=INGESTKEY001/20261205/x/xray")
	check("truncated", r, body, "IncompleteSignatureException", "")
	r = httptest.NewRequest(http.MethodPost, "/TraceSegments", nil)
	check("unsigned", r, nil, "MissingAuthenticationTokenException", "")
}

func TestAllowed(t *testing.T) {
	for _, c := range []struct {
		role Role
		op   string
		want bool
	}{
		{RoleIngest, "PutTraceSegments", true}, {RoleIngest, "GetSamplingTargets", true}, {RoleIngest, "GetTraceSummaries", false},
		{RoleIngest, "CreateGroup", false}, {RoleRead, "GetTraceSummaries", true}, {RoleRead, "GetSamplingRules", true},
		{RoleRead, "PutTraceSegments", false}, {RoleRead, "CreateGroup", false}, {RoleRead, "GetSamplingTargets", false},
		{RoleRead, OpMetrics, true}, {RoleRead, OpPprof, false}, {RoleAdmin, OpPprof, true}, {RoleAdmin, "DeleteSamplingRule", true},
		{RoleRead, "SomeFutureWrite", false}, {Role("root"), "GetGroups", false},
		{RoleRead, Operation("/roentgen/TraceAggregates"), true}, {RoleIngest, Operation("/roentgen/TraceAggregates"), false},
		{RoleRead, Operation("/roentgen/TelemetryRecords/"), true}, {RoleIngest, Operation("/roentgen/TelemetryRecords"), false},
		{RoleRead, Operation("/roentgen/SomeFutureWrite"), false}, {RoleAdmin, Operation("/roentgen/SomeFutureWrite"), true},
		{RoleRead, Operation("/roentgen/GetKeepPolicies"), true}, {RoleRead, Operation("/roentgen/PutKeepPolicies"), false},
		{RoleIngest, Operation("/roentgen/PutKeepPolicies"), false}, {RoleAdmin, Operation("/roentgen/PutKeepPolicies"), true},
	} {
		if got := Allowed(c.role, c.op); got != c.want {
			t.Errorf("Allowed(%s, %s) = %v", c.role, c.op, got)
		}
	}
	if Operation("/CreateGroup/") != "CreateGroup" || Operation("/nope") != "" {
		t.Error("Operation")
	}
}

func TestHostCheck(t *testing.T) {
	h := NewHostCheck([]string{"xray.example.com", "10.0.0.5:2020", " "})
	for host, want := range map[string]bool{
		"localhost:2020": true, "LOCALHOST": true, "app.localhost:1": true, "127.0.0.1:2020": true, "[::1]:2020": true,
		"192.168.1.9:2020": true, "xray.example.com": true, "XRAY.example.com.:443": true,
		"evil.example:2020": false, "localhost.evil.example": false, "": false, "xray.example.com.evil": false,
	} {
		if got := h.Allowed(host); got != want {
			t.Errorf("Allowed(%q) = %v", host, got)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:2020": true, "localhost:1": true, "[::1]:2": true, "0.0.0.0:2020": false, ":2020": false, "10.1.2.3:1": false, "example.com:1": false} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v", addr, got)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(2, func() time.Time { return now })
	for i := 0; i < 4; i++ { // a burst of twice the rate
		if !l.Allow("a") {
			t.Fatalf("request %d refused", i)
		}
	}
	if l.Allow("a") {
		t.Fatal("over the burst")
	}
	if !l.Allow("b") {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(500 * time.Millisecond) // one token back at 2/s
	if !l.Allow("a") || l.Allow("a") {
		t.Fatal("refill")
	}
}

func TestSessionsExpire(t *testing.T) {
	now := time.Unix(1000, 0)
	s := NewSessions(time.Hour, func() time.Time { return now })
	id, exp := s.New("READKEY00001")
	if k, ok := s.Lookup(id); !ok || k != "READKEY00001" || !exp.Equal(now.Add(time.Hour)) {
		t.Fatal("lookup")
	}
	id2, _ := s.New("ADMINKEY0001")
	s.End(id2)
	if _, ok := s.Lookup(id2); ok {
		t.Error("ended session lives")
	}
	now = now.Add(time.Hour)
	if _, ok := s.Lookup(id); ok {
		t.Error("expired session lives")
	}
}
