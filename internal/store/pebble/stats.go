package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Statistics keys: one table, partition-first so retention drops them
// with the traces' partitions in one range deletion, the resolution next
// so a scan of one resolution never steps over another, and entity before
// bucket so a time series of one entity reads only its own records:
//
//	u | partition | G|H|I | group 0 | len(entity) entity | bucket -> value
//
// (G: 60 s, H: 300 s, I: 3600 s buckets.) The table sorts after the
// summaries (s): a main-LSM flush holds a batch's summaries, of recent
// epochs, and its statistics, of the current partition, so its key range
// runs from the oldest summary it rewrites to the newest partition's
// statistics. Layouts 1 to 8 kept the statistics in tables G, H and I,
// before the summaries: every flush then spanned every older summary, and
// each compaction from L0 rewrote all of them (migrate.go moves them).
const statTable = 'u'

// statResolutions: a byte per resolution of store.StatResolutions in the
// key, the letters of the old tables (migrate.go), so moved keys keep them.
var statResolutions = oldStatTables

func statResolution(res int64) (byte, error) {
	for i, r := range store.StatResolutions {
		if r == res {
			return statResolutions[i], nil
		}
	}
	return 0, fmt.Errorf("statistics resolution %d s is not one of %v", res, store.StatResolutions)
}

// statPrefix is the range of one group of one resolution in one partition.
func statPrefix(res byte, partition int64, group string) []byte {
	b := make([]byte, 0, 11+len(group))
	b = append(b, statTable)
	b = append(b, epochBytes(partition)...)
	b = append(b, res)
	b = append(b, group...)
	return append(b, 0)
}

// oldStatPrefix is statPrefix in the tables of layouts 1 to 8 (migrate.go).
func oldStatPrefix(res byte, partition int64, group string) []byte {
	b := statPrefix(res, partition, group)
	b[0] = res                      // the table named the resolution
	return append(b[:9], b[10:]...) // which did not follow the partition
}

func statKey(k store.StatKey) ([]byte, error) {
	if _, err := statResolution(k.Resolution); err != nil {
		return nil, err
	}
	// One allocation: ingest makes one key per record it adds to.
	return appendStatKey(make([]byte, 0, statKeyLen(k)), k), nil
}

func statKeyLen(k store.StatKey) int {
	return 1 + 8 + 1 + len(k.Group) + 1 + binary.MaxVarintLen64 + len(k.Entity) + 8
}

// appendStatKey appends statKey(k) to dst; k's resolution is checked.
func appendStatKey(dst []byte, k store.StatKey) []byte {
	r, _ := statResolution(k.Resolution)
	dst = append(dst, statTable)
	dst = binary.BigEndian.AppendUint64(dst, uint64(store.PartitionOf(k.Bucket)))
	dst = append(dst, r)
	dst = append(append(dst, k.Group...), 0)
	dst = binary.AppendUvarint(dst, uint64(len(k.Entity)))
	dst = append(dst, k.Entity...)
	return binary.BigEndian.AppendUint64(dst, uint64(k.Bucket))
}

// statDeltas gathers the statistics deltas of a batch of updates by
// record. Apply writes a batch to the main LSM at once, so the deltas of
// its traces to one record (a busy service's minute) can be summed into one
// merge operand first: a batch of a thousand traces of one service writes
// a few dozen operands, not tens of thousands.
//
// Its memory is pooled (statDeltas.get, release): a map, a slice per record
// and a key per record allocated per Apply were ~30% of the objects the
// embedded store's Apply allocated (single-segment traces).
type statDeltas struct {
	keys  []store.StatKey
	index map[store.StatKey]int32 // keys index
	vals  []statVal               // in arrival order
	n     []int32                 // values per key
	// stage's scratch: the values grouped by key, and the keys' bytes.
	grouped [][]byte
	at      []int32
	buf     []byte
}

type statVal struct {
	key int32
	v   []byte
}

var statDeltasPool = sync.Pool{New: func() any { return new(statDeltas) }}

func getStatDeltas() *statDeltas { return statDeltasPool.Get().(*statDeltas) }

// release returns d to the pool once its staged merges are committed (the
// batch copies them), keeping what is not outsized.
func (d *statDeltas) release() {
	if len(d.keys) > 4096 || cap(d.buf) > 256<<10 {
		return
	}
	clear(d.keys)
	clear(d.index)
	clear(d.vals)
	clear(d.grouped)
	d.keys, d.vals, d.n, d.grouped, d.at, d.buf = d.keys[:0], d.vals[:0], d.n[:0], d.grouped[:0], d.at[:0], d.buf[:0]
	statDeltasPool.Put(d)
}

func (d *statDeltas) add(recs []store.StatRecord) error {
	for _, r := range recs {
		if len(r.Value) == 0 {
			continue
		}
		if _, err := statResolution(r.Resolution); err != nil {
			return err
		}
		if d.index == nil {
			d.index = make(map[store.StatKey]int32, len(recs))
		}
		i, ok := d.index[r.StatKey]
		if !ok {
			i = int32(len(d.keys))
			d.index[r.StatKey] = i
			d.keys = append(d.keys, r.StatKey)
			d.n = append(d.n, 0)
		}
		d.n[i]++
		d.vals = append(d.vals, statVal{i, r.Value})
	}
	return nil
}

// stage adds the gathered deltas to sb as merges, one per record when
// combine can sum them.
func (d *statDeltas) stage(sb *stagedBatch, combine func([][]byte) []byte) {
	// The values grouped by key in arrival order: at[i] is where key i's
	// go in grouped, then where the next one goes.
	d.at = d.at[:0]
	total := int32(0)
	for _, n := range d.n {
		d.at = append(d.at, total)
		total += n
	}
	d.grouped = append(d.grouped[:0], make([][]byte, total)...)
	for _, v := range d.vals {
		d.grouped[d.at[v.key]] = v.v
		d.at[v.key]++
	}
	size := 0
	for _, sk := range d.keys {
		size += statKeyLen(sk)
	}
	if cap(d.buf) < size {
		d.buf = make([]byte, 0, size)
	}
	end := int32(0)
	for i, sk := range d.keys {
		start := len(d.buf)
		d.buf = appendStatKey(d.buf, sk) // checked by add
		k := d.buf[start:len(d.buf):len(d.buf)]
		vs := d.grouped[end : end+d.n[i]]
		end += d.n[i]
		if len(vs) > 1 && combine != nil {
			if sum := combine(vs); sum != nil {
				sb.merge(k, sum)
				continue
			}
		}
		for _, v := range vs {
			sb.merge(k, v)
		}
	}
}

// AddStats implements store.StatsStore.
func (s *Store) AddStats(ctx context.Context, recs []store.StatRecord) error {
	// Owed to summaries already written: admitted as they are (space.go).
	return s.writeIf(s.space.admitAny, func() error { return s.addStats(recs) })
}

func (s *Store) addStats(recs []store.StatRecord) error {
	d := getStatDeltas()
	defer d.release() // after the commit: the batch copies the merges
	if err := d.add(recs); err != nil {
		return err
	}
	var sb stagedBatch
	d.stage(&sb, s.combineStats)
	if err := sb.commit(s.main); err != nil {
		return err
	}
	s.statWritten()
	return nil
}

// isStatKey reports whether a key of the main LSM is a statistics record,
// of this layout or of the tables layouts 1 to 8 kept them in (until the
// upgrade moves them, they are summed when read and when moved).
func isStatKey(k []byte) bool {
	return len(k) > 0 && (k[0] == statTable || bytes.IndexByte(oldStatTables, k[0]) >= 0)
}

// mergerFor is the main LSM's merge operator: statistics deltas are summed
// by combine (Options.CombineStats) when it is given, and every other
// record, or every record without it, concatenated (concatenate). Both keep
// concatenate's name, so stores written with either open with the other;
// summed or concatenated, the graph package reads a value as the sum of the
// deltas in it.
func mergerFor(combine func([][]byte) []byte) *pebble.Merger {
	if combine == nil {
		return concatenate
	}
	return &pebble.Merger{
		Name: concatenate.Name,
		Merge: func(key, value []byte) (pebble.ValueMerger, error) {
			if !isStatKey(key) {
				return concatenate.Merge(key, value)
			}
			m := statMergers.Get().(*statMerger)
			m.combine = combine
			m.add(value)
			return m, nil
		},
	}
}

// statMerger gathers a record's deltas and sums them when Pebble asks for
// the result (reads and compactions alike). Operands are copied into one
// buffer: Pebble may reuse their memory once a call returns.
type statMerger struct {
	combine func([][]byte) []byte
	buf     []byte
	ends    []int
	vals    [][]byte
}

// statMergers are reused, as concatMergers are (merge.go): Finish hands a
// merger back as its result's Closer.
var statMergers = sync.Pool{New: func() any { return new(statMerger) }}

// Close returns m to statMergers: Pebble is done with its result.
func (m *statMerger) Close() error {
	if cap(m.buf) > maxPooledMerge {
		return nil
	}
	clear(m.vals)
	m.combine, m.buf, m.ends, m.vals = nil, m.buf[:0], m.ends[:0], m.vals[:0]
	statMergers.Put(m)
	return nil
}

func (m *statMerger) add(v []byte) {
	m.buf = append(m.buf, v...)
	m.ends = append(m.ends, len(m.buf))
}

func (m *statMerger) MergeNewer(v []byte) error { m.add(v); return nil }
func (m *statMerger) MergeOlder(v []byte) error { m.add(v); return nil }

func (m *statMerger) Finish(bool) ([]byte, io.Closer, error) {
	if len(m.ends) == 1 {
		return m.buf, m, nil
	}
	vals := m.vals[:0]
	start := 0
	for _, end := range m.ends {
		vals, start = append(vals, m.buf[start:end]), end
	}
	m.vals = vals
	if out := m.combine(vals); out != nil {
		return out, m, nil
	}
	// A delta the combiner cannot read is kept, not dropped: concatenated
	// (as they are in buf), readers still see the others.
	return m.buf, m, nil
}

// statFlushBatches bounds the batches of statistics deltas the main LSM's
// memtable holds unmerged. Pebble merges a record's operands when the
// memtable flushes, but until then every read of a record merges them all:
// on a quiet server, whose memtable fills in hours, an hour's record would
// gather one operand per summarising batch (one a second). A busy server's
// memtable fills and flushes long before this many batches.
const statFlushBatches = 1024

// statWritten counts a batch of deltas and flushes the main memtable,
// in the background, every statFlushBatches of them.
func (s *Store) statWritten() {
	if s.statBatches.Add(1)%statFlushBatches == 0 {
		_, _ = s.main.AsyncFlush()
	}
}

// Stats implements store.StatsStore.
func (s *Store) Stats(ctx context.Context, q store.StatQuery, fn func(store.StatRecord) bool) error {
	defer s.read()() // the LSMs may be replaced (space.go)
	r, err := statResolution(q.Resolution)
	if err != nil {
		return err
	}
	if q.To <= q.From {
		return nil
	}
	for p := store.PartitionOf(max(q.From, 0)); p < q.To; p += store.PartitionSeconds {
		if err := ctx.Err(); err != nil {
			return err
		}
		prefix := statPrefix(r, p, q.Group)
		if s.oldTables {
			prefix = oldStatPrefix(r, p, q.Group)
		}
		more, err := s.statPartition(ctx, prefix, q, fn)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// statPartition scans one group of one partition; more is false when fn
// asked to stop.
func (s *Store) statPartition(ctx context.Context, prefix []byte, q store.StatQuery, fn func(store.StatRecord) bool) (more bool, err error) {
	it, err := s.main.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return false, err
	}
	defer it.Close()
	for seen, ok := 0, it.First(); ok; seen++ {
		if seen%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return false, err // the client went away: stop reading for it
			}
		}
		rest := it.Key()[len(prefix):]
		n, k := binary.Uvarint(rest)
		if k <= 0 || uint64(len(rest)-k) < n+8 {
			ok = it.Next() // not a statistics key of this layout
			continue
		}
		entity := rest[k : k+int(n)]
		if q.Want != nil && !q.Want(string(entity)) {
			// Skip every bucket of this entity at once.
			ok = it.SeekGE(prefixEnd(it.Key()[:len(prefix)+k+int(n)]))
			continue
		}
		bucket := int64(binary.BigEndian.Uint64(rest[k+int(n):]))
		if bucket >= q.From && bucket < q.To {
			rec := store.StatRecord{StatKey: store.StatKey{Resolution: q.Resolution, Bucket: bucket, Group: q.Group, Entity: string(entity)}, Value: it.Value()}
			if !fn(rec) {
				return false, nil
			}
		}
		ok = it.Next()
	}
	return true, it.Error()
}
