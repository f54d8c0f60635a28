package clickhouse

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// Pending (Recover, at every start) is, as a model, every mark row of the
// database grouped by trace (pendingSQL): linear in the whole retention,
// 5.6 s of ClickHouse's CPU at 1M traces. So each answer is recorded in
// the database (meta, pendingKind) with the block sample taken before it
// read (newparts.go), and the next start, of any process, makes its answer
// from that one as a rescan does (rescan.go), with every row, not a
// window's: the traces pending among the parts made since, and the
// recorded traces, judged again where touched since, kept as they were
// otherwise (marks are only added, clears only make a trace less pending;
// the purge's mutations delete only cleared marks). Each process's
// adopting loop records the answer again when the record is older than its
// whole answers' period (refreshPending), so a start reads about the last
// 10 minutes' writes, not the database.
//
// A table made anew (its block numbers lower than recorded) makes the
// answer a whole scan again. A partition dropped since (retention) has
// every recorded trace judged again: its rows are gone, and with them a
// moved trace's clears of marks in another partition, which the whole
// scan would then call pending though the trace was summarised (as a
// rescan's window, rescan.go; not adopting it is right). A sharded store's
// nodes count blocks apart: it scans whole every time. Builds before this
// one ignore the record (an unknown meta kind).
const pendingKind = "clickhouse-pending-at"

// pendingRecord is what a Pending answer leaves for the next.
type pendingRecord struct {
	Version   int      `json:"v"`  // pendingRecordVersion
	At        int64    `json:"at"` // when (the writer's clock, ns); 0 before it was recorded
	Docs      int64    `json:"docs"`
	Traces    int64    `json:"traces"`
	Summaries int64    `json:"summaries"`
	Dropped   int64    `json:"dropped"`
	Parts     []string `json:"parts"` // table/partition
	Open      []string `json:"open"`  // the pending traces, in order
}

const pendingRecordVersion = 1

// maxRecorded bounds the traces a record holds (~40 bytes each in one meta
// row): a start after a backlog larger than that reads whole.
const maxRecorded = 100_000

// pendingAll is Pending's answer, in trace order.
func (s *Store) pendingAll(ctx context.Context) ([]string, error) {
	if len(s.shards) > 0 {
		return s.scanAll(ctx)
	}
	cur, err := s.newestBlocks(ctx)
	if err != nil {
		return nil, err
	}
	var open []string
	if last, ok := s.lastPending(ctx, cur); ok {
		open, err = s.rescanAll(ctx, last, cur)
		s.stale.startRescans.Add(1)
	} else {
		open, err = s.scanAll(ctx)
	}
	if err != nil {
		return nil, err
	}
	if len(open) > maxRecorded {
		return open, nil
	}
	rec := pendingRecord{pendingRecordVersion, time.Now().UnixNano(), cur.docs, cur.traces, cur.summaries, cur.dropped, nil, open}
	for tp := range cur.parts {
		rec.Parts = append(rec.Parts, tp.String())
	}
	if b, err := json.Marshal(rec); err == nil {
		// Not recorded: the next start reads more, that is all.
		_ = s.PutMeta(ctx, pendingKind, "", b)
	}
	return open, nil
}

func (tp tablePart) String() string { return tp.table + "/" + strconv.FormatUint(uint64(tp.p), 10) }

// lastPending is the recorded answer, if one can be rescanned to now.
func (s *Store) lastPending(ctx context.Context, cur blockSample) (pendingRecord, bool) {
	rec, ok := s.recordedPending(ctx)
	return rec, ok && cur.docs >= rec.Docs && cur.traces >= rec.Traces && cur.summaries >= rec.Summaries && cur.dropped >= rec.Dropped
}

// recordedPending is the recorded answer, if this build can read it.
func (s *Store) recordedPending(ctx context.Context) (pendingRecord, bool) {
	var rec pendingRecord
	b, err := s.GetMeta(ctx, pendingKind, "")
	if err != nil || json.Unmarshal(b, &rec) != nil || rec.Version != pendingRecordVersion {
		return rec, false
	}
	return rec, true
}

// refreshPending records Pending's answer again if the record is older
// than every: the adopting loop calls it with each whole answer (every 10
// minutes), so that a start, of any process, reads at most about that
// long's writes, however long since the last start.
func (s *Store) refreshPending(ctx context.Context, every time.Duration) {
	if len(s.shards) > 0 {
		return
	}
	if rec, ok := s.recordedPending(ctx); ok && time.Since(time.Unix(0, rec.At)) < every {
		return
	}
	_, _ = s.pendingAll(ctx) // not recorded: the next start reads more, that is all
}

// scanAll is the model: every mark row grouped by the server.
func (s *Store) scanAll(ctx context.Context) ([]string, error) {
	r, err := s.c.selectRows(ctx, pendingSQL("1", "")+` ORDER BY trace`)
	if err != nil {
		return nil, err
	}
	return r.strs()
}

// rescanAll is scanAll's answer made from last's (above).
func (s *Store) rescanAll(ctx context.Context, last pendingRecord, cur blockSample) ([]string, error) {
	base := blockSample{docs: last.Docs, traces: last.Traces, summaries: last.Summaries, dropped: last.Dropped}
	judge := map[string]bool{}
	now := map[string]bool{}
	for tp := range cur.parts {
		now[tp.String()] = true
	}
	dropped := false
	for _, p := range last.Parts {
		dropped = dropped || !now[p]
	}
	var touched map[string]bool
	if !dropped && len(last.Open) > 0 {
		var err error
		if touched, err = s.touchedSince(ctx, last.Open, base); err != nil {
			return nil, err
		}
	}
	var open []string
	for _, id := range last.Open {
		if touched == nil || touched[id] {
			judge[id] = true
		} else {
			open = append(open, id)
		}
	}
	r, err := s.c.selectRows(ctx, pendingOf(`trace`, markRowsAfter("1", base), ``))
	if err != nil {
		return nil, err
	}
	for r.more() {
		if id := r.str(); r.err == nil {
			judge[id] = true
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	open = slices.DeleteFunc(open, func(id string) bool { return judge[id] })
	ids := make([]string, 0, len(judge))
	for id := range judge {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for lo := 0; lo < len(ids); lo += tracesPerQuery {
		tms, err := s.readMarkRows(ctx, ids[lo:min(lo+tracesPerQuery, len(ids))])
		if err != nil {
			return nil, err
		}
		for i := range tms {
			if tms[i].pending() {
				open = append(open, tms[i].id)
			}
		}
	}
	slices.Sort(open)
	return open, nil
}
