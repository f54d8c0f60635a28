package keep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/roentgen-tracing/roentgen/internal/filter"
	"github.com/roentgen-tracing/roentgen/internal/metrics"
	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// MetaKind and MetaKey locate the stored policy list in store metadata.
const (
	MetaKind = "keep-policies"
	MetaKey  = "policies"
)

// Service holds the policies in force, persists changes and counts
// decisions. Safe for concurrent use; Decide takes no lock.
type Service struct {
	st      store.Store
	opts    func() filter.Options
	metrics *metrics.Metrics
	log     *slog.Logger

	counts sync.Map // policy name -> *policyCount since start

	mu     sync.Mutex // serialises Put and Refresh
	cur    atomic.Pointer[Compiled]
	stored []byte // the record cur was compiled from (nil: none stored); under mu
}

// New loads the stored policies (Default when none are stored). opts gives
// the filter options (group references) at each Put; nil means none.
func New(ctx context.Context, st store.Store, opts func() filter.Options, m *metrics.Metrics, log *slog.Logger) (*Service, error) {
	if opts == nil {
		opts = func() filter.Options { return filter.Options{} }
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Service{st: st, opts: opts, metrics: m, log: log}
	c, err := s.load(ctx)
	var stale *ValidationError
	if errors.As(err, &stale) {
		// A group a policy named may have gone since. Keeping every trace
		// loses nothing and keeps the server up; deciding on half the list
		// would drop what a missing policy was meant to keep.
		log.Error("stored keep policies are no longer valid: every trace is kept until they are replaced (PutKeepPolicies)", "err", err)
		c, err = Compile(Default(), filter.Options{})
	}
	if err != nil {
		return nil, err
	}
	s.cur.Store(c)
	return s, nil
}

func (s *Service) load(ctx context.Context) (*Compiled, error) {
	b, err := s.st.GetMeta(ctx, MetaKind, MetaKey)
	if errors.Is(err, store.ErrNotFound) {
		s.stored = nil
		return Compile(Default(), filter.Options{})
	}
	if err != nil {
		return nil, fmt.Errorf("keep policies: %w", err)
	}
	s.stored = b
	var p Policies
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("keep policies: stored record does not decode: %w", err)
	}
	return Compile(p, s.opts())
}

// Get returns the policies in force.
func (s *Service) Get() Policies { return s.cur.Load().Policies() }

// Put validates, persists and puts into force a new list. A refused list
// returns a *ValidationError and changes nothing.
func (s *Service) Put(ctx context.Context, p Policies) (Policies, error) {
	c, err := Compile(p, s.opts())
	if err != nil {
		return Policies{}, err
	}
	if !store.CanDrop(s.st) && !c.KeepsAll() {
		return Policies{}, invalid("keep policies that drop traces are not supported on this store (it keeps every trace)")
	}
	b, err := json.Marshal(c.Policies())
	if err != nil {
		return Policies{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.st.PutMeta(ctx, MetaKind, MetaKey, b); err != nil {
		return Policies{}, err
	}
	s.stored = b
	s.cur.Store(c)
	return c.Policies(), nil
}

// Refresh puts into force the stored policies when another process has
// replaced them (several Roentgen processes on one shared store each hold
// the list in memory; they decide alike once each has refreshed). Stored
// policies that no longer compile leave the ones in force, and are logged.
func (s *Service) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.st.GetMeta(ctx, MetaKind, MetaKey)
	if errors.Is(err, store.ErrNotFound) {
		b, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("keep policies: %w", err)
	}
	if bytes.Equal(b, s.stored) {
		return nil
	}
	c, err := s.load(ctx)
	if err != nil {
		s.log.Error("stored keep policies changed but do not compile here: the ones in force stay", "err", err)
		s.stored = b // logged once, not at every refresh
		return err
	}
	s.cur.Store(c)
	return nil
}

// Decide decides for one trace with the policies in force.
func (s *Service) Decide(sum *trace.Summary) Decision { return s.cur.Load().Decide(sum) }

// Counted records decisions whose outcome the store has taken.
func (s *Service) Counted(d Decision) {
	c, ok := s.counts.Load(d.Policy)
	if !ok {
		c, _ = s.counts.LoadOrStore(d.Policy, new(policyCount))
	}
	i := 1
	if d.Keep {
		i = 0
	}
	pc := c.(*policyCount)
	pc.n[i].Add(1)
	if s.metrics != nil {
		// The series is looked up once, at its first decision (as
		// WithLabelValues made it then): per decision, hashing and
		// checking the labels was ~700 instructions per new trace.
		pc.once[i].Do(func() { pc.series[i] = s.metrics.TracesKept.WithLabelValues(d.Policy, decisionLabels[i]) })
		pc.series[i].Inc()
	}
}

// policyCount is one policy's decisions, kept then dropped, and their series.
type policyCount struct {
	n      [2]atomic.Uint64
	once   [2]sync.Once
	series [2]prometheus.Counter
}

var decisionLabels = [2]string{"kept", "dropped"}

// Count is how many traces one policy (or DefaultPolicyName) decided.
type Count struct {
	Policy        string
	Kept, Dropped uint64
}

// Counts are this process's decisions since it started, by policy: those
// of the policies in force in their order, then the default, then any
// policy no longer in force; policies that decided nothing are left out.
func (s *Service) Counts() []Count {
	var order []string
	for _, p := range s.Get().Policies {
		order = append(order, p.Name)
	}
	order = append(order, DefaultPolicyName)
	var out []Count
	listed := map[string]bool{}
	add := func(name string) {
		if c, ok := s.counts.Load(name); ok && !listed[name] {
			listed[name] = true
			n := &c.(*policyCount).n
			out = append(out, Count{Policy: name, Kept: n[0].Load(), Dropped: n[1].Load()})
		}
	}
	for _, name := range order {
		add(name)
	}
	var rest []string
	s.counts.Range(func(k, _ any) bool {
		if !listed[k.(string)] {
			rest = append(rest, k.(string))
		}
		return true
	})
	slices.Sort(rest)
	for _, name := range rest {
		add(name)
	}
	return out
}
