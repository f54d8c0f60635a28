package graph

import (
	"context"
	"log/slog"
	"sync"

	"github.com/roentgen-tracing/roentgen/internal/store"
	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// DefaultGroup is the group every trace belongs to.
const DefaultGroup = "Default"

// Aggregator keeps the statistics up to date as traces change, and answers
// queries from them. It holds no statistics itself: Prepare, called by the
// ingest path before a batch of summaries is stored, attaches to each
// update the deltas its change makes (store.TraceUpdate.Stats), and the
// store adds them in the write that stores the summary. So statistics are as
// durable as the summaries they come from, are never read and rewritten,
// and a store written by several processes sums them all.
type Aggregator struct {
	cfg AggregatorConfig

	mu       sync.Mutex
	versions map[string]groupVersion // the last version recorded per group

	obsMu     sync.Mutex
	observers []Observer
	prepared  map[*store.TraceUpdate]*changeBatch // by first update (changes.go)
	keptSeq   uint64
}

// AggregatorConfig configures an Aggregator.
type AggregatorConfig struct {
	Store store.Store
	// Groups lists the groups (other than Default) a trace belongs to. It
	// is called once per summary, and its cost is the ingest path's: the
	// groups package bounds how many groups there are.
	Groups func(*trace.Summary) []string
	// GroupExpression is a group's current filter expression, recorded for
	// the buckets written so that queries can tell when it changed.
	GroupExpression func(group string) string
	Logger          *slog.Logger
}

// NewAggregator returns an Aggregator.
func NewAggregator(cfg AggregatorConfig) *Aggregator {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Groups == nil {
		cfg.Groups = func(*trace.Summary) []string { return nil }
	}
	return &Aggregator{cfg: cfg, versions: map[string]groupVersion{}}
}

// Prepare sets the statistics deltas of a batch of updates, before they
// are stored (ingest.Ingester.AddDeriver): the deltas of every update are
// summed per record and carried by the first update, the others' Stats
// left empty. The store adds them in the one write that holds the batch's
// summaries, so they stay as durable as those summaries; summed here, a
// batch of a thousand traces of one service writes a few dozen records, not
// ten thousand that the store would decode and sum again (single-segment
// ingest spent ~10% of its CPU encoding, grouping and re-summing them).
// An update's Counted change, added already by a refused Apply, is taken
// back in the same sums.
func (a *Aggregator) Prepare(updates []store.TraceUpdate) {
	b := newDeltaBuilder()
	defer b.release()
	if len(updates) > 0 && a.observed() {
		b.changes = newChangeBatch()
	}
	for i := range updates {
		u := &updates[i]
		u.Stats = nil
		if c := u.Counted; c != nil {
			// Added by a refused Apply without its summary: taken back
			// here, not a change the observers are told of.
			b.counting = false
			b.add(a, c.Summary, -1)
			b.add(a, c.Previous, 1)
		}
		b.counting = u.Summary != nil
		b.add(a, u.Previous, -1)
		b.add(a, u.Summary, 1)
		if b.changes != nil {
			b.changes.next()
		}
	}
	if len(updates) > 0 {
		updates[0].Stats = b.records()
	}
	if b.changes != nil {
		a.keep(updates, b.changes)
	}
}

// Deltas are the records to add for a trace whose summary changes from prev
// (nil for a new trace) to sum: Contribute(sum) − Contribute(prev), for the
// groups each version belongs to, at every resolution. The same delta goes
// to a minute and to the five minutes and the hour holding it, so a coarse
// bucket stays the exact sum of its finer ones. Records that cancel out
// (a trace summarised again unchanged) are left out.
func (a *Aggregator) Deltas(sum, prev *trace.Summary) []store.StatRecord {
	b := newDeltaBuilder()
	defer b.release()
	b.add(a, prev, -1)
	b.add(a, sum, 1)
	return b.records()
}

// deltaBuilder sums the deltas of one batch of updates per record of the
// finest resolution, then derives the coarser records from those.
type deltaBuilder struct {
	// acc is keyed by the numbers of groups and entities (groupIDs,
	// entities): hashing their strings per request counted was a fifth of
	// the statistics' CPU.
	acc map[recordKey]*sum
	// groupIDs numbers the batch's groups (groupNames[id]); groups are
	// those of the summary being added.
	groupIDs   map[string]int32
	groupNames []string
	groups     []int32
	// changes, when observers want them, gathers each update's changes
	// (of those with a Summary: counting) from the same contributions.
	changes  *changeBatch
	counting bool
	// entities interns the batch's entities.
	entities entities
	// stats are the sums handed out (used of them), kept with their
	// histograms' capacity from batch to batch: grown afresh in every
	// batch, those histograms were 40% of the bytes Prepare allocated.
	stats  []*sum
	used   int
	coarse []map[recordKey]coarseSum
	// dense are the dense bins handed to sums (usedDense of them).
	dense     []*denseBins
	usedDense int
	// last[entity] is the sum of the first group (Default) that entity's
	// last request was added to, and its bucket.
	last []lastSum
}

type lastSum struct {
	bucket int64
	sum    *sum
}

var deltaBuilders = sync.Pool{New: func() any { return new(deltaBuilder) }}

func newDeltaBuilder() *deltaBuilder { return deltaBuilders.Get().(*deltaBuilder) }

// Bounds on what a pooled deltaBuilder keeps: a batch of unusually many
// records, or a record of unusually many bins, leaves no more behind.
const (
	pooledRecords = 4096
	pooledBins    = 256
)

// newStats is an empty sum of this batch.
func (b *deltaBuilder) newStats() *sum {
	if b.used < len(b.stats) {
		s := b.stats[b.used]
		b.used++
		s.reset()
		return s
	}
	s := &sum{}
	b.stats = append(b.stats, s)
	b.used++
	return s
}

// release empties b (its records are encoded: nothing refers to its sums)
// and pools it.
func (b *deltaBuilder) release() {
	b.reset()
	deltaBuilders.Put(b)
}

func (b *deltaBuilder) reset() {
	keep := b.stats[:0]
	for _, s := range b.stats {
		s.flushDense() // emptied for the next batch, if records did not
		if len(keep) < pooledRecords && cap(s.Response)+cap(s.Duration) <= pooledBins {
			keep = append(keep, s)
		}
	}
	clear(b.stats[len(keep):])
	b.stats, b.used = keep, 0
	b.usedDense = 0
	for i, m := range b.coarse {
		if len(m) > pooledRecords {
			b.coarse[i] = nil
		}
		clear(m)
	}
	if len(b.acc) > pooledRecords {
		b.acc = nil
	}
	clear(b.acc)
	clear(b.last) // its sums are handed out again
	if len(b.last) > pooledRecords {
		b.last = nil
	}
	clear(b.groupIDs)
	clear(b.groupNames)
	b.groupNames, b.groups = b.groupNames[:0], b.groups[:0]
	b.changes, b.counting = nil, false
	b.entities.reset()
}

// recordKey is a record of the finest resolution by the numbers a
// deltaBuilder gives its group and entity.
type recordKey struct {
	group, entity int32
	bucket        int64
}

// groupID is the number of group g in this batch.
func (b *deltaBuilder) groupID(g string) int32 {
	if id, ok := b.groupIDs[g]; ok {
		return id
	}
	if b.groupIDs == nil {
		b.groupIDs = make(map[string]int32, 4)
	}
	id := int32(len(b.groupNames))
	b.groupNames = append(b.groupNames, g)
	b.groupIDs[g] = id
	return id
}

// add adds sign × Contribute(s) in every group s belongs to.
func (b *deltaBuilder) add(a *Aggregator, s *trace.Summary, sign int64) {
	if s == nil {
		return
	}
	if b.acc == nil {
		b.acc = map[recordKey]*sum{}
	}
	// Default is the batch's group 0, numbered by its first add: no
	// lookup of its name per summary.
	if len(b.groupNames) == 0 {
		b.groupID(DefaultGroup)
	}
	b.groups = append(b.groups[:0], 0)
	for _, g := range a.cfg.Groups(s) {
		b.groups = append(b.groups, b.groupID(g))
	}
	changes := b.changes
	if !b.counting {
		changes = nil
	}
	contribute(s, sign, &b.entities, func(e Entity, id int32, bucket int64, r *request) {
		if changes != nil {
			changes.add(e, r)
		}
		for i, g := range b.groups {
			if i == 0 {
				// The Default group's sum of this entity is most often
				// the one its last request went to: no map lookup.
				if int(id) >= len(b.last) {
					b.last = append(b.last, make([]lastSum, int(id)+1-len(b.last))...)
				}
				if l := &b.last[id]; l.sum != nil && l.bucket == bucket {
					b.addTo(l.sum, r)
					continue
				}
			}
			k := recordKey{g, id, bucket}
			d := b.acc[k]
			if d == nil {
				d = b.newStats()
				b.acc[k] = d
			}
			if i == 0 {
				b.last[id] = lastSum{bucket, d}
			}
			b.addTo(d, r)
		}
	})
}

// coarseSum is a coarse record: usually one minute's record (traces are
// short and batches recent), whose encoding it shares; sum once a second
// minute adds to it.
type coarseSum struct {
	one *Stats
	enc []byte
	sum *Stats
}

// records encodes what add gathered, at every resolution, leaving out
// records that cancelled out (a trace summarised again unchanged: its new
// contribution minus its previous one). Contributions of new traces never
// cancel: each counts a request.
func (b *deltaBuilder) records() []store.StatRecord {
	res := store.StatResolutions
	// The records' values share one arena, sized for every fine record
	// and as much again for the coarse ones that are sums of several.
	size := 0
	for _, d := range b.acc {
		d.flushDense()
		size += 24 + 4*(len(d.Response)+len(d.Duration))
	}
	arena := make([]byte, 0, 2*size)
	encode := func(s *Stats) []byte {
		start := len(arena)
		arena = s.AppendEncode(arena)
		return arena[start:len(arena):len(arena)]
	}
	if len(b.coarse) != len(res) {
		b.coarse = make([]map[recordKey]coarseSum, len(res))
	}
	coarse := b.coarse
	for i := 1; i < len(res); i++ {
		if coarse[i] == nil {
			coarse[i] = make(map[recordKey]coarseSum, len(b.acc))
		}
	}
	out := make([]store.StatRecord, 0, len(res)*len(b.acc))
	emit := func(r int64, k recordKey, enc []byte) {
		out = append(out, store.StatRecord{StatKey: store.StatKey{Resolution: r, Bucket: k.bucket, Group: b.groupNames[k.group], Entity: string(b.entities.list[k.entity])}, Value: enc})
	}
	for k, ds := range b.acc {
		d := &ds.Stats
		if d.Empty() {
			continue
		}
		enc := encode(d)
		emit(res[0], k, enc)
		for i := 1; i < len(res); i++ {
			ck := recordKey{k.group, k.entity, k.bucket - mod(k.bucket, res[i])}
			c, ok := coarse[i][ck]
			switch {
			case !ok:
				c = coarseSum{one: d, enc: enc}
			case c.sum == nil:
				c.sum = &b.newStats().Stats
				c.sum.Add(c.one, 1)
				c.sum.Add(d, 1)
			default:
				c.sum.Add(d, 1)
			}
			coarse[i][ck] = c
		}
	}
	for i := 1; i < len(res); i++ {
		for ck, c := range coarse[i] {
			if c.sum == nil {
				emit(res[i], ck, c.enc)
			} else if !c.sum.Empty() {
				emit(res[i], ck, encode(c.sum))
			}
		}
	}
	return out
}

// Hook is the ingest hook, after updates are stored: it records which
// expression each group had for the minutes the updates counted in, and
// hands the updates' changes to the observers (AddObserver).
func (a *Aggregator) Hook(ctx context.Context, updates []store.TraceUpdate) {
	buckets := map[string][2]int64{}
	for _, u := range updates {
		for _, r := range u.Stats {
			if r.Resolution != BucketSeconds || r.Group == DefaultGroup {
				continue
			}
			b, ok := buckets[r.Group]
			if !ok || r.Bucket < b[0] {
				b[0] = r.Bucket
			}
			b[1] = max(b[1], r.Bucket+BucketSeconds)
			buckets[r.Group] = b
		}
	}
	if err := a.recordGroupVersions(ctx, buckets); err != nil {
		a.cfg.Logger.Error("record group versions", "err", err)
	}
	a.observe(updates)
}
