package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/roentgen-tracing/roentgen/internal/groups"
)

func wantAPIError(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %s", what, code)
		return
	}
	ae := apiError(t, err)
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Errorf("%s: %s %q, want %s containing %q", what, ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

func TestGroupsLifecycle(t *testing.T) {
	dir := t.TempDir()
	e := newSearchEnv(t, dir)
	ctx := context.Background()
	c := e.c

	created, err := c.CreateGroup(ctx, &xray.CreateGroupInput{
		GroupName:        aws.String("frontend-errors"),
		FilterExpression: aws.String(`service("frontend") AND fault = true`),
		Tags:             []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := created.Group
	arnRe := regexp.MustCompile(`^arn:aws:xray:us-east-1:000000000000:group/frontend-errors/[A-Z2-7]{24}$`)
	if !arnRe.MatchString(aws.ToString(g.GroupARN)) || aws.ToString(g.FilterExpression) != `service("frontend") AND fault = true` {
		t.Fatalf("created %+v", g)
	}
	if g.InsightsConfiguration == nil || aws.ToBool(g.InsightsConfiguration.InsightsEnabled) {
		t.Errorf("InsightsConfiguration = %+v, want present and off", g.InsightsConfiguration)
	}

	// Refusals.
	_, err = c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("frontend-errors")})
	wantAPIError(t, "duplicate", err, "InvalidRequestException", `a group named "frontend-errors" already exists`)
	_, err = c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("Default")})
	wantAPIError(t, "Default", err, "InvalidRequestException", "reserved")
	_, err = c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("has space")})
	wantAPIError(t, "name", err, "InvalidRequestException", `has ' ' at position 4`)
	_, err = c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String(strings.Repeat("a", 33))})
	wantAPIError(t, "long name", err, "InvalidRequestException", "1 to 32 characters")
	_, err = c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("bad"), FilterExpression: aws.String("responsetime >")})
	wantAPIError(t, "bad expression", err, "InvalidRequestException", "FilterExpression: expected a value after '>'")
	_, err = c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("notify"),
		InsightsConfiguration: &types.InsightsConfiguration{NotificationsEnabled: aws.Bool(true)}})
	wantAPIError(t, "notifications", err, "InvalidRequestException", "NotificationsEnabled requires InsightsEnabled")
	_, err = c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("tagged"),
		Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}}})
	wantAPIError(t, "reserved tag", err, "InvalidRequestException", `reserved prefix "aws:"`)

	// A group may build on another.
	if _, err := c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("slow_frontend_errors"),
		FilterExpression: aws.String(`group.name = "frontend-errors" AND responsetime > 1`)}); err != nil {
		t.Fatal(err)
	}

	// Reads by name and by ARN.
	byName, err := c.GetGroup(ctx, &xray.GetGroupInput{GroupName: aws.String("frontend-errors")})
	if err != nil || aws.ToString(byName.Group.GroupARN) != aws.ToString(g.GroupARN) {
		t.Fatalf("GetGroup by name: %+v %v", byName, err)
	}
	byARN, err := c.GetGroup(ctx, &xray.GetGroupInput{GroupARN: g.GroupARN})
	if err != nil || aws.ToString(byARN.Group.GroupName) != "frontend-errors" {
		t.Fatalf("GetGroup by ARN: %+v %v", byARN, err)
	}
	_, err = c.GetGroup(ctx, &xray.GetGroupInput{GroupName: aws.String("nope")})
	wantAPIError(t, "missing group", err, "InvalidRequestException", `there is no group named "nope"`)
	def, err := c.GetGroup(ctx, &xray.GetGroupInput{GroupName: aws.String("Default")})
	if err != nil || aws.ToString(def.Group.GroupARN) != "arn:aws:xray:us-east-1:000000000000:group/Default" {
		t.Fatalf("Default: %+v %v", def, err)
	}

	// Update: the expression is validated; a group cannot come to refer to itself.
	_, err = c.UpdateGroup(ctx, &xray.UpdateGroupInput{GroupName: aws.String("frontend-errors"), FilterExpression: aws.String("fault AND")})
	wantAPIError(t, "bad update", err, "InvalidRequestException", "expected a filter after AND")
	_, err = c.UpdateGroup(ctx, &xray.UpdateGroupInput{GroupName: aws.String("frontend-errors"), FilterExpression: aws.String(`group.name = "slow_frontend_errors"`)})
	wantAPIError(t, "cycle", err, "InvalidRequestException", "refers to itself")
	_, err = c.UpdateGroup(ctx, &xray.UpdateGroupInput{GroupName: aws.String("Default"), FilterExpression: aws.String("fault")})
	wantAPIError(t, "update Default", err, "InvalidRequestException", "Default group cannot be changed")
	up, err := c.UpdateGroup(ctx, &xray.UpdateGroupInput{GroupARN: g.GroupARN, FilterExpression: aws.String(`service("frontend") { fault }`),
		InsightsConfiguration: &types.InsightsConfiguration{InsightsEnabled: aws.Bool(true)}})
	if err != nil || aws.ToString(up.Group.FilterExpression) != `service("frontend") { fault }` || !aws.ToBool(up.Group.InsightsConfiguration.InsightsEnabled) {
		t.Fatalf("UpdateGroup: %+v %v", up, err)
	}

	// Tags on groups.
	if _, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: g.GroupARN,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("checkout")}, {Key: aws.String("tier"), Value: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &xray.UntagResourceInput{ResourceARN: g.GroupARN, TagKeys: []string{"tier"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &xray.ListTagsForResourceInput{ResourceARN: g.GroupARN})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "checkout" {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	many := make([]types.Tag, 50)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
	}
	_, err = c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: g.GroupARN, Tags: many})
	wantAPIError(t, "51 tags", err, "TooManyTagsException", "at most 50 tags")
	_, err = c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: aws.String("arn:aws:xray:us-east-1:000000000000:group/ghost/AAAA"),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantAPIError(t, "unknown ARN", err, "ResourceNotFoundException", "there is no group or sampling rule")

	// Tags on sampling rules, by the rule's ARN.
	rule, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: aws.String("checkout"), ResourceARN: aws.String("*"), Priority: aws.Int32(10), FixedRate: 0.1, ReservoirSize: 1,
		ServiceName: aws.String("*"), ServiceType: aws.String("*"), Host: aws.String("*"), HTTPMethod: aws.String("*"), URLPath: aws.String("*"), Version: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	ruleARN := rule.SamplingRuleRecord.SamplingRule.RuleARN
	if _, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: ruleARN, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatalf("tag %s: %v", aws.ToString(ruleARN), err)
	}
	rtags, err := c.ListTagsForResource(ctx, &xray.ListTagsForResourceInput{ResourceARN: ruleARN})
	if err != nil || len(rtags.Tags) != 1 || aws.ToString(rtags.Tags[0].Key) != "env" {
		t.Fatalf("rule tags: %+v %v", rtags, err)
	}
	_, err = c.ListTagsForResource(ctx, &xray.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:xray:us-east-1:000000000000:sampling-rule/ghost")})
	wantAPIError(t, "unknown rule", err, "ResourceNotFoundException", "sampling-rule/ghost")

	// GetGroups lists Default first, then by name.
	list, err := c.GetGroups(ctx, &xray.GetGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range list.Groups {
		names = append(names, aws.ToString(x.GroupName))
	}
	if strings.Join(names, ",") != "Default,frontend-errors,slow_frontend_errors" {
		t.Fatalf("GetGroups: %v", names)
	}

	// Searches accept groups by name and ARN.
	e.ingestFixtures(t)
	for _, expr := range []string{`group.name = "frontend-errors"`, fmt.Sprintf(`group.arn = %q`, aws.ToString(g.GroupARN))} {
		ids, err := e.search(t, xray.GetTraceSummariesInput{FilterExpression: aws.String(expr)})
		if err != nil || len(ids) != 2 {
			t.Errorf("%s: %d traces (%v), want the 2 failing Go SDK checkouts", expr, len(ids), err)
		}
	}

	// Delete; Default cannot go; a deleted group's tags go with it.
	_, err = c.DeleteGroup(ctx, &xray.DeleteGroupInput{GroupName: aws.String("Default")})
	wantAPIError(t, "delete Default", err, "InvalidRequestException", "cannot be deleted")
	if _, err := c.DeleteGroup(ctx, &xray.DeleteGroupInput{GroupARN: g.GroupARN}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListTagsForResource(ctx, &xray.ListTagsForResourceInput{ResourceARN: g.GroupARN})
	wantAPIError(t, "tags of deleted group", err, "ResourceNotFoundException", "")
	_, err = e.search(t, xray.GetTraceSummariesInput{FilterExpression: aws.String(`group.name = "slow_frontend_errors"`)})
	wantAPIError(t, "group referring to a deleted group", err, "InvalidRequestException", `there is no group "frontend-errors"`)
}

func TestGroupsPersistAndPage(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	t.Run("create", func(t *testing.T) {
		e := newSearchEnv(t, dir)
		for i := range groups.DefaultMaxGroups {
			if _, err := e.c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("g-%03d", i)),
				FilterExpression: aws.String(fmt.Sprintf("annotation.n = %d", i))}); err != nil {
				t.Fatal(err)
			}
		}
		// X-Ray's quota: every trace is matched against every group as it
		// arrives, so a 26th group is refused, clearly.
		_, err := e.c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("one-too-many")})
		wantAPIError(t, "26th group", err, "InvalidRequestException", "there are already 25 groups, the limit")
		// A store from before the limit may hold more: seed them.
		for i := groups.DefaultMaxGroups; i < 120; i++ {
			name := fmt.Sprintf("g-%03d", i)
			b, _ := json.Marshal(groups.Group{GroupName: name, GroupARN: "arn:aws:xray:us-east-1:000000000000:group/" + name + "/X",
				FilterExpression: fmt.Sprintf("annotation.n = %d", i)})
			if err := e.st.PutMeta(ctx, groups.MetaGroups, name, b); err != nil {
				t.Fatal(err)
			}
		}
	})
	// A new server on the same store sees them all, over two pages.
	st2 := newSearchEnv(t, dir)
	var names []string
	in := &xray.GetGroupsInput{}
	for {
		out, err := st2.c.GetGroups(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.Groups {
			names = append(names, aws.ToString(g.GroupName))
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if len(names) != 121 || names[0] != "Default" || names[120] != "g-119" {
		t.Fatalf("%d groups after restart: first %q, last %q", len(names), names[0], names[len(names)-1])
	}
}
