package sampling

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/xray/daemoncfg"
)

// Polling periods of every X-Ray SDK (§5.3).
const (
	rulesInterval   = 300 * time.Second
	targetsInterval = 10 * time.Second
	staleAfter      = time.Hour
)

// CentralizedStrategy samples with the rules and quotas served on the
// daemon's TCP side, falling back to local rules until rules arrive, when
// they are an hour old, or when no rule matches.
type CentralizedStrategy struct {
	fallback *LocalizedStrategy
	clientID string

	mu        sync.RWMutex
	rules     []*CentralizedRule
	refreshed time.Time // last successful rules fetch
	endpoint  string    // http://host:port of the daemon's TCP side
	httpc     *http.Client

	start  sync.Once
	stop   chan struct{}
	done   sync.WaitGroup
	closed bool

	now  func() time.Time
	rand func() float64
}

// CentralizedRule is one rule with its counters and quota.
type CentralizedRule struct {
	Name        string
	Priority    int64
	FixedRate   float64
	ServiceName string
	ServiceType string
	Host        string
	HTTPMethod  string
	URLPath     string

	reservoir CentralizedReservoir

	mu                       sync.Mutex
	requests, sampled, borrs int64
}

// CentralizedReservoir is a rule's quota as the server assigned it.
type CentralizedReservoir struct {
	Capacity  int64
	Quota     int64
	hasQuota  bool
	ExpiresAt int64 // epoch seconds
	Interval  int64 // reporting interval, seconds
	refreshed int64

	second         int64
	used, borrowed int64
}

// NewCentralizedStrategy falls back to DefaultRules.
func NewCentralizedStrategy() (*CentralizedStrategy, error) {
	return NewCentralizedStrategyWithJSONBytes([]byte(DefaultRules))
}

// NewCentralizedStrategyWithFilePath falls back to a local rules file.
func NewCentralizedStrategyWithFilePath(fp string) (*CentralizedStrategy, error) {
	l, err := NewLocalizedStrategyFromFilePath(fp)
	if err != nil {
		return nil, err
	}
	return newCentralized(l), nil
}

// NewCentralizedStrategyWithJSONBytes falls back to the given local rules.
func NewCentralizedStrategyWithJSONBytes(b []byte) (*CentralizedStrategy, error) {
	l, err := NewLocalizedStrategyFromJSONBytes(b)
	if err != nil {
		return nil, err
	}
	return newCentralized(l), nil
}

func newCentralized(l *LocalizedStrategy) *CentralizedStrategy {
	var id [12]byte
	for i := range id {
		id[i] = byte(rand.Uint32())
	}
	d := daemoncfg.GetDaemonEndpoints()
	return &CentralizedStrategy{
		fallback: l,
		clientID: fmt.Sprintf("%x", id),
		endpoint: "http://" + d.TCPAddr.String(),
		httpc:    &http.Client{Timeout: 2 * time.Second},
		stop:     make(chan struct{}),
	}
}

// LoadDaemonEndpoints points the strategy at a daemon.
func (s *CentralizedStrategy) LoadDaemonEndpoints(d *daemoncfg.DaemonEndpoints) {
	if d == nil || d.TCPAddr == nil {
		return
	}
	s.mu.Lock()
	s.endpoint = "http://" + d.TCPAddr.String()
	s.mu.Unlock()
}

func (s *CentralizedStrategy) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *CentralizedStrategy) random() float64 {
	if s.rand != nil {
		return s.rand()
	}
	return rand.Float64()
}

// ShouldTrace implements Strategy.
func (s *CentralizedStrategy) ShouldTrace(r *Request) *Decision {
	d := s.Decide(*r)
	return &d
}

// Decide implements Decider. The first call starts the pollers.
func (s *CentralizedStrategy) Decide(r Request) Decision {
	s.start.Do(s.startPollers)
	now := r.Now
	if s.now != nil || now.IsZero() {
		now = s.clock()
	}
	s.mu.RLock()
	rules, fresh := s.rules, !s.refreshed.IsZero() && now.Sub(s.refreshed) < staleAfter
	s.mu.RUnlock()
	if !fresh {
		return s.fallback.Decide(r)
	}
	for _, rule := range rules {
		if rule.Match(r) {
			return rule.sample(now, s.random)
		}
	}
	return s.fallback.Decide(r)
}

// Match reports whether the rule applies to r; Default matches everything.
func (c *CentralizedRule) Match(r Request) bool {
	if c.Name == "Default" {
		return true
	}
	return matchAttr(c.Host, r.Host) && matchAttr(c.URLPath, r.URL) && matchAttr(c.HTTPMethod, r.Method) &&
		matchAttr(c.ServiceName, r.ServiceName) && matchAttr(c.ServiceType, r.ServiceType)
}

// sample is §5.3 step 5: quota first, a borrow of one per second when the
// quota expired, else the fixed rate.
func (c *CentralizedRule) sample(now time.Time, random func() float64) Decision {
	sec := now.Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	res := &c.reservoir
	if sec != res.second {
		res.second, res.used, res.borrowed = sec, 0, 0
	}
	yes := Decision{Sample: true, Rule: &c.Name}
	if !res.hasQuota || sec > res.ExpiresAt {
		if res.Capacity > 0 && res.borrowed == 0 {
			res.borrowed++
			c.borrs++
			return yes
		}
	} else if res.used < res.Quota {
		res.used++
		c.sampled++
		return yes
	}
	if random() < c.FixedRate {
		c.sampled++
		return yes
	}
	return Decision{Rule: &c.Name}
}

func (s *CentralizedStrategy) startPollers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.done.Add(1)
	go s.poll()
}

// Close stops the pollers and waits for them.
func (s *CentralizedStrategy) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	s.done.Wait()
	s.httpc.CloseIdleConnections() // no keep-alive goroutines outlive Close
}

func (s *CentralizedStrategy) poll() {
	defer s.done.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-s.stop; cancel() }()
	_ = s.RefreshRules(ctx)
	nextRules := time.Now().Add(rulesInterval + time.Duration(rand.Int64N(int64(5*time.Second))))
	t := time.NewTicker(targetsInterval + time.Duration(rand.Int64N(int64(100*time.Millisecond))))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			if now.After(nextRules) {
				_ = s.RefreshRules(ctx)
				nextRules = now.Add(rulesInterval)
			}
			_ = s.RefreshTargets(ctx)
		}
	}
}

type wireRule struct {
	RuleName      *string
	Priority      *int64
	FixedRate     *float64
	ReservoirSize *int64
	ServiceName   *string
	ServiceType   *string
	Host          *string
	HTTPMethod    *string
	URLPath       *string
	ResourceARN   *string
	Version       *int64
	Attributes    map[string]string
}

func (s *CentralizedStrategy) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	s.mu.RLock()
	url := s.endpoint + path
	s.mu.RUnlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.httpc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sampling: %s answered %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// RefreshRules fetches the rules (first page), keeping the counters and
// quotas of rules that stay.
func (s *CentralizedStrategy) RefreshRules(ctx context.Context) error {
	var out struct {
		SamplingRuleRecords []struct{ SamplingRule *wireRule }
	}
	if err := s.post(ctx, "/GetSamplingRules", map[string]any{"NextToken": nil}, &out); err != nil {
		return err
	}
	s.mu.RLock()
	old := map[string]*CentralizedRule{}
	for _, r := range s.rules {
		old[r.Name] = r
	}
	s.mu.RUnlock()
	var rules []*CentralizedRule
	for _, rec := range out.SamplingRuleRecords {
		w := rec.SamplingRule
		if w == nil || w.RuleName == nil || w.Priority == nil || w.FixedRate == nil || w.ReservoirSize == nil ||
			w.Version == nil || *w.Version != 1 || w.ResourceARN == nil || *w.ResourceARN != "*" || len(w.Attributes) != 0 {
			continue
		}
		// A new value per refresh: Match reads the fields without a lock.
		r := &CentralizedRule{Name: *w.RuleName, Priority: *w.Priority, FixedRate: *w.FixedRate,
			ServiceName: deref(w.ServiceName), ServiceType: deref(w.ServiceType), Host: deref(w.Host),
			HTTPMethod: deref(w.HTTPMethod), URLPath: deref(w.URLPath)}
		if o := old[r.Name]; o != nil {
			o.mu.Lock()
			r.reservoir = o.reservoir
			r.requests, r.sampled, r.borrs = o.requests, o.sampled, o.borrs
			o.mu.Unlock()
		}
		r.reservoir.Capacity = *w.ReservoirSize
		rules = append(rules, r)
	}
	sort.SliceStable(rules, func(i, j int) bool {
		a, b := rules[i], rules[j]
		if (a.Name == "Default") != (b.Name == "Default") {
			return b.Name == "Default"
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.Name < b.Name
	})
	s.mu.Lock()
	s.rules, s.refreshed = rules, s.clock()
	s.mu.Unlock()
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

type statDoc struct {
	RuleName     string
	ClientID     string
	RequestCount int64
	SampledCount int64
	BorrowCount  int64
	Timestamp    int64
}

// RefreshTargets reports each used rule's counters and applies the quotas
// that come back (§5.3 steps 6–8).
func (s *CentralizedStrategy) RefreshTargets(ctx context.Context) error {
	now := s.clock()
	s.mu.RLock()
	rules := s.rules
	refreshed := s.refreshed
	s.mu.RUnlock()
	var docs []statDoc
	for _, r := range rules {
		r.mu.Lock()
		due := r.reservoir.Interval == 0 || now.Unix()-r.reservoir.refreshed >= r.reservoir.Interval
		if r.requests > 0 && due {
			docs = append(docs, statDoc{r.Name, s.clientID, r.requests, r.sampled, r.borrs, now.Unix()})
			r.requests, r.sampled, r.borrs = 0, 0, 0
		}
		r.mu.Unlock()
	}
	if len(docs) == 0 {
		return nil
	}
	var out struct {
		SamplingTargetDocuments []struct {
			RuleName          *string
			FixedRate         *float64
			ReservoirQuota    *int64
			ReservoirQuotaTTL *float64
			Interval          *int64
		}
		LastRuleModification  *float64
		UnprocessedStatistics []struct{ RuleName, ErrorCode, Message *string }
	}
	if err := s.post(ctx, "/SamplingTargets", map[string]any{"SamplingStatisticsDocuments": docs}, &out); err != nil {
		return err
	}
	byName := map[string]*CentralizedRule{}
	for _, r := range rules {
		byName[r.Name] = r
	}
	for _, t := range out.SamplingTargetDocuments {
		if t.RuleName == nil || byName[*t.RuleName] == nil || t.FixedRate == nil {
			continue
		}
		r := byName[*t.RuleName]
		r.mu.Lock()
		r.FixedRate = *t.FixedRate
		if t.ReservoirQuota != nil {
			r.reservoir.Quota, r.reservoir.hasQuota = *t.ReservoirQuota, true
		}
		if t.ReservoirQuotaTTL != nil {
			r.reservoir.ExpiresAt = int64(*t.ReservoirQuotaTTL)
		}
		if t.Interval != nil {
			r.reservoir.Interval = *t.Interval
		}
		r.reservoir.refreshed = now.Unix()
		r.mu.Unlock()
	}
	refresh := false
	var errs []error
	for _, u := range out.UnprocessedStatistics {
		code := deref(u.ErrorCode)
		switch {
		case strings.HasPrefix(code, "4"):
			refresh = true
		case strings.HasPrefix(code, "5"):
			errs = append(errs, fmt.Errorf("sampling: statistics of rule %s: %s %s", deref(u.RuleName), code, deref(u.Message)))
		}
	}
	if out.LastRuleModification != nil && !refresh {
		refresh = !time.Unix(int64(*out.LastRuleModification), 0).Before(refreshed.Truncate(time.Second))
	}
	if refresh {
		errs = append(errs, s.RefreshRules(ctx))
	}
	return errors.Join(errs...)
}
