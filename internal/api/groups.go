package api

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Groups (spec §3.2, §4.3) are named filter expressions kept in metadata
// kind "groups" (key: name). Resource tags of groups and sampling rules are
// kept in kind "tags" (key: ARN, value: JSON [{"Key","Value"}]).
const (
	metaGroups        = "groups"
	metaTags          = "tags"
	metaSamplingRules = "sampling-rules"
	defaultGroupName  = "Default"
	// maxGroups bounds the groups every ingested trace is tested against.
	maxGroups       = 1000
	maxGroupNameLen = 32
	groupsPageSize  = 100
	maxTags         = 50
	maxTagKeyLen    = 128
	maxTagValueLen  = 256
)

type insightsConfiguration struct {
	InsightsEnabled      bool
	NotificationsEnabled bool
}

// groupRecord is a stored group and the API's Group shape.
type groupRecord struct {
	GroupName             string
	GroupARN              string
	FilterExpression      string                `json:",omitempty"`
	InsightsConfiguration insightsConfiguration `json:"InsightsConfiguration"`
}

// groupEntry is a group with its compiled expression; expr is nil for a
// group without a filter (every trace) and err says why it does not
// compile (a group it references was deleted).
type groupEntry struct {
	rec  groupRecord
	expr *filter.Expr
	err  error
}

// groupSnapshot is an immutable view of every group: readers (ingest
// hooks, searches) never wait for writers.
type groupSnapshot struct {
	byName map[string]*groupEntry
	names  []string // sorted
}

// groupsAPI serves groups and resource tags.
type groupsAPI struct {
	s    *Server
	mu   sync.Mutex // serializes changes
	snap atomic.Pointer[groupSnapshot]
}

func (g *groupsAPI) init(s *Server) error {
	g.s = s
	recs := map[string]groupRecord{}
	err := s.cfg.Store.ListMeta(context.Background(), metaGroups, func(key string, value []byte) bool {
		var r groupRecord
		if json.Unmarshal(value, &r) == nil && r.GroupName == key {
			recs[key] = r
		} else {
			s.log.Warn("stored group does not decode; ignoring it", "group", key)
		}
		return true
	})
	if err != nil {
		return err
	}
	g.snap.Store(compileGroups(recs))
	return nil
}

func (g *groupsAPI) snapshot() *groupSnapshot {
	if sn := g.snap.Load(); sn != nil {
		return sn
	}
	return &groupSnapshot{byName: map[string]*groupEntry{}}
}

// resolverOf resolves group.name / group.arn against a set of groups.
func resolverOf(recs map[string]groupRecord) filter.GroupResolver {
	return func(byARN bool, ref string) (string, bool) {
		if !byARN {
			if ref == defaultGroupName {
				return "", true
			}
			r, ok := recs[ref]
			return r.FilterExpression, ok
		}
		for _, r := range recs {
			if r.GroupARN == ref {
				return r.FilterExpression, true
			}
		}
		return "", false
	}
}

func compileGroups(recs map[string]groupRecord) *groupSnapshot {
	sn := &groupSnapshot{byName: make(map[string]*groupEntry, len(recs))}
	opts := filter.Options{Groups: resolverOf(recs)}
	for name, r := range recs {
		e := &groupEntry{rec: r}
		if strings.TrimSpace(r.FilterExpression) != "" {
			e.expr, e.err = filter.Parse(r.FilterExpression, opts)
		}
		sn.byName[name] = e
		sn.names = append(sn.names, name)
	}
	sort.Strings(sn.names)
	return sn
}

func (sn *groupSnapshot) records() map[string]groupRecord {
	m := make(map[string]groupRecord, len(sn.byName))
	for k, e := range sn.byName {
		m[k] = e.rec
	}
	return m
}

// filterOptions resolves group references in searches.
func (g *groupsAPI) filterOptions() filter.Options {
	return filter.Options{Groups: resolverOf(g.snapshot().records())}
}

// groupRef is a resolved group: its name, ARN and filter expression.
type groupRef struct {
	Name, ARN, FilterExpression string
}

func (g *groupsAPI) defaultARN() string {
	return "arn:aws:xray:" + g.s.cfg.Region + ":" + g.s.cfg.AccountID + ":group/" + defaultGroupName
}

// lookup resolves a group named by GroupName or GroupARN (one of them; both
// empty means the Default group). Other operation families (the service
// graph, trace search) use it to scope their answers to a group.
func (g *groupsAPI) lookup(ctx context.Context, name, arn string) (groupRef, error) {
	e, err := g.find(name, arn)
	if err != nil {
		return groupRef{}, err
	}
	return groupRef{Name: e.rec.GroupName, ARN: e.rec.GroupARN, FilterExpression: e.rec.FilterExpression}, nil
}

func (g *groupsAPI) defaultEntry() *groupEntry {
	return &groupEntry{rec: groupRecord{GroupName: defaultGroupName, GroupARN: g.defaultARN()}}
}

// find resolves GroupName / GroupARN to a group, Default included.
func (g *groupsAPI) find(name, arn string) (*groupEntry, error) {
	if name == "" && arn == "" || name == defaultGroupName && (arn == "" || arn == g.defaultARN()) || name == "" && arn == g.defaultARN() {
		return g.defaultEntry(), nil
	}
	sn := g.snapshot()
	if name != "" {
		e, ok := sn.byName[name]
		if !ok {
			return nil, invalid("there is no group named %q", name)
		}
		if arn != "" && e.rec.GroupARN != arn {
			return nil, invalid("GroupName %q and GroupARN %q name different groups; give one of them", name, arn)
		}
		return e, nil
	}
	for _, e := range sn.byName {
		if e.rec.GroupARN == arn {
			return e, nil
		}
	}
	return nil, invalid("there is no group with ARN %q", arn)
}

// matching lists the groups (other than Default) whose filter expression a
// trace summary satisfies; the service graph keeps statistics per group.
// Groups whose expression does not compile match nothing.
func (g *groupsAPI) matching(sum *trace.Summary) []string {
	sn := g.snapshot()
	var out []string
	for _, name := range sn.names {
		e := sn.byName[name]
		if e.err == nil && (e.expr == nil || e.expr.Match(sum)) {
			out = append(out, name)
		}
	}
	return out
}

func (g *groupsAPI) newARN(name string) string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return "arn:aws:xray:" + g.s.cfg.Region + ":" + g.s.cfg.AccountID + ":group/" + name + "/" + base32.StdEncoding.EncodeToString(b[:])
}

func checkGroupName(name string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > maxGroupNameLen {
		return invalid("GroupName must be 1 to %d characters, got %d", maxGroupNameLen, n)
	}
	for i, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return invalid("GroupName %q has %q at position %d; use letters, digits, '-' and '_'", name, r, i+1)
		}
	}
	if name == defaultGroupName {
		return invalid("GroupName %q is reserved", name)
	}
	return nil
}

// checkExpression validates a group's filter against the other groups,
// as group self would have it.
func checkExpression(self, expr string, recs map[string]groupRecord) error {
	if strings.TrimSpace(expr) == "" {
		return nil
	}
	with := make(map[string]groupRecord, len(recs)+1)
	for k, v := range recs {
		with[k] = v
	}
	with[self] = groupRecord{GroupName: self, FilterExpression: expr}
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

func checkInsights(c *insightsConfiguration) error {
	if c != nil && c.NotificationsEnabled && !c.InsightsEnabled {
		return invalid("InsightsConfiguration: NotificationsEnabled requires InsightsEnabled")
	}
	return nil
}

type groupOutput struct {
	Group groupRecord
}

func (g *groupsAPI) put(ctx context.Context, recs map[string]groupRecord, r groupRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := g.s.cfg.Store.PutMeta(ctx, metaGroups, r.GroupName, b); err != nil {
		return err
	}
	recs[r.GroupName] = r
	g.snap.Store(compileGroups(recs))
	return nil
}

type createGroupInput struct {
	GroupName             *string
	FilterExpression      *string
	InsightsConfiguration *insightsConfiguration
	Tags                  []resourceTag
}

func (g *groupsAPI) createGroup(ctx context.Context, body []byte) (any, error) {
	var in createGroupInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.GroupName == nil {
		return nil, invalid("GroupName is required")
	}
	name := *in.GroupName
	if err := checkGroupName(name); err != nil {
		return nil, err
	}
	if err := checkInsights(in.InsightsConfiguration); err != nil {
		return nil, err
	}
	if err := checkResourceTags(in.Tags, ""); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	recs := g.snapshot().records()
	if _, ok := recs[name]; ok {
		return nil, invalid("a group named %q already exists", name)
	}
	if len(recs) >= maxGroups {
		return nil, invalid("there are already %d groups, the limit", maxGroups)
	}
	r := groupRecord{GroupName: name, GroupARN: g.newARN(name), FilterExpression: groupStr(in.FilterExpression)}
	if err := checkExpression(name, r.FilterExpression, recs); err != nil {
		return nil, err
	}
	if in.InsightsConfiguration != nil {
		r.InsightsConfiguration = *in.InsightsConfiguration
	}
	if len(in.Tags) > 0 {
		if err := g.putTags(ctx, r.GroupARN, in.Tags); err != nil {
			return nil, err
		}
	}
	if err := g.put(ctx, recs, r); err != nil {
		return nil, err
	}
	return groupOutput{Group: r}, nil
}

type groupInput struct {
	GroupName *string
	GroupARN  *string
}

func (g *groupsAPI) getGroup(ctx context.Context, body []byte) (any, error) {
	var in groupInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if groupStr(in.GroupName) == "" && groupStr(in.GroupARN) == "" {
		return nil, invalid("GroupName or GroupARN is required")
	}
	e, err := g.find(groupStr(in.GroupName), groupStr(in.GroupARN))
	if err != nil {
		return nil, err
	}
	return groupOutput{Group: e.rec}, nil
}

func (g *groupsAPI) getGroups(ctx context.Context, body []byte) (any, error) {
	var in struct{ NextToken *string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	sn := g.snapshot()
	all := append([]string{defaultGroupName}, sn.names...)
	start := 0
	if t := groupStr(in.NextToken); t != "" {
		start = -1
		for i, n := range all {
			if n == t {
				start = i + 1
			}
		}
		if start < 0 {
			// The group the token names was deleted: resume after its place.
			start = 1 + sort.SearchStrings(sn.names, t)
		}
	}
	type output struct {
		Groups    []groupRecord
		NextToken *string `json:",omitempty"`
	}
	out := output{Groups: []groupRecord{}}
	for i := start; i < len(all); i++ {
		if len(out.Groups) == groupsPageSize {
			t := all[i-1]
			out.NextToken = &t
			break
		}
		if all[i] == defaultGroupName {
			out.Groups = append(out.Groups, g.defaultEntry().rec)
		} else {
			out.Groups = append(out.Groups, sn.byName[all[i]].rec)
		}
	}
	return out, nil
}

type updateGroupInput struct {
	GroupName             *string
	GroupARN              *string
	FilterExpression      *string
	InsightsConfiguration *insightsConfiguration
}

func (g *groupsAPI) updateGroup(ctx context.Context, body []byte) (any, error) {
	var in updateGroupInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if groupStr(in.GroupName) == "" && groupStr(in.GroupARN) == "" {
		return nil, invalid("GroupName or GroupARN is required")
	}
	if err := checkInsights(in.InsightsConfiguration); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	e, err := g.find(groupStr(in.GroupName), groupStr(in.GroupARN))
	if err != nil {
		return nil, err
	}
	r := e.rec
	if r.GroupName == defaultGroupName {
		return nil, invalid("the Default group cannot be changed")
	}
	recs := g.snapshot().records()
	if in.FilterExpression != nil {
		if err := checkExpression(r.GroupName, *in.FilterExpression, recs); err != nil {
			return nil, err
		}
		r.FilterExpression = *in.FilterExpression
	}
	if in.InsightsConfiguration != nil {
		r.InsightsConfiguration = *in.InsightsConfiguration
	}
	if err := g.put(ctx, recs, r); err != nil {
		return nil, err
	}
	return groupOutput{Group: r}, nil
}

func (g *groupsAPI) deleteGroup(ctx context.Context, body []byte) (any, error) {
	var in groupInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if groupStr(in.GroupName) == "" && groupStr(in.GroupARN) == "" {
		return nil, invalid("GroupName or GroupARN is required")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	e, err := g.find(groupStr(in.GroupName), groupStr(in.GroupARN))
	if err != nil {
		return nil, err
	}
	if e.rec.GroupName == defaultGroupName {
		return nil, invalid("the Default group cannot be deleted")
	}
	if err := g.s.cfg.Store.DeleteMeta(ctx, metaGroups, e.rec.GroupName); err != nil {
		return nil, err
	}
	if err := g.s.cfg.Store.DeleteMeta(ctx, metaTags, e.rec.GroupARN); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	recs := g.snapshot().records()
	delete(recs, e.rec.GroupName)
	g.snap.Store(compileGroups(recs))
	return struct{}{}, nil
}

// Resource tags.

type resourceTag struct {
	Key   string
	Value string
}

func checkResourceTags(tags []resourceTag, resource string) error {
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
	return &Error{Status: http.StatusBadRequest, Type: "TooManyTagsException", ResourceName: resource,
		Message: "a resource may have at most 50 tags; this request would give it " + strconv.Itoa(n)}
}

func groupStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// resourceExists checks that an ARN names a group or a sampling rule.
func (g *groupsAPI) resourceExists(ctx context.Context, arn string) error {
	if arn == "" {
		return invalid("ResourceARN is required")
	}
	if arn == g.defaultARN() {
		return nil
	}
	prefix := "arn:aws:xray:" + g.s.cfg.Region + ":" + g.s.cfg.AccountID + ":"
	rest, ok := strings.CutPrefix(arn, prefix)
	switch {
	case ok && strings.HasPrefix(rest, "group/"):
		if _, err := g.find("", arn); err == nil {
			return nil
		}
	case ok && strings.HasPrefix(rest, "sampling-rule/"):
		name := strings.TrimPrefix(rest, "sampling-rule/")
		if _, err := g.s.cfg.Store.GetMeta(ctx, metaSamplingRules, name); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return notFound(arn, "there is no group or sampling rule with ARN %q", arn)
}

func (g *groupsAPI) tagsOf(ctx context.Context, arn string) ([]resourceTag, error) {
	b, err := g.s.cfg.Store.GetMeta(ctx, metaTags, arn)
	if errors.Is(err, store.ErrNotFound) {
		return []resourceTag{}, nil
	}
	if err != nil {
		return nil, err
	}
	var tags []resourceTag
	if err := json.Unmarshal(b, &tags); err != nil {
		return nil, err
	}
	return tags, nil
}

// putTags merges tags into a resource's, replacing values of existing keys.
func (g *groupsAPI) putTags(ctx context.Context, arn string, add []resourceTag) error {
	tags, err := g.tagsOf(ctx, arn)
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
	return g.s.cfg.Store.PutMeta(ctx, metaTags, arn, b)
}

func (g *groupsAPI) tagResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceARN *string
		Tags        []resourceTag
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, invalid("Tags is required")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.resourceExists(ctx, groupStr(in.ResourceARN)); err != nil {
		return nil, err
	}
	if err := checkResourceTags(in.Tags, *in.ResourceARN); err != nil {
		return nil, err
	}
	return struct{}{}, g.putTags(ctx, *in.ResourceARN, in.Tags)
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
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.resourceExists(ctx, groupStr(in.ResourceARN)); err != nil {
		return nil, err
	}
	tags, err := g.tagsOf(ctx, *in.ResourceARN)
	if err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
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
		return nil, err
	}
	return struct{}{}, g.s.cfg.Store.PutMeta(ctx, metaTags, *in.ResourceARN, b)
}

func (g *groupsAPI) listTagsForResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceARN *string
		NextToken   *string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := g.resourceExists(ctx, groupStr(in.ResourceARN)); err != nil {
		return nil, err
	}
	tags, err := g.tagsOf(ctx, *in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return struct{ Tags []resourceTag }{tags}, nil
}
