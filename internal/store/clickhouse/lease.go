package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// Trace leases (store.TraceLeaser): a process claims the traces it is about
// to summarise by writing a row per trace (its own id, an expiry), then
// reads back every unexpired claim on them; it holds a trace's lease when
// it sees no other process's claim. Of two processes claiming one trace
// at once, the one whose read started later sees the other's claim (it was
// written before the other's read, which started earlier), so both cannot
// hold it; both may back off, and retry at their next flush. Releasing is
// a row with no expiry, or (schema version 7) the trace's summary row with
// the owner: a version newer than the claim's, read as a release, so a
// summarising flush writes no release rows and the release is visible
// exactly when the summary is. A claim of a process that died lapses after
// leaseTTL. Expiry uses each process's clock: run NTP.

// leaseTTL bounds how long a dead process's claim blocks a trace; a live
// process holds a lease for one batch of summaries.
const leaseTTL = 30 * time.Second

// createLeases is migration 2 (schema.go). Every flush reads its traces'
// claims by trace id (othersClaims): at 18.16's default of 8,192 rows a
// granule each part of the table is read whole (a part is one flush's
// claims, ~1,000 rows), ~12,000 rows a read in a 100,000-segment run; at
// 256 only the granules of the flush's ids (docs/clickhouse.md, "Where it
// goes at ch24's start"). Databases made before keep their coarse table:
// the rows and what they mean are the same.
const createLeases = `CREATE TABLE IF NOT EXISTS trace_leases (p UInt32, trace String, owner String, ver UInt64, until Int64)
		ENGINE = MergeTree PARTITION BY p ORDER BY (trace, owner, ver) SETTINGS index_granularity = 256`

var _ store.TraceLeaser = (*Store)(nil)

func newOwner() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// leaseRows are lease rows of this store for ids, until an expiry (0: a
// release).
func (s *Store) leaseRows(ids []string, until int64) []byte {
	var w rowWriter
	p := part(time.Now().Unix())
	for _, id := range ids {
		w.u32(p)
		w.str(id)
		w.str(s.owner)
		w.u64(s.ver())
		w.i64(until)
	}
	return w.b
}

func (s *Store) writeLeases(ctx context.Context, ids []string, until int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.commits.commit(stage{{"trace_leases", s.leaseRows(ids, until)}}); err != nil {
		return err
	}
	return s.pruneLeases(ctx, time.Now().Add(-2*time.Hour))
}

// othersClaims are those of ids that another process's claim, unexpired
// at now, holds.
func (s *Store) othersClaims(ctx context.Context, ids []string, now time.Time) (map[string]bool, error) {
	taken := map[string]bool{}
	for lo := 0; lo < len(ids); lo += tracesPerQuery {
		part := ids[lo:min(lo+tracesPerQuery, len(ids))]
		// A summary releases only a claim older than itself, and an
		// unexpired claim is younger than leaseTTL (its expiry and
		// version come from one clock), so older summaries are not read.
		// This process's own rows are left out before the grouping (its
		// claims are half of what a flush reads here), and a trace two
		// others hold comes twice: taken is a set.
		since := now.Add(-leaseTTL)
		self := quote(s.owner)
		r, err := s.c.selectRowsIDs(ctx, fmt.Sprintf(`SELECT trace FROM (
				SELECT trace, owner, ver, until FROM trace_leases WHERE p >= %d AND trace IN %s AND owner != %s
				UNION ALL SELECT trace, owner, ver, toInt64(0) AS until FROM summaries
				WHERE trace IN %s AND ver >= %d AND owner != '' AND owner != %s)
			GROUP BY trace, owner HAVING argMax(until, ver) > %d`,
			uint32(store.PartitionOf(since.Unix())), idsTable, self, idsTable, since.UnixNano(), self, now.UnixNano()), part)
		if err != nil {
			return nil, err
		}
		for r.more() {
			taken[r.str()] = true
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	return taken, nil
}

// releasable are those of ids whose lease this store holds. Apply writes
// the releases of dropped traces after their tombstones (a summary's row
// is its release), saving ReleaseTraces its own INSERT: once a trace's
// summary is stored, another process may build on it.
func (s *Store) releasable(ids []string) []string {
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	var out []string
	for _, id := range ids {
		if s.held[id] {
			out = append(out, id)
		}
	}
	return out
}

// released records that the leases of ids are released.
func (s *Store) released(ids []string) {
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	for _, id := range ids {
		delete(s.held, id)
		delete(s.read, id)
	}
}

// LeaseTraces implements store.TraceLeaser. After a call that lost a
// trace to another process (they split traces between them, or a read's
// Sync retries what another holds), it first reads the claims already
// held and claims only the rest: a claim it would withdraw at once costs
// two INSERTs, and the read none.
func (s *Store) LeaseTraces(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var refused []string
	if s.contended.Load() {
		held, err := s.othersClaims(ctx, ids, time.Now())
		if err != nil {
			return nil, err
		}
		if len(held) > 0 {
			free := make([]string, 0, len(ids)-len(held))
			for _, id := range ids {
				if held[id] {
					refused = append(refused, id)
				} else {
					free = append(free, id)
				}
			}
			ids = free
		}
		if len(ids) == 0 {
			return nil, nil
		}
	}
	now := time.Now()
	if err := s.writeLeases(ctx, ids, now.Add(leaseTTL).UnixNano()); err != nil {
		return nil, err
	}
	taken, err := s.othersClaims(ctx, ids, now)
	if err != nil {
		return nil, err
	}
	s.contended.Store(len(taken) > 0 || len(refused) > 0)
	var got, lost []string
	for _, id := range ids {
		if taken[id] {
			lost = append(lost, id)
		} else {
			got = append(got, id)
		}
	}
	// Withdrawn at once, so the holder's next claim does not see ours.
	if err := s.writeLeases(ctx, lost, 0); err != nil {
		return nil, err
	}
	s.heldMu.Lock()
	for _, id := range got {
		s.held[id] = true
	}
	s.heldMu.Unlock()
	return got, nil
}

// HeldByOthers are those of ids another process's unexpired claim holds:
// one read, no claim (a read's Sync asks it before retrying such traces).
func (s *Store) HeldByOthers(ctx context.Context, ids []string) ([]string, error) {
	taken, err := s.othersClaims(ctx, ids, time.Now())
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(taken))
	for _, id := range ids {
		if taken[id] {
			out = append(out, id)
			delete(taken, id) // once, though named twice
		}
	}
	return out, nil
}

// ReleaseTraces implements store.TraceLeaser: the leases Apply has not
// released already.
func (s *Store) ReleaseTraces(ctx context.Context, ids []string) error {
	s.heldMu.Lock()
	var rest []string
	for _, id := range ids {
		if s.held[id] {
			rest = append(rest, id)
			delete(s.held, id)
			delete(s.read, id)
		}
	}
	s.heldMu.Unlock()
	return s.writeLeases(ctx, rest, 0)
}

// pruneLeases drops the partitions of lease rows older than before, at most
// once an hour.
func (s *Store) pruneLeases(ctx context.Context, before time.Time) error {
	return s.pruneOnce(ctx, &leasePrune, "trace_leases", before)
}

// pruneOnce drops table's partitions older than before unless a call for
// this database already dropped them: the cut only moves once an hour.
// seen holds a *pruneState per server and database.
func (s *Store) pruneOnce(ctx context.Context, seen *sync.Map, table string, before time.Time) error {
	v, _ := seen.LoadOrStore(s.c.base+s.c.database, &pruneState{})
	st := v.(*pruneState)
	cut := part(before.Unix())
	st.mu.Lock()
	defer st.mu.Unlock()
	if cut <= st.cut {
		return nil
	}
	if err := s.dropOld(ctx, table, cut); err != nil {
		return err
	}
	st.cut = cut
	return nil
}

var leasePrune sync.Map // server and database → *pruneState

// staleWindow bounds what PendingBefore reads: traces filed in the last
// hours, by marks written in them. It runs every few seconds, so it must
// not read the whole traces table; a dead process's trace filed or marked
// earlier is summarised by the next process to start (Pending) or when
// its trace gets another document.
const staleWindow = 2 * time.Hour

// PendingAmong implements store.StalePending.
func (s *Store) PendingAmong(ctx context.Context, ids []string) ([]string, error) {
	var out []string
	for lo := 0; lo < len(ids); lo += tracesPerQuery {
		part := ids[lo:min(lo+tracesPerQuery, len(ids))]
		tms, err := s.readMarkRows(ctx, part) // marks.go
		if err != nil {
			return nil, err
		}
		for i := range tms {
			if tms[i].pending() {
				out = append(out, tms[i].id)
			}
		}
	}
	return out, nil
}
