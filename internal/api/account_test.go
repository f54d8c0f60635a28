package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// Encryption, destination and the indexing rule are set on one server and
// read back, as AWS documents them, from a new server on the same store.
func TestAccountSettingsPersist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var modified time.Time
	t.Run("set", func(t *testing.T) {
		c := xraytest.NewAPI(t, dir).Client(t)
		enc, err := c.GetEncryptionConfig(ctx, &xray.GetEncryptionConfigInput{})
		if err != nil || enc.EncryptionConfig.Type != types.EncryptionTypeNone || enc.EncryptionConfig.Status != types.EncryptionStatusActive {
			t.Fatalf("default encryption %+v, %v", enc.EncryptionConfig, err)
		}
		put, err := c.PutEncryptionConfig(ctx, &xray.PutEncryptionConfigInput{Type: types.EncryptionTypeKms, KeyId: aws.String("alias/traces")})
		if err != nil {
			t.Fatal(err)
		}
		if e := put.EncryptionConfig; e.Type != types.EncryptionTypeKms || aws.ToString(e.KeyId) != "alias/traces" || e.Status != types.EncryptionStatusActive {
			t.Fatalf("PutEncryptionConfig answered %+v", e)
		}
		d, err := c.GetTraceSegmentDestination(ctx, &xray.GetTraceSegmentDestinationInput{})
		if err != nil || d.Destination != types.TraceSegmentDestinationXRay || d.Status != types.TraceSegmentDestinationStatusActive {
			t.Fatalf("default destination %v %v, %v", d.Destination, d.Status, err)
		}
		u, err := c.UpdateTraceSegmentDestination(ctx, &xray.UpdateTraceSegmentDestinationInput{Destination: types.TraceSegmentDestinationCloudWatchLogs})
		if err != nil || u.Destination != types.TraceSegmentDestinationCloudWatchLogs || u.Status != types.TraceSegmentDestinationStatusActive {
			t.Fatalf("UpdateTraceSegmentDestination %v %v, %v", u.Destination, u.Status, err)
		}
		rules, err := c.GetIndexingRules(ctx, &xray.GetIndexingRulesInput{})
		if err != nil || len(rules.IndexingRules) != 1 || aws.ToString(rules.IndexingRules[0].Name) != "Default" {
			t.Fatalf("GetIndexingRules %+v, %v", rules, err)
		}
		p := rules.IndexingRules[0].Rule.(*types.IndexingRuleValueMemberProbabilistic).Value
		// With destination CloudWatchLogs the rule is in force (indexing_test.go).
		if aws.ToFloat64(p.DesiredSamplingPercentage) != 1 || aws.ToFloat64(p.ActualSamplingPercentage) != 1 {
			t.Fatalf("default rule %+v", p)
		}
		ur, err := c.UpdateIndexingRule(ctx, &xray.UpdateIndexingRuleInput{Name: aws.String("Default"),
			Rule: &types.IndexingRuleValueUpdateMemberProbabilistic{Value: types.ProbabilisticRuleValueUpdate{DesiredSamplingPercentage: aws.Float64(25)}}})
		if err != nil {
			t.Fatal(err)
		}
		modified = aws.ToTime(ur.IndexingRule.ModifiedAt)
		if time.Since(modified) > time.Minute {
			t.Fatalf("ModifiedAt %v", modified)
		}
		// What is wrong is said so.
		for name, call := range map[string]func() error{
			"NONE with a key": func() error {
				_, err := c.PutEncryptionConfig(ctx, &xray.PutEncryptionConfigInput{Type: types.EncryptionTypeNone, KeyId: aws.String("k")})
				return err
			},
			"unknown type": func() error {
				_, err := c.PutEncryptionConfig(ctx, &xray.PutEncryptionConfigInput{Type: "AES"})
				return err
			},
			"unknown destination": func() error {
				_, err := c.UpdateTraceSegmentDestination(ctx, &xray.UpdateTraceSegmentDestinationInput{Destination: "S3"})
				return err
			},
			"percentage over 100": func() error {
				_, err := c.UpdateIndexingRule(ctx, &xray.UpdateIndexingRuleInput{Name: aws.String("Default"),
					Rule: &types.IndexingRuleValueUpdateMemberProbabilistic{Value: types.ProbabilisticRuleValueUpdate{DesiredSamplingPercentage: aws.Float64(101)}}})
				return err
			},
		} {
			var ire *types.InvalidRequestException
			if err := call(); !errors.As(err, &ire) {
				t.Errorf("%s: %v, want InvalidRequestException", name, err)
			}
		}
		_, err = c.UpdateIndexingRule(ctx, &xray.UpdateIndexingRuleInput{Name: aws.String("Other"),
			Rule: &types.IndexingRuleValueUpdateMemberProbabilistic{Value: types.ProbabilisticRuleValueUpdate{DesiredSamplingPercentage: aws.Float64(5)}}})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("unknown rule: %v, want ResourceNotFoundException", err)
		}
	})
	c := xraytest.NewAPI(t, dir).Client(t)
	enc, err := c.GetEncryptionConfig(ctx, &xray.GetEncryptionConfigInput{})
	if err != nil || enc.EncryptionConfig.Type != types.EncryptionTypeKms || aws.ToString(enc.EncryptionConfig.KeyId) != "alias/traces" || enc.EncryptionConfig.Status != types.EncryptionStatusActive {
		t.Fatalf("encryption after restart %+v, %v", enc.EncryptionConfig, err)
	}
	d, err := c.GetTraceSegmentDestination(ctx, &xray.GetTraceSegmentDestinationInput{})
	if err != nil || d.Destination != types.TraceSegmentDestinationCloudWatchLogs {
		t.Fatalf("destination after restart %v, %v", d.Destination, err)
	}
	rules, err := c.GetIndexingRules(ctx, &xray.GetIndexingRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	r := rules.IndexingRules[0]
	p := r.Rule.(*types.IndexingRuleValueMemberProbabilistic).Value
	if aws.ToFloat64(p.DesiredSamplingPercentage) != 25 || aws.ToFloat64(p.ActualSamplingPercentage) != 25 || !aws.ToTime(r.ModifiedAt).Equal(modified) {
		t.Fatalf("rule after restart %+v modified %v, want 25 at %v", p, aws.ToTime(r.ModifiedAt), modified)
	}
	// NONE goes back to the default, without a key.
	put, err := c.PutEncryptionConfig(ctx, &xray.PutEncryptionConfigInput{Type: types.EncryptionTypeNone})
	if err != nil || put.EncryptionConfig.KeyId != nil || put.EncryptionConfig.Type != types.EncryptionTypeNone {
		t.Fatalf("NONE: %+v, %v", put.EncryptionConfig, err)
	}
}

const policyDoc = `{"Version":"2012-10-17","Statement":[{"Sid":"SNS","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":["xray:PutTraceSegments","xray:GetSamplingRules","xray:GetSamplingTargets"],"Resource":"*"}]}`

func TestResourcePolicies(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var rev string
	t.Run("put", func(t *testing.T) {
		c := xraytest.NewAPI(t, dir).Client(t)
		out, err := c.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("sns"), PolicyDocument: aws.String(policyDoc), PolicyRevisionId: aws.String("0")})
		if err != nil {
			t.Fatal(err)
		}
		p := out.ResourcePolicy
		rev = aws.ToString(p.PolicyRevisionId)
		if aws.ToString(p.PolicyName) != "sns" || aws.ToString(p.PolicyDocument) != policyDoc || rev == "" || time.Since(aws.ToTime(p.LastUpdatedTime)) > time.Minute {
			t.Fatalf("PutResourcePolicy answered %+v", p)
		}
		// "0" only creates.
		_, err = c.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("sns"), PolicyDocument: aws.String(policyDoc), PolicyRevisionId: aws.String("0")})
		var ire *types.InvalidPolicyRevisionIdException
		if !errors.As(err, &ire) {
			t.Fatalf("create over an existing policy: %v, want InvalidPolicyRevisionIdException", err)
		}
	})
	// After a restart: listed, then updated only with the current revision.
	c := xraytest.NewAPI(t, dir).Client(t)
	list, err := c.ListResourcePolicies(ctx, &xray.ListResourcePoliciesInput{})
	if err != nil || len(list.ResourcePolicies) != 1 || aws.ToString(list.ResourcePolicies[0].PolicyRevisionId) != rev {
		t.Fatalf("ListResourcePolicies %+v, %v", list, err)
	}
	var ire *types.InvalidPolicyRevisionIdException
	_, err = c.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("sns"), PolicyDocument: aws.String(policyDoc), PolicyRevisionId: aws.String("12345")})
	if !errors.As(err, &ire) {
		t.Fatalf("stale revision: %v, want InvalidPolicyRevisionIdException", err)
	}
	up, err := c.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("sns"), PolicyDocument: aws.String(policyDoc), PolicyRevisionId: aws.String(rev)})
	if err != nil {
		t.Fatal(err)
	}
	rev2 := aws.ToString(up.ResourcePolicy.PolicyRevisionId)
	if rev2 == rev {
		t.Fatalf("update kept revision %s", rev)
	}
	if _, err := c.DeleteResourcePolicy(ctx, &xray.DeleteResourcePolicyInput{PolicyName: aws.String("sns"), PolicyRevisionId: aws.String(rev)}); !errors.As(err, &ire) {
		t.Fatalf("delete with the old revision: %v, want InvalidPolicyRevisionIdException", err)
	}
	if _, err := c.DeleteResourcePolicy(ctx, &xray.DeleteResourcePolicyInput{PolicyName: aws.String("sns"), PolicyRevisionId: aws.String(rev2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteResourcePolicy(ctx, &xray.DeleteResourcePolicyInput{PolicyName: aws.String("sns")}); err != nil {
		t.Fatalf("deleting again: %v (idempotent on AWS)", err)
	}
	list, err = c.ListResourcePolicies(ctx, &xray.ListResourcePoliciesInput{})
	if err != nil || len(list.ResourcePolicies) != 0 {
		t.Fatalf("after delete: %+v, %v", list, err)
	}

	// Bad documents and names get the error AWS names.
	var mal *types.MalformedPolicyDocumentException
	for _, doc := range []string{`not json`, `[]`, `{"Version":"2012-10-17"}`, `{"Statement":[{"Effect":"Maybe"}]}`, `{"Statement":[]}`} {
		if _, err := c.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); !errors.As(err, &mal) {
			t.Errorf("document %s: %v, want MalformedPolicyDocumentException", doc, err)
		}
	}
	big := `{"Statement":{"Effect":"Allow","Sid":"` + strings.Repeat("x", 5200) + `"}}`
	var size *types.PolicySizeLimitExceededException
	if _, err := c.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(big)}); !errors.As(err, &size) {
		t.Errorf("6 kB document: %v, want PolicySizeLimitExceededException", err)
	}
	// (PutResourcePolicy's model lists no InvalidRequestException, so the
	// SDK gives it as a generic API error.)
	if _, err := c.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("has space"), PolicyDocument: aws.String(policyDoc)}); apiError(t, err).ErrorCode() != "InvalidRequestException" {
		t.Errorf("bad name: %v, want InvalidRequestException", err)
	}
	// Five per account.
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		if _, err := c.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String(n), PolicyDocument: aws.String(policyDoc)}); err != nil {
			t.Fatal(err)
		}
	}
	var count *types.PolicyCountLimitExceededException
	if _, err := c.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("f"), PolicyDocument: aws.String(policyDoc)}); !errors.As(err, &count) {
		t.Errorf("sixth policy: %v, want PolicyCountLimitExceededException", err)
	}
	// Replacing one of the five is no new policy.
	if _, err := c.PutResourcePolicy(ctx, &xray.PutResourcePolicyInput{PolicyName: aws.String("e"), PolicyDocument: aws.String(policyDoc)}); err != nil {
		t.Errorf("replacing e: %v", err)
	}
}
