package groups

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Limits of a group (spec §3.4).
const (
	maxNameLen = 32
	// maxExpressionLen is the filter expression limit of X-Ray's API docs.
	maxExpressionLen = 2000
)

// Spec is what CreateGroup gives.
type Spec struct {
	Name             string
	FilterExpression string
	Insights         *Insights
	Tags             []Tag
}

// Create adds a group, refusing a name in use, a bad expression, and a
// group past MaxGroups.
func (s *Service) Create(ctx context.Context, spec Spec) (Group, error) {
	if err := checkName(spec.Name); err != nil {
		return Group{}, err
	}
	if err := checkInsights(spec.Insights); err != nil {
		return Group{}, err
	}
	if err := checkTags(spec.Tags, ""); err != nil {
		return Group{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := s.snapshot().records()
	if _, ok := recs[spec.Name]; ok {
		return Group{}, invalid("a group named %q already exists", spec.Name)
	}
	if len(recs) >= s.cfg.MaxGroups {
		return Group{}, invalid("there are already %d groups, the limit (X-Ray's quota is %d per account and region): every trace is matched against every group as it arrives; delete one first",
			len(recs), DefaultMaxGroups)
	}
	g := Group{GroupName: spec.Name, GroupARN: s.newARN(spec.Name), FilterExpression: spec.FilterExpression}
	if err := checkExpression(spec.Name, g.FilterExpression, recs); err != nil {
		return Group{}, err
	}
	if spec.Insights != nil {
		g.InsightsConfiguration = *spec.Insights
	}
	if len(spec.Tags) > 0 {
		if err := s.putTags(ctx, g.GroupARN, spec.Tags); err != nil {
			return Group{}, err
		}
	}
	if err := s.put(ctx, recs, g); err != nil {
		return Group{}, err
	}
	return g, nil
}

// Update changes a group's expression and insights settings (nil: leave).
func (s *Service) Update(ctx context.Context, name, arn string, expr *string, insights *Insights) (Group, error) {
	if err := checkInsights(insights); err != nil {
		return Group{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.Find(name, arn)
	if err != nil {
		return Group{}, err
	}
	if g.GroupName == DefaultName {
		return Group{}, invalid("the Default group cannot be changed")
	}
	recs := s.snapshot().records()
	if expr != nil {
		if err := checkExpression(g.GroupName, *expr, recs); err != nil {
			return Group{}, err
		}
		g.FilterExpression = *expr
	}
	if insights != nil {
		g.InsightsConfiguration = *insights
	}
	if err := s.put(ctx, recs, g); err != nil {
		return Group{}, err
	}
	return g, nil
}

// Delete removes a group and its tags.
func (s *Service) Delete(ctx context.Context, name, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.Find(name, arn)
	if err != nil {
		return err
	}
	if g.GroupName == DefaultName {
		return invalid("the Default group cannot be deleted")
	}
	if err := s.cfg.Store.DeleteMeta(ctx, MetaGroups, g.GroupName); err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteMeta(ctx, MetaTags, g.GroupARN); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	recs := s.snapshot().records()
	delete(recs, g.GroupName)
	s.snap.Store(compile(recs))
	return nil
}

func (s *Service) put(ctx context.Context, recs map[string]Group, g Group) error {
	b, err := json.Marshal(g)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.PutMeta(ctx, MetaGroups, g.GroupName, b); err != nil {
		return err
	}
	recs[g.GroupName] = g
	s.snap.Store(compile(recs))
	return nil
}

func (s *Service) newARN(name string) string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return "arn:aws:xray:" + s.cfg.Region + ":" + s.cfg.AccountID + ":group/" + name + "/" + base32.StdEncoding.EncodeToString(b[:])
}

func checkName(name string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > maxNameLen {
		return invalid("GroupName must be 1 to %d characters, got %d", maxNameLen, n)
	}
	for i, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return invalid("GroupName %q has %q at position %d; use letters, digits, '-' and '_'", name, r, i+1)
		}
	}
	if name == DefaultName {
		return invalid("GroupName %q is reserved", name)
	}
	return nil
}

// checkExpression validates a group's filter against the other groups,
// as group self would have it.
func checkExpression(self, expr string, recs map[string]Group) error {
	if strings.TrimSpace(expr) == "" {
		return nil
	}
	if n := utf8.RuneCountInString(expr); n > maxExpressionLen {
		return invalid("FilterExpression is %d characters long; at most %d are allowed", n, maxExpressionLen)
	}
	with := make(map[string]Group, len(recs)+1)
	for k, v := range recs {
		with[k] = v
	}
	with[self] = Group{GroupName: self, FilterExpression: expr}
	opts := filter.Options{Groups: resolverOf(with)}
	if _, err := filter.Parse(expr, opts); err != nil {
		return invalid("FilterExpression: %s", err.Error())
	}
	// Through other groups, the expression may lead back to this group.
	if _, err := filter.Parse("group.name = "+strconv.Quote(self), opts); err != nil && strings.Contains(err.Error(), "refers to itself") {
		return invalid("FilterExpression: group %q would refer to itself through the groups it names", self)
	}
	return nil
}

func checkInsights(c *Insights) error {
	if c != nil && c.NotificationsEnabled && !c.InsightsEnabled {
		return invalid("InsightsConfiguration: NotificationsEnabled requires InsightsEnabled")
	}
	return nil
}
