package api

import (
	"context"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// groupsAPI serves groups and resource tags.
type groupsAPI struct{}

func (g *groupsAPI) init(s *Server) error { return nil }

// groupRef is a resolved group: its name, ARN and filter expression.
type groupRef struct {
	Name, ARN, FilterExpression string
}

// lookup resolves a group named by GroupName or GroupARN (one of them; both
// empty means the Default group). Other operation families (the service
// graph, trace search) use it to scope their answers to a group.
func (g *groupsAPI) lookup(ctx context.Context, name, arn string) (groupRef, error) {
	if name == "" && arn == "" || name == "Default" {
		return groupRef{Name: "Default"}, nil
	}
	return groupRef{}, invalid("groups are not implemented yet")
}

// matching lists the groups (other than Default) whose filter expression a
// trace summary satisfies; the service graph keeps statistics per group.
func (g *groupsAPI) matching(sum *trace.Summary) []string { return nil }

func (g *groupsAPI) createGroup(ctx context.Context, body []byte) (any, error) {
	return notSupported("CreateGroup", "groups are not implemented yet")()
}

func (g *groupsAPI) getGroup(ctx context.Context, body []byte) (any, error) {
	return notSupported("GetGroup", "groups are not implemented yet")()
}

func (g *groupsAPI) getGroups(ctx context.Context, body []byte) (any, error) {
	return notSupported("GetGroups", "groups are not implemented yet")()
}

func (g *groupsAPI) updateGroup(ctx context.Context, body []byte) (any, error) {
	return notSupported("UpdateGroup", "groups are not implemented yet")()
}

func (g *groupsAPI) deleteGroup(ctx context.Context, body []byte) (any, error) {
	return notSupported("DeleteGroup", "groups are not implemented yet")()
}

func (g *groupsAPI) tagResource(ctx context.Context, body []byte) (any, error) {
	return notSupported("TagResource", "tags are not implemented yet")()
}

func (g *groupsAPI) untagResource(ctx context.Context, body []byte) (any, error) {
	return notSupported("UntagResource", "tags are not implemented yet")()
}

func (g *groupsAPI) listTagsForResource(ctx context.Context, body []byte) (any, error) {
	return notSupported("ListTagsForResource", "tags are not implemented yet")()
}
