package auth

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/iampolicy"
)

func policySet(t *testing.T, docs ...string) *iampolicy.Set {
	t.Helper()
	opts := iampolicy.Options{Actions: Operations(), Region: "us-east-1", Account: "000000000000"}
	var ps []*iampolicy.Policy
	for i, d := range docs {
		p, err := iampolicy.Parse("p"+string(rune('0'+i)), d, opts)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return iampolicy.Compile(ps, opts)
}

func TestParseKeysPrincipal(t *testing.T) {
	ks, err := ParseKeys(strings.NewReader("A1 secret-secret-secret ingest arn:aws:iam::123456789012:role/collector\nB1 secret-secret-secret read\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ks.Lookup("A1").PrincipalARN("000000000000"); got != "arn:aws:iam::123456789012:role/collector" {
		t.Errorf("A1: %s", got)
	}
	if got := ks.Lookup("B1").PrincipalARN("000000000000"); got != "arn:aws:iam::000000000000:user/B1" {
		t.Errorf("B1: %s", got)
	}
	_, err = ParseKeys(strings.NewReader("A1 secret-secret-secret ingest alice\n"))
	if err == nil || !strings.Contains(err.Error(), `line 1: principal "alice" of A1`) {
		t.Errorf("bad principal: %v", err)
	}
}

// TestGuardResourcePolicies: an explicit Deny refuses what the role
// allows, an Allow naming a key grants beyond its role, and an Allow for
// "*" never lifts an unsigned caller beyond its listener's role.
func TestGuardResourcePolicies(t *testing.T) {
	ks, err := ParseKeys(strings.NewReader(`INGESTKEYA01 ingest-secret-aaaaaaaa ingest
INGESTKEYB01 ingest-secret-bbbbbbbb ingest arn:aws:iam::000000000000:role/collector
`))
	if err != nil {
		t.Fatal(err)
	}
	kr := NewKeyRing(ks)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	pol := &ResourcePolicies{}
	g := &Guard{Keys: kr, Verifier: NewVerifier(kr.Keys, func() time.Time { return now }), Policies: pol, Account: "000000000000", Log: slog.New(slog.DiscardHandler)}
	var seen Caller
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen, _ = CallerFrom(r.Context()) }), Policy{UnsignedRole: RoleIngest})
	call := func(path, id, secret string) (int, map[string]string) {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}"))
		if id != "" {
			r.SetBasicAuth(id, secret)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var body map[string]string
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		return w.Code, body
	}
	expect := func(name, path, id, secret string, code int, msg string) {
		t.Helper()
		got, body := call(path, id, secret)
		if got != code || msg != "" && !strings.Contains(body["message"], msg) {
			t.Errorf("%s: %d %v; want %d with %q", name, got, body, code, msg)
		}
	}
	a, as := "INGESTKEYA01", "ingest-secret-aaaaaaaa"
	b, bs := "INGESTKEYB01", "ingest-secret-bbbbbbbb"
	expect("no policies", "/TraceSegments", a, as, 200, "")
	expect("role", "/TraceSummaries", b, bs, 403, "role ingest")

	pol.Set(policySet(t,
		`{"Statement":[{"Sid":"NoA","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:user/INGESTKEYA01"},"Action":"xray:PutTraceSegments","Resource":"*"}]}`,
		`{"Statement":[{"Sid":"CollectorReads","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/collector"},"Action":"xray:GetTraceSummaries","Resource":"*"},
		  {"Sid":"Everyone","Effect":"Allow","Principal":"*","Action":"xray:DeleteGroup","Resource":"*"}]}`))
	expect("denied", "/TraceSegments", a, as, 403, "User: arn:aws:iam::000000000000:user/INGESTKEYA01 is not authorized to perform: xray:PutTraceSegments on resource: * with an explicit deny in a resource-based policy (policy p0, statement NoA)")
	expect("other key", "/TraceSegments", b, bs, 200, "")
	expect("allowed beyond role", "/TraceSummaries", b, bs, 200, "")
	expect("not named", "/TraceSummaries", a, as, 403, "role ingest")
	expect("star allows keys", "/DeleteGroup", a, as, 200, "")
	expect("star never lifts unsigned", "/DeleteGroup", "", "", 403, "role ingest")
	expect("unsigned ingest", "/TraceSegments", "", "", 200, "")

	expect("put policy", "/PutResourcePolicy", a, as, 403, "role ingest")
	pol.Set(policySet(t, `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"xray:*ResourcePolic*","Resource":"*"}]}`))
	seen = Caller{}
	expect("put policy allowed", "/PutResourcePolicy", b, bs, 200, "")
	if seen != (Caller{ID: b, Role: RoleIngest, Principal: "arn:aws:iam::000000000000:role/collector"}) {
		t.Errorf("caller in context: %+v", seen)
	}
	pol.Set(nil)
	expect("deleted", "/TraceSummaries", b, bs, 403, "role ingest")
}

// TestOTLPResourcePolicies: OTLP exports are xray:PutTraceSegments; a
// Deny for "*" refuses a bearer token's export and a key's signed one
// (403, AccessDeniedException), and deleting it restores both.
func TestOTLPResourcePolicies(t *testing.T) {
	ks, err := ParseKeys(strings.NewReader("INGESTKEY001 ingest-secret-012345678 ingest\n"))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := ParseTokens(strings.NewReader("0123456789abcdef0123 collector-a\n"))
	if err != nil {
		t.Fatal(err)
	}
	kr := NewKeyRing(ks)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	pol := &ResourcePolicies{}
	g := &Guard{Keys: kr, Verifier: NewVerifier(kr.Keys, func() time.Time { return now }), Policies: pol, Account: "000000000000", Log: slog.New(slog.DiscardHandler)}
	h := (&OTLP{Guard: g, Tokens: func() *Tokens { return tk }}).HTTP(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	send := func() (token, signedKey int) {
		r := httptest.NewRequest(http.MethodPost, "/v1/traces", strings.NewReader("x"))
		r.Header.Set("Authorization", "Bearer 0123456789abcdef0123")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		w2 := httptest.NewRecorder()
		h.ServeHTTP(w2, signed(t, "INGESTKEY001", "ingest-secret-012345678", "xray", now, []byte("x")))
		return w.Code, w2.Code
	}
	if a, b := send(); a != 200 || b != 200 {
		t.Fatalf("without policies: %d %d", a, b)
	}
	pol.Set(policySet(t, `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"xray:PutTraceSegments","Resource":"*"}]}`))
	if a, b := send(); a != 403 || b != 403 {
		t.Fatalf("denied: %d %d", a, b)
	}
	pol.Set(nil)
	if a, b := send(); a != 200 || b != 200 {
		t.Fatalf("after delete: %d %d", a, b)
	}
}
