package groups

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Resource tags of groups and sampling rules, the taggable resources.

// Tag limits (spec §3.4).
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// Tag is one resource tag.
type Tag struct {
	Key   string
	Value string
}

func checkTags(tags []Tag, resource string) error {
	for i, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > maxTagKeyLen {
			return invalid("Tags[%d].Key must be 1 to %d characters, got %d", i, maxTagKeyLen, n)
		}
		if n := utf8.RuneCountInString(t.Value); n > maxTagValueLen {
			return invalid("Tags[%d].Value must be at most %d characters, got %d", i, maxTagValueLen, n)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return invalid("Tags[%d].Key %q uses the reserved prefix \"aws:\"", i, t.Key)
		}
	}
	if len(tags) > maxTags {
		return tooManyTags(resource, len(tags))
	}
	return nil
}

func tooManyTags(resource string, n int) error {
	return &Error{Kind: TooManyTags, Resource: resource,
		Message: "a resource may have at most 50 tags; this request would give it " + strconv.Itoa(n)}
}

// resourceExists checks that an ARN names a group or a sampling rule.
func (s *Service) resourceExists(ctx context.Context, arn string) error {
	if arn == "" {
		return invalid("ResourceARN is required")
	}
	if arn == s.DefaultARN() {
		return nil
	}
	prefix := "arn:aws:xray:" + s.cfg.Region + ":" + s.cfg.AccountID + ":"
	rest, ok := strings.CutPrefix(arn, prefix)
	switch {
	case ok && strings.HasPrefix(rest, "group/"):
		if _, err := s.Find("", arn); err == nil {
			return nil
		}
	case ok && strings.HasPrefix(rest, "sampling-rule/"):
		name := strings.TrimPrefix(rest, "sampling-rule/")
		if _, err := s.cfg.Store.GetMeta(ctx, metaSamplingRules, name); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return &Error{Kind: NotFound, Resource: arn, Message: "there is no group or sampling rule with ARN " + strconv.Quote(arn)}
}

func (s *Service) tagsOf(ctx context.Context, arn string) ([]Tag, error) {
	b, err := s.cfg.Store.GetMeta(ctx, MetaTags, arn)
	if errors.Is(err, store.ErrNotFound) {
		return []Tag{}, nil
	}
	if err != nil {
		return nil, err
	}
	var tags []Tag
	if err := json.Unmarshal(b, &tags); err != nil {
		return nil, err
	}
	return tags, nil
}

// putTags merges tags into a resource's, replacing values of existing keys.
func (s *Service) putTags(ctx context.Context, arn string, add []Tag) error {
	tags, err := s.tagsOf(ctx, arn)
	if err != nil {
		return err
	}
	for _, t := range add {
		replaced := false
		for i := range tags {
			if tags[i].Key == t.Key {
				tags[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			tags = append(tags, t)
		}
	}
	if len(tags) > maxTags {
		return tooManyTags(arn, len(tags))
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return err
	}
	return s.cfg.Store.PutMeta(ctx, MetaTags, arn, b)
}

// TagResource adds tags to a group or sampling rule.
func (s *Service) TagResource(ctx context.Context, arn string, tags []Tag) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.resourceExists(ctx, arn); err != nil {
		return err
	}
	if err := checkTags(tags, arn); err != nil {
		return err
	}
	return s.putTags(ctx, arn, tags)
}

// UntagResource removes the tags with the given keys.
func (s *Service) UntagResource(ctx context.Context, arn string, keys []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.resourceExists(ctx, arn); err != nil {
		return err
	}
	tags, err := s.tagsOf(ctx, arn)
	if err != nil {
		return err
	}
	drop := map[string]bool{}
	for _, k := range keys {
		drop[k] = true
	}
	kept := tags[:0]
	for _, t := range tags {
		if !drop[t.Key] {
			kept = append(kept, t)
		}
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return err
	}
	return s.cfg.Store.PutMeta(ctx, MetaTags, arn, b)
}

// Tags lists a resource's tags.
func (s *Service) Tags(ctx context.Context, arn string) ([]Tag, error) {
	if err := s.resourceExists(ctx, arn); err != nil {
		return nil, err
	}
	return s.tagsOf(ctx, arn)
}
