// Package groups is X-Ray's groups (spec §3.2, §4.3): named filter
// expressions that scope the service graph and trace searches, kept in the
// store's metadata, compiled once per change and matched against every
// trace summary at ingest (Matching). It also keeps the resource tags of
// groups and sampling rules (tags.go).
//
// Matching runs on the ingest path for every summary, so its cost is what
// bounds the groups: MaxGroups (X-Ray's 25) caps how many may exist.
package groups

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Metadata kinds: groups (key: name, value: Group as JSON) and resource
// tags (key: ARN, value: JSON [{"Key","Value"}]).
const (
	MetaGroups = "groups"
	MetaTags   = "tags"
	// metaSamplingRules is internal/sampling's kind: tags name its rules.
	metaSamplingRules = "sampling-rules"
)

// DefaultName is the group every trace belongs to; it is not stored.
const DefaultName = "Default"

// DefaultMaxGroups is how many groups besides Default may exist: X-Ray's
// quota of 25 groups per account and region (spec §3.4). Every summary is
// matched against every group's expression, so this bounds what a group
// costs ingest.
const DefaultMaxGroups = 25

// Config wires the groups to the store.
type Config struct {
	Store store.Store
	// Region and AccountID appear in the ARNs of groups.
	Region, AccountID string
	// MaxGroups bounds the groups (Default not counted); 0 means
	// DefaultMaxGroups.
	MaxGroups int
	// DefaultInsights is the Default group's InsightsConfiguration (the
	// Default group is not stored; the server's flags set it).
	DefaultInsights Insights
	Logger          *slog.Logger
}

// Insights is a group's InsightsConfiguration.
type Insights struct {
	InsightsEnabled      bool
	NotificationsEnabled bool
}

// Group is a stored group, in the API's shape (and its stored JSON).
type Group struct {
	GroupName             string
	GroupARN              string
	FilterExpression      string   `json:",omitempty"`
	InsightsConfiguration Insights `json:"InsightsConfiguration"`
}

// entry is a group with its compiled expression; expr is nil for a group
// without a filter (every trace) and err says why it does not compile (a
// group it references was deleted).
type entry struct {
	g    Group
	expr *filter.Expr
	err  error
}

// snapshot is an immutable view of every group: readers (the ingest path,
// searches) never wait for writers.
type snapshot struct {
	byName map[string]*entry
	names  []string // sorted
}

// Service keeps the groups. It is safe for concurrent use.
type Service struct {
	cfg  Config
	mu   sync.Mutex // serialises changes
	snap atomic.Pointer[snapshot]
}

// New loads the stored groups.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.MaxGroups <= 0 {
		cfg.MaxGroups = DefaultMaxGroups
	}
	s := &Service{cfg: cfg}
	recs, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	if len(recs) > cfg.MaxGroups {
		// Created before the limit: kept and served, but none may be added.
		cfg.Logger.Warn("more groups are stored than the limit; each costs every ingested trace, delete some",
			"groups", len(recs), "limit", cfg.MaxGroups)
	}
	s.snap.Store(compile(recs))
	return s, nil
}

func (s *Service) snapshot() *snapshot { return s.snap.Load() }

// resolverOf resolves group.name / group.arn against a set of groups.
func resolverOf(recs map[string]Group) filter.GroupResolver {
	return func(byARN bool, ref string) (string, bool) {
		if !byARN {
			if ref == DefaultName {
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

func compile(recs map[string]Group) *snapshot {
	sn := &snapshot{byName: make(map[string]*entry, len(recs))}
	opts := filter.Options{Groups: resolverOf(recs)}
	for name, r := range recs {
		e := &entry{g: r}
		if strings.TrimSpace(r.FilterExpression) != "" {
			e.expr, e.err = filter.Parse(r.FilterExpression, opts)
		}
		sn.byName[name] = e
		sn.names = append(sn.names, name)
	}
	sort.Strings(sn.names)
	return sn
}

func (sn *snapshot) records() map[string]Group {
	m := make(map[string]Group, len(sn.byName))
	for k, e := range sn.byName {
		m[k] = e.g
	}
	return m
}

// FilterOptions resolves group references (group.name, group.arn) in
// filter expressions of searches.
func (s *Service) FilterOptions() filter.Options {
	return filter.Options{Groups: resolverOf(s.snapshot().records())}
}

// Matching lists the groups (other than Default) whose filter expression a
// trace summary satisfies, each expression evaluated once; the service
// graph keeps statistics per group. Groups whose expression does not
// compile match nothing.
func (s *Service) Matching(sum *trace.Summary) []string {
	sn := s.snapshot()
	var out []string
	for _, name := range sn.names {
		e := sn.byName[name]
		if e.err == nil && (e.expr == nil || e.expr.Match(sum)) {
			out = append(out, name)
		}
	}
	return out
}

// Expression is a group's current filter expression ("" for none, or for
// a group that does not exist).
func (s *Service) Expression(name string) string {
	if e := s.snapshot().byName[name]; e != nil {
		return e.g.FilterExpression
	}
	return ""
}

// DefaultARN is the ARN of the Default group.
func (s *Service) DefaultARN() string {
	return "arn:aws:xray:" + s.cfg.Region + ":" + s.cfg.AccountID + ":group/" + DefaultName
}

func (s *Service) defaultGroup() Group {
	return Group{GroupName: DefaultName, GroupARN: s.DefaultARN(), InsightsConfiguration: s.cfg.DefaultInsights}
}

// Find resolves a group named by name or ARN (one of them; both empty
// means Default). Other operations (the service graph, trace search) use it
// to scope their answers to a group.
func (s *Service) Find(name, arn string) (Group, error) {
	def := s.DefaultARN()
	if name == "" && arn == "" || name == DefaultName && (arn == "" || arn == def) || name == "" && arn == def {
		return s.defaultGroup(), nil
	}
	sn := s.snapshot()
	if name != "" {
		e, ok := sn.byName[name]
		if !ok {
			return Group{}, invalid("there is no group named %q", name)
		}
		if arn != "" && e.g.GroupARN != arn {
			return Group{}, invalid("GroupName %q and GroupARN %q name different groups; give one of them", name, arn)
		}
		return e.g, nil
	}
	for _, e := range sn.byName {
		if e.g.GroupARN == arn {
			return e.g, nil
		}
	}
	return Group{}, invalid("there is no group with ARN %q", arn)
}

// PageSize is how many groups a page of List holds.
const PageSize = 100

// List is a page of every group, Default first and the others by name,
// starting after the group token names; next is the token of the following
// page ("" on the last).
func (s *Service) List(token string) (page []Group, next string) {
	sn := s.snapshot()
	all := append([]string{DefaultName}, sn.names...)
	start := 0
	if token != "" {
		start = -1
		for i, n := range all {
			if n == token {
				start = i + 1
			}
		}
		if start < 0 {
			// The group the token names was deleted: resume after its place.
			start = 1 + sort.SearchStrings(sn.names, token)
		}
	}
	page = []Group{}
	for i := start; i < len(all); i++ {
		if len(page) == PageSize {
			return page, all[i-1]
		}
		if all[i] == DefaultName {
			page = append(page, s.defaultGroup())
		} else {
			page = append(page, sn.byName[all[i]].g)
		}
	}
	return page, ""
}
