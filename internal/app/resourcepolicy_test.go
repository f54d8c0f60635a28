package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/smithy-go"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

const policyKeys = `ADMINKEY0001 admin-secret-0123456789 admin
INGESTKEYA01 ingest-secret-aaaaaaaa ingest
INGESTKEYB01 ingest-secret-bbbbbbbb ingest arn:aws:iam::000000000000:role/collector
`

// denyA refuses PutTraceSegments to key A, named by its default principal.
const denyA = `{"Version":"2012-10-17","Statement":[{"Sid":"NoA","Effect":"Deny",
 "Principal":{"AWS":"arn:aws:iam::000000000000:user/INGESTKEYA01"},"Action":"xray:PutTraceSegments","Resource":"*"}]}`

func keyClient(t *testing.T, s *xraytest.Server, id, secret string) *xray.Client {
	return xraytest.Client(t, s.URL("http"), func(o *xray.Options) {
		// Default retries (xraytest.Client): AccessDeniedException is not retried.
		o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
	})
}

// putOne sends one segment and reports the error.
func putOne(c *xray.Client, n int) error {
	now := float64(time.Now().UnixNano()) / 1e9
	doc := fmt.Sprintf(`{"trace_id":"1-%08x-%024x","id":"%016x","name":"svc","start_time":%f,"end_time":%f}`,
		time.Now().Unix(), n, n, now-0.1, now)
	out, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{doc}})
	if err == nil && len(out.UnprocessedTraceSegments) > 0 {
		err = fmt.Errorf("unprocessed: %+v", out.UnprocessedTraceSegments[0])
	}
	return err
}

// TestResourcePolicyEnforced: with aws-sdk-go-v2 and two ingest keys, a
// Deny of PutTraceSegments naming one key refuses it (AccessDeniedException
// in AWS's shape) while the other key still writes; deleting the policy
// restores it; a stored policy is in force again after a restart.
func TestResourcePolicyEnforced(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keys, []byte(policyKeys), 0o600); err != nil {
		t.Fatal(err)
	}
	withKeys := func(c *app.Config) { c.AccessKeysFile = keys }
	s := xraytest.Start(t, xraytest.InDir(dir), withKeys)
	admin := keyClient(t, s, "ADMINKEY0001", "admin-secret-0123456789")
	a := keyClient(t, s, "INGESTKEYA01", "ingest-secret-aaaaaaaa")
	b := keyClient(t, s, "INGESTKEYB01", "ingest-secret-bbbbbbbb")
	ctx := context.Background()

	if err := putOne(a, 1); err != nil {
		t.Fatalf("A before any policy: %v", err)
	}
	out, err := admin.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("no-a"), PolicyDocument: aws.String(denyA)})
	if err != nil {
		t.Fatal(err)
	}
	denied := func(when string) {
		t.Helper()
		err := putOne(a, 2)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" ||
			!strings.Contains(ae.ErrorMessage(), "arn:aws:iam::000000000000:user/INGESTKEYA01 is not authorized to perform: xray:PutTraceSegments") ||
			!strings.Contains(ae.ErrorMessage(), "explicit deny in a resource-based policy (policy no-a, statement NoA)") {
			t.Fatalf("%s: A's PutTraceSegments answered %v; want AccessDeniedException naming the policy", when, err)
		}
		if err := putOne(b, 3); err != nil {
			t.Fatalf("%s: B's PutTraceSegments: %v", when, err)
		}
	}
	denied("after PutResourcePolicy")

	// A policy that would refuse the admin its next PutResourcePolicy needs the bypass flag.
	lockout := `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"xray:PutResourcePolicy","Resource":"*"}]}`
	_, err = admin.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("lock"), PolicyDocument: aws.String(lockout)})
	var lpe *types.LockoutPreventionException
	if !errors.As(err, &lpe) {
		t.Fatalf("lockout policy: %v; want LockoutPreventionException", err)
	}

	// After a restart the stored policy is in force again.
	s.Stop()
	s = xraytest.Start(t, xraytest.InDir(dir), withKeys)
	admin = keyClient(t, s, "ADMINKEY0001", "admin-secret-0123456789")
	a = keyClient(t, s, "INGESTKEYA01", "ingest-secret-aaaaaaaa")
	b = keyClient(t, s, "INGESTKEYB01", "ingest-secret-bbbbbbbb")
	denied("after a restart")

	if _, err := admin.DeleteResourcePolicy(ctx, &xray.DeleteResourcePolicyInput{PolicyName: aws.String("no-a"),
		PolicyRevisionId: out.ResourcePolicy.PolicyRevisionId}); err != nil {
		t.Fatal(err)
	}
	if err := putOne(a, 4); err != nil {
		t.Fatalf("A after DeleteResourcePolicy: %v", err)
	}

	// An Allow naming B's principal grants it reads its role lacks.
	if _, err := b.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now())}); err == nil {
		t.Fatal("an ingest key read trace summaries without a policy")
	}
	allowB := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/collector"},"Action":"xray:GetTraceSummaries","Resource":"arn:aws:xray:*:000000000000:*"}]}`
	if _, err := admin.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("b-reads"), PolicyDocument: aws.String(allowB)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now())}); err != nil {
		t.Fatalf("B with an Allow: %v", err)
	}
}
