package sampling_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

func rule(name string) *types.SamplingRule {
	return &types.SamplingRule{
		RuleName: aws.String(name), ResourceARN: aws.String("*"), Priority: aws.Int32(100),
		FixedRate: 0.25, ReservoirSize: 3, ServiceName: aws.String("frontend"), ServiceType: aws.String("*"),
		Host: aws.String("*"), HTTPMethod: aws.String("GET"), URLPath: aws.String("/api/*"), Version: aws.Int32(1),
	}
}

func wantInvalid(t *testing.T, err error, substr string) {
	t.Helper()
	var ire *types.InvalidRequestException
	if !errors.As(err, &ire) {
		t.Fatalf("got %v, want InvalidRequestException", err)
	}
	if !strings.Contains(ire.ErrorMessage(), substr) {
		t.Errorf("message %q does not say %q", ire.ErrorMessage(), substr)
	}
}

func TestRulesLifecycleWithGoV2Client(t *testing.T) {
	a := xraytest.Start(t)
	c := client(t, a)

	got, err := c.GetSamplingRules(bg, &xray.GetSamplingRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.SamplingRuleRecords) != 1 || got.NextToken != nil {
		t.Fatalf("fresh server: %d rules, NextToken %v; want only Default on one page", len(got.SamplingRuleRecords), got.NextToken)
	}
	d := got.SamplingRuleRecords[0].SamplingRule
	if aws.ToString(d.RuleName) != "Default" || aws.ToInt32(d.Priority) != 10000 || d.FixedRate != 0.05 || d.ReservoirSize != 1 ||
		aws.ToString(d.RuleARN) != "arn:aws:xray:us-east-1:000000000000:sampling-rule/Default" {
		t.Errorf("Default rule = %+v", d)
	}

	created, err := c.CreateSamplingRule(bg, &xray.CreateSamplingRuleInput{SamplingRule: rule("api-get"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("shop")}}})
	if err != nil {
		t.Fatal(err)
	}
	r := created.SamplingRuleRecord
	if aws.ToString(r.SamplingRule.RuleARN) != "arn:aws:xray:us-east-1:000000000000:sampling-rule/api-get" ||
		r.CreatedAt == nil || time.Since(*r.CreatedAt) > time.Minute || r.SamplingRule.SamplingRateBoost != nil {
		t.Errorf("created record = %+v", r)
	}
	tags, err := a.Store().GetMeta(bg, "tags", aws.ToString(r.SamplingRule.RuleARN))
	if err != nil || string(tags) != `[{"Key":"team","Value":"shop"}]` {
		t.Errorf("tags in the store = %s, %v", tags, err)
	}

	_, err = c.CreateSamplingRule(bg, &xray.CreateSamplingRuleInput{SamplingRule: rule("api-get")})
	wantInvalid(t, err, "already exists")

	up, err := c.UpdateSamplingRule(bg, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{
		RuleARN: r.SamplingRule.RuleARN, FixedRate: aws.Float64(0.75), URLPath: aws.String("/v2/*"),
		SamplingRateBoost: &types.SamplingRateBoost{MaxRate: 0.9, CooldownWindowMinutes: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	u := up.SamplingRuleRecord.SamplingRule
	if u.FixedRate != 0.75 || aws.ToString(u.URLPath) != "/v2/*" || aws.ToString(u.HTTPMethod) != "GET" || u.SamplingRateBoost == nil ||
		!up.SamplingRuleRecord.ModifiedAt.After(*r.ModifiedAt) && !up.SamplingRuleRecord.ModifiedAt.Equal(*r.ModifiedAt) {
		t.Errorf("updated rule = %+v", up.SamplingRuleRecord)
	}

	// Default: only rate and reservoir change.
	if _, err := c.UpdateSamplingRule(bg, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{
		RuleName: aws.String("Default"), FixedRate: aws.Float64(0.1), ReservoirSize: aws.Int32(2)}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateSamplingRule(bg, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{
		RuleName: aws.String("Default"), ServiceName: aws.String("x")}})
	wantInvalid(t, err, "ServiceName cannot change on the Default rule")
	_, err = c.DeleteSamplingRule(bg, &xray.DeleteSamplingRuleInput{RuleName: aws.String("Default")})
	wantInvalid(t, err, "cannot be deleted")

	got, _ = c.GetSamplingRules(bg, &xray.GetSamplingRulesInput{})
	if n := len(got.SamplingRuleRecords); n != 2 || aws.ToString(got.SamplingRuleRecords[1].SamplingRule.RuleName) != "Default" ||
		got.SamplingRuleRecords[1].SamplingRule.FixedRate != 0.1 {
		t.Errorf("rules after updates: %d, last %+v", n, got.SamplingRuleRecords[n-1].SamplingRule)
	}

	del, err := c.DeleteSamplingRule(bg, &xray.DeleteSamplingRuleInput{RuleName: aws.String("api-get")})
	if err != nil || aws.ToString(del.SamplingRuleRecord.SamplingRule.RuleName) != "api-get" {
		t.Fatalf("delete: %+v, %v", del, err)
	}
	if _, err := a.Store().GetMeta(bg, "tags", aws.ToString(r.SamplingRule.RuleARN)); err == nil {
		t.Error("the deleted rule's tags are still stored")
	}
	_, err = c.DeleteSamplingRule(bg, &xray.DeleteSamplingRuleInput{RuleName: aws.String("api-get")})
	wantInvalid(t, err, `no sampling rule named "api-get"`)
}

func TestInvalidRulesWithGoV2Client(t *testing.T) {
	a := xraytest.Start(t)
	c := client(t, a)
	mod := func(f func(r *types.SamplingRule)) *types.SamplingRule { r := rule("bad"); f(r); return r }
	for _, tc := range []struct {
		rule *types.SamplingRule
		tags []types.Tag
		want string
	}{
		{mod(func(r *types.SamplingRule) { r.Priority = aws.Int32(0) }), nil, "SamplingRule.Priority must be between 1 and 9999, got 0"},
		{mod(func(r *types.SamplingRule) { r.Priority = aws.Int32(10000) }), nil, "Priority must be between 1 and 9999"},
		{mod(func(r *types.SamplingRule) { r.FixedRate = 1.5 }), nil, "SamplingRule.FixedRate must be between 0 and 1, got 1.5"},
		{mod(func(r *types.SamplingRule) { r.ReservoirSize = -1 }), nil, "SamplingRule.ReservoirSize must be 0 or more"},
		{mod(func(r *types.SamplingRule) { r.Version = aws.Int32(2) }), nil, "SamplingRule.Version must be 1, got 2"},
		{mod(func(r *types.SamplingRule) { r.RuleName = aws.String("has space") }), nil, "SamplingRule.RuleName \"has space\" has ' '"},
		{mod(func(r *types.SamplingRule) { r.RuleName = aws.String(strings.Repeat("n", 33)) }), nil, "RuleName must be 1 to 32 characters, got 33"},
		{mod(func(r *types.SamplingRule) { r.HTTPMethod = aws.String("VERYLONGMETHOD") }), nil, "SamplingRule.HTTPMethod must be at most 10 characters"},
		{mod(func(r *types.SamplingRule) { r.URLPath = aws.String("/a\nb") }), nil, "SamplingRule.URLPath has a control character"},
		{mod(func(r *types.SamplingRule) { r.Attributes = map[string]string{"k": strings.Repeat("v", 33)} }), nil, `SamplingRule.Attributes["k"] value must be 1 to 32`},
		{mod(func(r *types.SamplingRule) {
			r.SamplingRateBoost = &types.SamplingRateBoost{MaxRate: 2, CooldownWindowMinutes: 1}
		}), nil, "SamplingRateBoost.MaxRate must be between 0 and 1"},
		{rule("bad"), []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}, `Tags[0].Key "aws:x" uses the reserved prefix`},
	} {
		_, err := c.CreateSamplingRule(bg, &xray.CreateSamplingRuleInput{SamplingRule: tc.rule, Tags: tc.tags})
		wantInvalid(t, err, tc.want)
	}
	_, err := c.UpdateSamplingRule(bg, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{RuleName: aws.String("nope"), FixedRate: aws.Float64(1)}})
	wantInvalid(t, err, `no sampling rule named "nope"`)
	_, err = c.UpdateSamplingRule(bg, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{FixedRate: aws.Float64(1)}})
	wantInvalid(t, err, "RuleName or SamplingRuleUpdate.RuleARN is required")
	_, err = c.DeleteSamplingRule(bg, &xray.DeleteSamplingRuleInput{RuleARN: aws.String("arn:aws:xray:us-east-1:1:group/x")})
	wantInvalid(t, err, "is not a sampling rule ARN")
	_, err = c.GetSamplingTargets(bg, &xray.GetSamplingTargetsInput{SamplingStatisticsDocuments: []types.SamplingStatisticsDocument{{
		RuleName: aws.String("Default"), ClientID: aws.String("short"), Timestamp: aws.Time(time.Now())}}})
	wantInvalid(t, err, "SamplingStatisticsDocuments[0].ClientID must be exactly 24 characters, got 5")

	// Nothing invalid was stored.
	got, _ := c.GetSamplingRules(bg, &xray.GetSamplingRulesInput{})
	if len(got.SamplingRuleRecords) != 1 {
		t.Errorf("%d rules after invalid requests, want only Default", len(got.SamplingRuleRecords))
	}
}

// Members the Go client would refuse to leave out, sent raw.
func TestMissingMembersAreNamed(t *testing.T) {
	a := xraytest.Start(t)
	for _, tc := range []struct{ path, body, want string }{
		{"/CreateSamplingRule", `{}`, "SamplingRule is required"},
		{"/CreateSamplingRule", `{"SamplingRule":{"RuleName":"x","Priority":1}}`, "missing required member(s): ResourceARN, ServiceName, ServiceType, Host, HTTPMethod, URLPath, FixedRate, ReservoirSize, Version"},
		{"/CreateSamplingRule", `{"SamplingRule":{"RuleName":"x","Priority":"high"}}`, "SamplingRule.Priority must be a number"},
		{"/UpdateSamplingRule", `{"SamplingRuleUpdate":null}`, "SamplingRuleUpdate is required"},
		{"/SamplingTargets", `{}`, "SamplingStatisticsDocuments is required"},
		{"/SamplingTargets", `{"SamplingStatisticsDocuments":[{"RuleName":"Default","ClientID":"0123456789abcdef01234567"}]}`,
			"SamplingStatisticsDocuments[0] is missing required member(s): Timestamp, RequestCount, SampledCount"},
		{"/SamplingTargets", `{"SamplingStatisticsDocuments":[{"RuleName":"Default","ClientID":"0123456789abcdef01234567","Timestamp":1,"RequestCount":-1,"SampledCount":0}]}`,
			"SamplingStatisticsDocuments[0].RequestCount must be 0 or more, got -1"},
		{"/SamplingStatisticSummaries", `{"NextToken":"garbage"}`, "was not issued by GetSamplingStatisticSummaries"},
	} {
		status, body := post(t, a, "http", tc.path, tc.body)
		if status != 400 || !strings.Contains(body, tc.want) || !strings.Contains(body, "InvalidRequestException") {
			t.Errorf("POST %s %s: %d %s, want 400 saying %q", tc.path, tc.body, status, body, tc.want)
		}
	}
}

func TestRuleLimit(t *testing.T) {
	a := xraytest.Start(t)
	c := client(t, a)
	for i := 0; i < 25; i++ {
		r := rule("r" + string(rune('a'+i)))
		if _, err := c.CreateSamplingRule(bg, &xray.CreateSamplingRuleInput{SamplingRule: r}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateSamplingRule(bg, &xray.CreateSamplingRuleInput{SamplingRule: rule("one-too-many")})
	var rle *types.RuleLimitExceededException
	if !errors.As(err, &rle) {
		t.Fatalf("26th rule: %v, want RuleLimitExceededException", err)
	}
}

// Targets: a known rule gets its quota, FixedRate, TTL and interval; an
// unknown one an UnprocessedStatistics with a 4xx code; the statistics
// land in the summaries.
func TestTargetsWithGoV2Client(t *testing.T) {
	a := xraytest.Start(t)
	c := client(t, a)
	if _, err := c.CreateSamplingRule(bg, &xray.CreateSamplingRuleInput{SamplingRule: rule("api-get")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	out, err := c.GetSamplingTargets(bg, &xray.GetSamplingTargetsInput{SamplingStatisticsDocuments: []types.SamplingStatisticsDocument{
		{RuleName: aws.String("api-get"), ClientID: aws.String("0123456789abcdef01234567"), Timestamp: aws.Time(now), RequestCount: 40, SampledCount: 12, BorrowCount: 1},
		{RuleName: aws.String("gone"), ClientID: aws.String("0123456789abcdef01234567"), Timestamp: aws.Time(now), RequestCount: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SamplingTargetDocuments) != 1 || out.LastRuleModification == nil {
		t.Fatalf("targets = %+v", out)
	}
	tg := out.SamplingTargetDocuments[0]
	if aws.ToString(tg.RuleName) != "api-get" || tg.FixedRate != 0.25 || aws.ToInt32(tg.ReservoirQuota) != 3 ||
		aws.ToInt32(tg.Interval) != 10 || tg.ReservoirQuotaTTL == nil || tg.ReservoirQuotaTTL.Before(now) {
		t.Errorf("target = %+v", tg)
	}
	if len(out.UnprocessedStatistics) != 1 || aws.ToString(out.UnprocessedStatistics[0].ErrorCode) != "400" ||
		aws.ToString(out.UnprocessedStatistics[0].RuleName) != "gone" {
		t.Errorf("unprocessed = %+v", out.UnprocessedStatistics)
	}
	sums, err := c.GetSamplingStatisticSummaries(bg, &xray.GetSamplingStatisticSummariesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sums.SamplingStatisticSummaries) != 1 {
		t.Fatalf("summaries = %+v", sums.SamplingStatisticSummaries)
	}
	s := sums.SamplingStatisticSummaries[0]
	if aws.ToString(s.RuleName) != "api-get" || s.RequestCount != 40 || s.SampledCount != 12 || s.BorrowCount != 1 ||
		s.Timestamp.Unix()%10 != 0 || now.Sub(*s.Timestamp) > 10*time.Second {
		t.Errorf("summary = %+v", s)
	}
}

// Rules survive a restart; targets answer LastRuleModification as a number.
func TestRulesPersist(t *testing.T) {
	dir := t.TempDir()
	a := xraytest.Start(t, xraytest.InDir(dir))
	c := client(t, a)
	if _, err := c.CreateSamplingRule(bg, &xray.CreateSamplingRuleInput{SamplingRule: rule("kept")}); err != nil {
		t.Fatal(err)
	}
	setDefault(t, c, 0.3, 4)
	a.Stop()

	a = xraytest.Start(t, xraytest.InDir(dir))
	_, body := post(t, a, "tcp", "/GetSamplingRules", "")
	var out struct {
		SamplingRuleRecords []struct{ SamplingRule map[string]any }
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.SamplingRuleRecords) != 2 {
		t.Fatalf("after restart: %s", body)
	}
	if r := out.SamplingRuleRecords[0].SamplingRule; r["RuleName"] != "kept" || r["URLPath"] != "/api/*" {
		t.Errorf("kept rule = %v", r)
	}
	if r := out.SamplingRuleRecords[1].SamplingRule; r["FixedRate"] != 0.3 || r["ReservoirSize"] != 4.0 {
		t.Errorf("Default = %v", r)
	}
}
