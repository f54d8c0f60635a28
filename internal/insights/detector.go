package insights

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/graph"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Metadata kinds: insights (key: id) and the detector's state per group.
const (
	metaInsights = "insights"
	metaState    = "insights.state"
)

// Defaults of Config.
const (
	DefaultInterval   = 10 * time.Second
	DefaultSettle     = 30 * time.Second
	DefaultConfirm    = 2
	DefaultRecover    = 3
	DefaultRetention  = 30 * 24 * time.Hour
	DefaultMaxCatchUp = time.Hour
	// eventEvery is how often an active insight records its impact.
	eventEvery = 5 * 60
	// maxEvents bounds an insight's events (a day of five-minute events);
	// past it only the closing event is added.
	maxEvents = 300
)

// Group is a group whose traces are analysed.
type Group struct {
	Name, ARN string
	// Notify: open and close events are posted (Config.Notify).
	Notify bool
}

// Config wires a Detector.
type Config struct {
	Store store.Store
	Graph *graph.Aggregator
	// Groups lists the groups to analyse, read before every evaluation.
	Groups func() []Group
	// Now is the clock (tests inject one).
	Now func() time.Time
	// Sync, when set, summarises pending traces before a minute is read.
	Sync func(ctx context.Context)
	// Notify, when set, is told of insights opening and closing in
	// groups with notifications on. It must not block for long.
	Notify func(Notification)
	// Webhook, when set, is an http(s) URL that receives the same
	// notifications as JSON POSTs (webhook.go), while started.
	Webhook string
	Logger  *slog.Logger
	// Interval is how often Start's loop evaluates; Settle how long after
	// a minute ends its traces are taken as summarised (traces are
	// summarised once quiet for a second, long ones every ten).
	Interval, Settle time.Duration
	// Confirm: consecutive anomalous minutes that open an insight;
	// Recover: consecutive normal minutes that close one.
	Confirm, Recover int
	// Retention: closed insights older than this are deleted.
	Retention time.Duration
	// MaxCatchUp bounds the minutes evaluated after a pause (a restart).
	MaxCatchUp time.Duration
}

// Notification is an insight opening or closing.
type Notification struct {
	Event   string // "opened" or "closed"
	Insight *Insight
}

// Detector finds insights. Evaluate runs one round; Start runs rounds
// every Interval until Stop.
type Detector struct {
	cfg Config

	evalMu sync.Mutex // one evaluation at a time
	mu     sync.RWMutex
	byID   map[string]*Insight
	states map[string]*groupState
	hist   map[string]*history // per group, by window

	hook *webhook
	// flagged counts service-minutes found anomalous (AnomalousMinutes).
	flagged atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
}

// groupState is what the detector keeps per group between minutes.
type groupState struct {
	// Last is the last minute evaluated (its start, epoch seconds).
	Last int64 `json:"last"`
	// Runs are the services anomalous in the minutes up to Last.
	Runs map[string]*run `json:"runs,omitempty"`
}

// run is a service's consecutive anomalous minutes.
type run struct {
	Count int   `json:"n"`
	Start int64 `json:"st"`
	// Gap: the last minute was not anomalous; another such ends the run.
	Gap bool `json:"gap,omitempty"`
}

// New loads the stored insights and state.
func New(ctx context.Context, cfg Config) (*Detector, error) {
	if cfg.Store == nil || cfg.Graph == nil || cfg.Groups == nil {
		return nil, errors.New("insights: Config needs Store, Graph and Groups")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Interval, DefaultInterval)
	def(&cfg.Settle, DefaultSettle)
	def(&cfg.Retention, DefaultRetention)
	def(&cfg.MaxCatchUp, DefaultMaxCatchUp)
	if cfg.Confirm <= 0 {
		cfg.Confirm = DefaultConfirm
	}
	if cfg.Recover <= 0 {
		cfg.Recover = DefaultRecover
	}
	d := &Detector{cfg: cfg, byID: map[string]*Insight{}, states: map[string]*groupState{}, hist: map[string]*history{}}
	if cfg.Webhook != "" {
		u, err := url.Parse(cfg.Webhook)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("insights webhook %q: want an http:// or https:// URL", cfg.Webhook)
		}
		d.hook = newWebhook(cfg.Webhook, cfg.Logger)
	}
	err := cfg.Store.ListMeta(ctx, metaInsights, func(key string, v []byte) bool {
		in := &Insight{}
		if json.Unmarshal(v, in) != nil || in.ID != key {
			cfg.Logger.Warn("stored insight does not decode; ignoring it", "insight", key)
			return true
		}
		d.byID[key] = in
		return true
	})
	if err != nil {
		return nil, err
	}
	err = cfg.Store.ListMeta(ctx, metaState, func(key string, v []byte) bool {
		st := &groupState{}
		if json.Unmarshal(v, st) == nil {
			d.states[key] = st
		}
		return true
	})
	return d, err
}

// Start evaluates every Interval until Stop.
func (d *Detector) Start() {
	d.stop = make(chan struct{})
	if d.hook != nil {
		d.wg.Add(1)
		go func(stop <-chan struct{}) { defer d.wg.Done(); d.hook.run(stop) }(d.stop)
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTicker(d.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					select {
					case <-d.stop:
						cancel()
					case <-ctx.Done():
					}
				}()
				if err := d.Evaluate(ctx); err != nil && !errors.Is(err, context.Canceled) {
					d.cfg.Logger.Error("insights evaluation", "err", err)
				}
				cancel()
			}
		}
	}()
}

// Stop ends Start's loop, interrupting an evaluation in progress (its
// state is saved minute by minute, so the next start resumes it).
func (d *Detector) Stop() {
	if d.stop != nil {
		close(d.stop)
		d.wg.Wait()
		d.stop = nil
	}
}

// AnomalousMinutes is how many service-minutes have been found anomalous
// since New: each opens nothing unless Confirm of them follow one another.
func (d *Detector) AnomalousMinutes() int64 { return d.flagged.Load() }

// latest is the last minute whose traces are taken as summarised at now.
func (d *Detector) latest(now time.Time) int64 {
	t := now.Add(-d.cfg.Settle).Unix()
	return t - mod(t, 60) - 60
}

// Evaluate evaluates every minute of every analysed group that has become
// complete since the last evaluation (at most MaxCatchUp of them), then
// deletes insights past retention.
func (d *Detector) Evaluate(ctx context.Context) error {
	d.evalMu.Lock()
	defer d.evalMu.Unlock()
	now := d.cfg.Now()
	latest := d.latest(now)
	if d.cfg.Sync != nil {
		d.cfg.Sync(ctx)
	}
	for _, g := range d.cfg.Groups() {
		d.mu.RLock()
		st := d.states[g.Name]
		d.mu.RUnlock()
		if st == nil {
			// A group's first evaluation covers the last MaxCatchUp, so
			// that an incident already under way (or traces sent with past
			// times) is found at once; until the group has statistics
			// there is nothing to start from.
			has, err := d.hasStats(ctx, g.Name, latest-int64(d.cfg.MaxCatchUp/time.Second), latest+60)
			if err != nil {
				return err
			}
			if !has {
				continue
			}
			st = &groupState{Last: latest - int64(d.cfg.MaxCatchUp/time.Second) - 60}
		}
		if floor := latest - int64(d.cfg.MaxCatchUp/time.Second); st.Last < floor {
			st.Last, st.Runs = floor, nil
		}
		for m := st.Last + 60; m <= latest; m += 60 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := d.evalMinute(ctx, g, st, m, now); err != nil {
				return err
			}
		}
	}
	return d.prune(ctx, now)
}

// hasStats reports whether a group has statistics in [from, to).
func (d *Detector) hasStats(ctx context.Context, group string, from, to int64) (bool, error) {
	found := false
	err := d.cfg.Store.Stats(ctx, store.StatQuery{Resolution: graph.BucketSeconds, Group: group, From: from, To: to}, func(store.StatRecord) bool {
		found = true
		return false
	})
	return found, err
}

// evalMinute evaluates minute m of group g and saves what changed: the
// insights first, then the state that says m is done, so a crash between
// evaluates m again into the same insights.
func (d *Detector) evalMinute(ctx context.Context, g Group, st *groupState, m int64, now time.Time) error {
	cur, err := d.readMinute(ctx, g.Name, m)
	if err != nil {
		return err
	}
	hist, err := d.history(ctx, g.Name, m)
	if err != nil {
		return err
	}
	for id, ev := range cur.nodes {
		if isClient(id) {
			continue
		}
		ws := hist[id]
		n := float64(ev.stats.Total())
		var all float64
		for _, c := range categories {
			var w [HistoryWindows]window
			for i, h := range ws {
				w[i] = window{h.n, h.bad[c.i]}
			}
			b, ok := bandOf(w[:len(ws)])
			x := float64(c.of(&ev.stats))
			// The minute alone, or (for services too quiet for one minute
			// to be significant) the last PoolMinutes together, provided
			// this minute is above the band too.
			if !ok {
				continue
			}
			xp, np := float64(c.of(&ev.pooled)), float64(ev.pooled.Total())
			ex := math.Max(0, xp-b.P0*np)
			all += ex
			if b.anomalous(x, n) || x > b.High*n && b.anomalous(xp, np) {
				ev.cats = append(ev.cats, c.name)
				ev.excess += ex
			}
		}
		if len(ev.cats) == 0 {
			ev.excess = all
		}
	}
	roots := cur.roots()
	// Runs are per root cause: the minutes in a row in which a service
	// was the root cause of some anomaly (its own or one it explains).
	// One quiet minute in between does not break a run (Gap): a service
	// of a few requests a minute is not significant every minute.
	runs := map[string]*run{}
	for _, r := range roots {
		d.flagged.Add(1)
		if runs[r.Key()] != nil {
			continue
		}
		rn := &run{Start: m}
		if old := st.Runs[r.Key()]; old != nil {
			rn.Start, rn.Count = old.Start, old.Count
		}
		rn.Count++
		runs[r.Key()] = rn
	}
	for k, old := range st.Runs {
		if runs[k] == nil && !old.Gap {
			runs[k] = &run{Start: old.Start, Count: old.Count, Gap: true}
		}
	}
	changed := d.update(g, cur, roots, runs, hist, m, now)
	for _, in := range changed {
		if err := d.save(ctx, in); err != nil {
			return err
		}
	}
	next := &groupState{Last: m, Runs: runs}
	b, _ := json.Marshal(next)
	if err := d.cfg.Store.PutMeta(ctx, metaState, g.Name, b); err != nil {
		return err
	}
	d.mu.Lock()
	d.states[g.Name] = next
	*st = *next
	d.mu.Unlock()
	return nil
}

// update advances the group's insights by minute m and returns those that
// changed.
func (d *Detector) update(g Group, cur *minute, roots map[Service]Service, runs map[string]*run, hist map[Service][]histWindow, m int64, now time.Time) []*Insight {
	d.mu.Lock()
	defer d.mu.Unlock()
	active := map[Service]*Insight{}
	for _, in := range d.byID {
		if in.Group == g.Name && in.Active() {
			active[in.RootCause] = in
		}
	}
	var changed []*Insight
	var notes []Notification
	// Root causes: open an insight once confirmed.
	isRoot := map[Service]bool{}
	var rs []Service
	for _, r := range roots {
		if !isRoot[r] {
			isRoot[r] = true
			rs = append(rs, r)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return lessService(rs[i], rs[j]) })
	for _, r := range rs {
		run := runs[r.Key()]
		if active[r] != nil || run == nil || run.Count < d.cfg.Confirm {
			continue
		}
		in := &Insight{ID: insightID(g.Name, r, run.Start), Group: g.Name, GroupARN: g.ARN, RootCause: r,
			State: StateActive, Start: run.Start, Since: run.Start, Bands: map[string]Band{}}
		if old := d.byID[in.ID]; old != nil {
			continue // closed and reopened within the same run: keep the closed one
		}
		for _, c := range categories {
			var w [HistoryWindows]window
			for i, h := range hist[r] {
				w[i] = window{h.n, h.bad[c.i]}
			}
			if b, ok := bandOf(w[:len(hist[r])]); ok {
				in.Bands[c.name] = b
			}
		}
		d.byID[in.ID] = in
		active[r] = in
		in.LastUpdate = now.Unix()
		notes = append(notes, Notification{Event: "opened", Insight: in})
		in.Events = append(in.Events, Event{}) // filled below, as the opening event
	}
	// Every active insight: add this minute's impact, or count it normal.
	for r, in := range active {
		ev := cur.nodes[r]
		opening := len(in.Events) > 0 && in.Events[len(in.Events)-1].Time == 0
		if isRoot[r] || opening {
			im := cur.impactOf(r, roots)
			in.NormalRun = 0
			in.PendClient.add(im.client)
			in.PendRootCause.add(im.root)
			in.Client.add(im.client)
			in.RootImpact.add(im.root)
			grew := mergeServices(&in.Impacted, im.services)
			grew = mergeServices(&in.Impacted, im.clients) || grew
			catsGrew := false
			for _, sv := range im.services {
				if e := cur.nodes[sv]; e != nil && mergeStrings(&in.Categories, e.cats) {
					catsGrew = true
				}
			}
			in.Top = im.services
			in.Summary = summaryOf(in, cur)
			switch {
			case opening:
				in.Events[len(in.Events)-1] = d.event(in, m, "Insight opened: "+in.Summary)
			case grew || catsGrew:
				d.addEvent(in, m, "Impact grew: "+in.Summary)
			case m+60-in.Since >= eventEvery:
				d.addEvent(in, m, "Still active: "+in.Summary)
			default:
				in.LastUpdate = now.Unix()
			}
			changed = append(changed, in)
			continue
		}
		normal := true
		if ev != nil {
			n := float64(ev.stats.Total())
			for _, c := range categories {
				if b, ok := in.Bands[c.name]; ok && !b.normal(float64(c.of(&ev.stats)), n) {
					normal = false
				}
			}
			in.PendRootCause.add(countsOf(&ev.stats))
			in.RootImpact.add(countsOf(&ev.stats))
		}
		if normal {
			in.NormalRun++
		} else {
			in.NormalRun = 0
		}
		in.LastUpdate = now.Unix()
		if in.NormalRun >= d.cfg.Recover {
			in.State = StateClosed
			in.End = m - int64(d.cfg.Recover-1)*60
			// Summary and Top stay as the incident last was.
			d.addEvent(in, m, "Closed: "+in.RootCause.Name+"'s rates are back within their expected range")
			notes = append(notes, Notification{Event: "closed", Insight: in})
		}
		changed = append(changed, in)
	}
	if g.Notify {
		for _, n := range notes {
			n := Notification{Event: n.Event, Insight: n.Insight.clone()}
			if d.cfg.Notify != nil {
				d.cfg.Notify(n)
			}
			if d.hook != nil {
				d.hook.enqueue(n)
			}
		}
	}
	sort.Slice(changed, func(i, j int) bool { return changed[i].ID < changed[j].ID })
	return changed
}

// event is the event of minute m with the impact gathered since the last.
func (d *Detector) event(in *Insight, m int64, summary string) Event {
	e := Event{Time: m + 60, Summary: summary, Client: in.PendClient, RootCause: in.PendRootCause, Top: append([]Service(nil), in.Top...)}
	in.PendClient, in.PendRootCause = Counts{}, Counts{}
	in.Since = m + 60
	in.LastUpdate = d.cfg.Now().Unix()
	return e
}

func (d *Detector) addEvent(in *Insight, m int64, summary string) {
	e := d.event(in, m, summary)
	if n := len(in.Events); n > 0 && in.Events[n-1].Time == e.Time {
		in.Events[n-1] = e // the same minute evaluated again
		return
	}
	if len(in.Events) < maxEvents || in.State == StateClosed {
		in.Events = append(in.Events, e)
	}
}

func (d *Detector) save(ctx context.Context, in *Insight) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return d.cfg.Store.PutMeta(ctx, metaInsights, in.ID, b)
}

// prune deletes closed insights that ended before the retention period.
func (d *Detector) prune(ctx context.Context, now time.Time) error {
	cut := now.Add(-d.cfg.Retention).Unix()
	d.mu.RLock()
	var old []string
	for id, in := range d.byID {
		if !in.Active() && in.End < cut {
			old = append(old, id)
		}
	}
	d.mu.RUnlock()
	for _, id := range old {
		if err := d.cfg.Store.DeleteMeta(ctx, metaInsights, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		d.mu.Lock()
		delete(d.byID, id)
		d.mu.Unlock()
	}
	return nil
}

func mergeServices(into *[]Service, add []Service) bool {
	grew := false
	for _, s := range add {
		found := false
		for _, t := range *into {
			if t == s {
				found = true
				break
			}
		}
		if !found {
			*into = append(*into, s)
			grew = true
		}
	}
	return grew
}

func mergeStrings(into *[]string, add []string) bool {
	grew := false
	for _, s := range add {
		found := false
		for _, t := range *into {
			if t == s {
				found = true
			}
		}
		if !found {
			*into = append(*into, s)
			grew = true
		}
	}
	if grew {
		sort.Slice(*into, func(i, j int) bool { return catRank((*into)[i]) < catRank((*into)[j]) })
	}
	return grew
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
