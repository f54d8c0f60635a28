package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/roentgen-tracing/roentgen/internal/auth"
	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/iampolicy"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// putRequests are n PutTraceSegments requests of 50 generated documents
// (the bench harness's batches), signed by an ingest key at now.
func putRequests(b *testing.B, n int, now time.Time) []*http.Request {
	batches := bench.NewGenerator(1).Batches(now.Add(-time.Minute), 50*n, 50)
	reqs := make([]*http.Request, 0, len(batches))
	for _, docs := range batches {
		ss := make([]string, len(docs))
		for i, d := range docs {
			ss[i] = string(d)
		}
		body, _ := json.Marshal(map[string]any{"TraceSegmentDocuments": ss})
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:2020/TraceSegments", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "INGESTKEY001", SecretAccessKey: "ingest-secret-012345678"},
			r, hex.EncodeToString(sum[:]), "xray", "us-east-1", now); err != nil {
			b.Fatal(err)
		}
		r.Header.Set("X-Body", string(body)) // for the loop to rewind the body; not signed
		reqs = append(reqs, r)
	}
	return reqs
}

func guard(b *testing.B, now time.Time) *auth.Guard {
	ks, err := auth.ParseKeys(strings.NewReader("INGESTKEY001 ingest-secret-012345678 ingest\n"))
	if err != nil {
		b.Fatal(err)
	}
	kr := auth.NewKeyRing(ks)
	return &auth.Guard{Keys: kr, Verifier: auth.NewVerifier(kr.Keys, func() time.Time { return now })}
}

func rewind(r *http.Request) *http.Request {
	body := r.Header.Get("X-Body")
	r2 := r.Clone(context.Background())
	r2.Header.Del("X-Body")
	r2.Body = ioNopCloser(strings.NewReader(body))
	r2.ContentLength = int64(len(body))
	return r2
}

// BenchmarkVerify is the signature check of one PutTraceSegments request
// of 50 documents (~60 kB): reading and hashing the body, signing again.
func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	reqs := putRequests(b, 64, now)
	g := guard(b, now)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := g.Wrap(ok, auth.Policy{})
	prepared := make([]*http.Request, b.N)
	for i := range prepared {
		prepared[i] = rewind(reqs[i%len(reqs)])
	}
	b.SetBytes(reqs[0].ContentLength)
	b.ReportAllocs()
	cpu := bench.StartCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, prepared[i])
		if w.Code != 200 {
			b.Fatalf("refused: %s", w.Body)
		}
	}
	b.StopTimer()
	cpu.Report(b)
}

// BenchmarkVerifyWithPolicies is BenchmarkVerify with five resource
// policies in force (AWS's limit), eleven statements between them, none
// denying the key: what evaluating them adds to each PutTraceSegments.
func BenchmarkVerifyWithPolicies(b *testing.B) {
	now := time.Now()
	reqs := putRequests(b, 64, now)
	g := guard(b, now)
	opts := iampolicy.Options{Actions: auth.Operations(), Region: "us-east-1", Account: "000000000000"}
	var ps []*iampolicy.Policy
	for i := 0; i < 5; i++ {
		doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		 {"Sid":"Deny%[1]d","Effect":"Deny","Principal":{"AWS":["arn:aws:iam::000000000000:user/OTHER%[1]d","111111111111"]},"Action":["xray:PutTraceSegments","xray:Get*"],"Resource":"*"},
		 {"Sid":"Allow%[1]d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/r%[1]d"},"Action":"xray:*","Resource":"arn:aws:xray:*:000000000000:*"}%[2]s]}`,
			i, map[bool]string{true: `,{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"xray:PutTraceSegments","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"000000000000"}}}`}[i == 0])
		p, err := iampolicy.Parse(fmt.Sprint("p", i), doc, opts)
		if err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	g.Policies = &auth.ResourcePolicies{}
	g.Policies.Set(iampolicy.Compile(ps, opts))
	g.Account = "000000000000"
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := g.Wrap(ok, auth.Policy{})
	prepared := make([]*http.Request, b.N)
	for i := range prepared {
		prepared[i] = rewind(reqs[i%len(reqs)])
	}
	b.SetBytes(reqs[0].ContentLength)
	b.ReportAllocs()
	cpu := bench.StartCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, prepared[i])
		if w.Code != 200 {
			b.Fatalf("refused: %s", w.Body)
		}
	}
	b.StopTimer()
	cpu.Report(b)
}

// BenchmarkPutTraceSegments is the whole ingest of one request of 50
// documents through the API on the real store (summaries included), with
// and without the signature check in front: their difference is what
// verification costs ingest.
func BenchmarkPutTraceSegments(b *testing.B) {
	for _, verified := range []bool{false, true} {
		name := "unsigned"
		if verified {
			name = "verified"
		}
		b.Run(name, func(b *testing.B) {
			now := time.Now()
			reqs := putRequests(b, b.N, now)
			a := xraytest.NewAPI(b, b.TempDir())
			var h http.Handler = a.Server
			if verified {
				h = guard(b, now).Wrap(h, auth.Policy{})
			}
			prepared := make([]*http.Request, len(reqs))
			for i, r := range reqs {
				prepared[i] = rewind(r)
			}
			b.ReportAllocs()
			cpu := bench.StartCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, prepared[i%len(prepared)])
				if w.Code != 200 {
					b.Fatalf("%d: %s", w.Code, w.Body)
				}
			}
			a.Ingester.Sync(context.Background()) // the summaries are ingest's work too
			b.StopTimer()
			cpu.Report(b)
		})
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

func ioNopCloser(r *strings.Reader) nopCloser { return nopCloser{r} }
