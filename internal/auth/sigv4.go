package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// MaxSkew is how far a request's X-Amz-Date may be from the server's clock,
// as AWS allows.
const MaxSkew = 15 * time.Minute

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDateForm  = "20060102T150405Z"
	// Service is the SigV4 service name X-Ray clients sign for.
	Service = "xray"
)

// Verifier checks SigV4 signatures by signing the request again with the
// key's secret using aws-sdk-go-v2's own signer, over exactly the headers
// the client said it signed, and comparing the two signatures in constant
// time. Any region is accepted; the service must be xray.
type Verifier struct {
	Keys func() *Keys
	// Now is the clock (tests inject one); default time.Now.
	Now    func() time.Time
	signer *v4.Signer
}

// NewVerifier returns a verifier of the keys keys() returns at each call.
func NewVerifier(keys func() *Keys, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{Keys: keys, Now: now, signer: v4.NewSigner()}
}

// sigV4 is a parsed Authorization header.
type sigV4 struct {
	keyID, date, region, service string
	signedHeaders                string
	signature                    string
}

func parseAuthorization(h string) (sigV4, *Error) {
	var s sigV4
	rest, ok := strings.CutPrefix(h, sigAlgorithm+" ")
	if !ok {
		return s, errIncomplete("the Authorization header is not %s", sigAlgorithm)
	}
	var cred string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			s.signedHeaders = v
		case "Signature":
			s.signature = v
		}
	}
	if cred == "" || s.signedHeaders == "" || s.signature == "" {
		return s, errIncomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters")
	}
	p := strings.Split(cred, "/")
	if len(p) != 5 || p[4] != "aws4_request" {
		return s, errIncomplete("Credential %q is not ACCESS_KEY_ID/DATE/REGION/SERVICE/aws4_request", cred)
	}
	s.keyID, s.date, s.region, s.service = p[0], p[1], p[2], p[3]
	return s, nil
}

// IsSigV4 reports whether the request carries a SigV4 Authorization header.
func IsSigV4(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), sigAlgorithm+" ")
}

// Verify checks the request's SigV4 signature over body (the whole request
// body, already read) and returns the key that signed it.
func (v *Verifier) Verify(r *http.Request, body []byte) (*Key, *Error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return nil, errMissingToken()
	}
	s, e := parseAuthorization(auth)
	if e != nil {
		return nil, e
	}
	key := v.Keys().Lookup(s.keyID)
	if key == nil {
		return nil, errUnknownKey(s.keyID)
	}
	if s.service != Service {
		return nil, errSignature("Credential should be scoped to correct service: '%s', not '%s'", Service, s.service)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return nil, errIncomplete("Authorization header requires existence of a 'X-Amz-Date' header")
	}
	t, err := time.Parse(amzDateForm, amzDate)
	if err != nil {
		return nil, errIncomplete("X-Amz-Date %q is not in the form %s", amzDate, amzDateForm)
	}
	if !strings.HasPrefix(amzDate, s.date) || len(s.date) != 8 {
		return nil, errSignature("the credential scope's date %s is not the day of X-Amz-Date %s", s.date, amzDate)
	}
	now := v.Now().UTC()
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return nil, errSignature("Signature expired or not yet valid: %s is more than 15 minutes from the server's time %s", amzDate, now.Format(amzDateForm))
	}

	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	if claimed := r.Header.Get("X-Amz-Content-Sha256"); claimed != "" && claimed != payload {
		// UNSIGNED-PAYLOAD too: a signature must cover the body, or a
		// captured request could be replayed with another one.
		return nil, errSignature("X-Amz-Content-Sha256 %q is not the SHA-256 of the body", claimed)
	}

	// The request as the client signed it: only its signed headers.
	u := &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	re := &http.Request{Method: r.Method, URL: u, Host: r.Host, Header: http.Header{}}
	creds := aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}
	hasHost, hasDate := false, false
	for _, h := range strings.Split(s.signedHeaders, ";") {
		switch h {
		case "host":
			hasHost = true
		case "content-length":
			re.ContentLength = r.ContentLength
		case "x-amz-date":
			hasDate = true
		case "x-amz-security-token":
			creds.SessionToken = r.Header.Get(h)
		default:
			ck := http.CanonicalHeaderKey(h)
			if vals := r.Header.Values(ck); len(vals) > 0 {
				re.Header[ck] = vals
			} else {
				re.Header[ck] = []string{""}
			}
		}
	}
	if !hasHost || !hasDate {
		return nil, errSignature("SignedHeaders %q must include host and x-amz-date", s.signedHeaders)
	}
	if err := v.signer.SignHTTP(context.Background(), creds, re, payload, s.service, s.region, t); err != nil {
		return nil, errSignature("the signature could not be checked: %v", err)
	}
	ours, e := parseAuthorization(re.Header.Get("Authorization"))
	if e != nil {
		return nil, e
	}
	if ours.signedHeaders != s.signedHeaders {
		// Headers a signer never signs (User-Agent, Expect, ...) cannot be
		// signed over again.
		return nil, errSignature("SignedHeaders %q cannot be verified (signed again as %q)", s.signedHeaders, ours.signedHeaders)
	}
	if subtle.ConstantTimeCompare([]byte(ours.signature), []byte(s.signature)) != 1 {
		return nil, errSignature("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return key, nil
}
