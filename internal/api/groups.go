package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/roentgen-tracing/roentgen/internal/groups"
)

// groupsAPI serves groups and resource tags (spec §3.2, §4.3): the wire
// shapes over internal/groups, which holds the logic.
type groupsAPI struct{ s *Server }

func (g *groupsAPI) svc() *groups.Service { return g.s.cfg.Groups }

// groupsError maps the groups service's refusals to API errors.
func groupsError(err error) error {
	var e *groups.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Kind {
	case groups.NotFound:
		return notFound(e.Resource, "%s", e.Message)
	case groups.TooManyTags:
		return &Error{Status: http.StatusBadRequest, Type: "TooManyTagsException", ResourceName: e.Resource, Message: e.Message}
	}
	return invalid("%s", e.Message)
}

type groupOutput struct {
	Group groups.Group
}

type createGroupInput struct {
	GroupName             *string
	FilterExpression      *string
	InsightsConfiguration *groups.Insights
	Tags                  []groups.Tag
}

func (g *groupsAPI) createGroup(ctx context.Context, body []byte) (any, error) {
	var in createGroupInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.GroupName == nil {
		return nil, invalid("GroupName is required")
	}
	r, err := g.svc().Create(ctx, groups.Spec{Name: *in.GroupName, FilterExpression: str(in.FilterExpression),
		Insights: in.InsightsConfiguration, Tags: in.Tags})
	if err != nil {
		return nil, groupsError(err)
	}
	return groupOutput{Group: r}, nil
}

type groupInput struct {
	GroupName *string
	GroupARN  *string
}

func (in *groupInput) check() error {
	if str(in.GroupName) == "" && str(in.GroupARN) == "" {
		return invalid("GroupName or GroupARN is required")
	}
	return nil
}

func (g *groupsAPI) getGroup(ctx context.Context, body []byte) (any, error) {
	var in groupInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	r, err := g.svc().Find(str(in.GroupName), str(in.GroupARN))
	if err != nil {
		return nil, groupsError(err)
	}
	return groupOutput{Group: r}, nil
}

func (g *groupsAPI) getGroups(ctx context.Context, body []byte) (any, error) {
	var in struct{ NextToken *string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	page, next := g.svc().List(str(in.NextToken))
	out := struct {
		Groups    []groups.Group
		NextToken *string `json:",omitempty"`
	}{Groups: page}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}

type updateGroupInput struct {
	GroupName             *string
	GroupARN              *string
	FilterExpression      *string
	InsightsConfiguration *groups.Insights
}

func (g *groupsAPI) updateGroup(ctx context.Context, body []byte) (any, error) {
	var in updateGroupInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := (&groupInput{in.GroupName, in.GroupARN}).check(); err != nil {
		return nil, err
	}
	r, err := g.svc().Update(ctx, str(in.GroupName), str(in.GroupARN), in.FilterExpression, in.InsightsConfiguration)
	if err != nil {
		return nil, groupsError(err)
	}
	return groupOutput{Group: r}, nil
}

func (g *groupsAPI) deleteGroup(ctx context.Context, body []byte) (any, error) {
	var in groupInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if err := g.svc().Delete(ctx, str(in.GroupName), str(in.GroupARN)); err != nil {
		return nil, groupsError(err)
	}
	return struct{}{}, nil
}

// Resource tags (of groups and sampling rules).

func (g *groupsAPI) tagResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceARN *string
		Tags        []groups.Tag
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, invalid("Tags is required")
	}
	return struct{}{}, groupsError(g.svc().TagResource(ctx, str(in.ResourceARN), in.Tags))
}

func (g *groupsAPI) untagResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceARN *string
		TagKeys     []string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, invalid("TagKeys is required")
	}
	return struct{}{}, groupsError(g.svc().UntagResource(ctx, str(in.ResourceARN), in.TagKeys))
}

func (g *groupsAPI) listTagsForResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceARN *string
		NextToken   *string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	tags, err := g.svc().Tags(ctx, str(in.ResourceARN))
	if err != nil {
		return nil, groupsError(err)
	}
	return struct{ Tags []groups.Tag }{tags}, nil
}
