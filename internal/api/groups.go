package api

import "context"

// groupsAPI serves groups and resource tags.
type groupsAPI struct{}

func (g *groupsAPI) init(s *Server) error { return nil }

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
