package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func FuzzParseKeys(f *testing.F) {
	f.Add(keyFile)
	f.Add("A b c\n#x\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		ks, err := ParseKeys(strings.NewReader(s))
		if err == nil && ks.Len() == 0 {
			t.Fatal("no error and no keys")
		}
		_, _ = ParseTokens(strings.NewReader(s))
	})
}

// FuzzVerify: whatever the Authorization and date headers say, Verify
// answers (an error or a key) and never panics.
func FuzzVerify(f *testing.F) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	good := signed(f, "INGESTKEY001", "ingest-secret-012345678", "xray", now, []byte("{}"))
	f.Add(good.Header.Get("Authorization"), good.Header.Get("X-Amz-Date"), "{}")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=;;, Signature=", "20261205T120000Z", "")
	ks := testKeys(f)
	v := NewVerifier(func() *Keys { return ks }, func() time.Time { return now })
	f.Fuzz(func(t *testing.T, authz, date, body string) {
		r := httptest.NewRequest(http.MethodPost, "/TraceSegments", strings.NewReader(body))
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Amz-Date", date)
		k, e := v.Verify(r, []byte(body))
		if (k == nil) == (e == nil) {
			t.Fatalf("key %v and error %v", k, e)
		}
		if k != nil && authz != good.Header.Get("Authorization") {
			t.Fatalf("a changed signature verified: %q", authz)
		}
	})
}
