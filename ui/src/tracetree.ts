// Builds the timeline (waterfall) of a trace from its segment documents:
// segments, their nested subsegments and the inferred segments, nested by
// call (a segment sits under the subsegment that called it).
import type { SegmentDoc, Trace } from './types';
import { niceStep } from './histogram';

export type Status = 'ok' | 'error' | 'throttle' | 'fault' | 'pending';

export interface Row {
  id: string;
  name: string;
  depth: number;
  start: number;
  end: number;
  kind: 'segment' | 'subsegment' | 'inferred';
  status: Status;
  hasChildren: boolean;
  doc: SegmentDoc; // this segment or subsegment
  root: SegmentDoc; // the document it arrived in (for the raw JSON)
  segment: string; // service (segment) name it belongs to
}

export function statusOf(d: { error?: boolean; fault?: boolean; throttle?: boolean; in_progress?: boolean }): Status {
  if (d.fault) return 'fault';
  if (d.throttle) return 'throttle';
  if (d.error) return 'error';
  if (d.in_progress) return 'pending';
  return 'ok';
}

interface Node { doc: SegmentDoc; root: SegmentDoc; kind: Row['kind']; segment: string; children: Node[] }

// Parses documents; ones that are not JSON objects are skipped, not fatal.
export function documents(trace: Trace): SegmentDoc[] {
  const out: SegmentDoc[] = [];
  for (const s of trace.Segments || []) {
    try {
      const d = JSON.parse(s.Document);
      if (d && typeof d === 'object' && !Array.isArray(d)) out.push(d as SegmentDoc);
    } catch { /* a broken document is shown as missing */ }
  }
  return out;
}

export function buildRows(docs: SegmentDoc[]): Row[] {
  const byId = new Map<string, Node>();
  const tops: Node[] = [];
  const add = (doc: SegmentDoc, root: SegmentDoc, kind: Row['kind'], segment: string): Node => {
    const n: Node = { doc, root, kind, segment, children: [] };
    if (doc.id && !byId.has(doc.id)) byId.set(doc.id, n);
    for (const sub of doc.subsegments || []) if (sub && typeof sub === 'object') n.children.push(add(sub, root, 'subsegment', segment));
    return n;
  };
  for (const d of docs) tops.push(add(d, d, d.inferred ? 'inferred' : d.type === 'subsegment' ? 'subsegment' : 'segment', d.name));
  const roots: Node[] = [];
  for (const n of tops) {
    const parent = n.doc.parent_id ? byId.get(n.doc.parent_id) : undefined;
    if (parent && parent !== n && !isAncestor(n, parent)) parent.children.push(n);
    else roots.push(n);
  }
  const rows: Row[] = [];
  const walk = (n: Node, depth: number) => {
    const start = num(n.doc.start_time);
    rows.push({
      id: n.doc.id, name: String(n.doc.name ?? ''), depth, start,
      end: n.doc.end_time != null ? num(n.doc.end_time) : NaN,
      kind: n.kind, status: statusOf(n.doc), hasChildren: n.children.length > 0,
      doc: n.doc, root: n.root, segment: n.segment,
    });
    [...n.children].sort((a, b) => num(a.doc.start_time) - num(b.doc.start_time)).forEach((c) => walk(c, depth + 1));
  };
  roots.sort((a, b) => num(a.doc.start_time) - num(b.doc.start_time)).forEach((r) => walk(r, 0));
  // Unfinished work ends with the latest end seen, so its bar stays visible.
  const last = rows.reduce((m, r) => (Number.isFinite(r.end) ? Math.max(m, r.end) : m), -Infinity);
  for (const r of rows) if (!Number.isFinite(r.end)) r.end = Number.isFinite(last) ? Math.max(last, r.start) : r.start;
  return rows;
}

function isAncestor(n: Node, candidate: Node): boolean {
  // true when candidate sits inside n's own tree (a cycle through parent ids)
  const stack = [...n.children];
  while (stack.length) {
    const c = stack.pop()!;
    if (c === candidate) return true;
    stack.push(...c.children);
  }
  return false;
}

function num(x: unknown): number {
  return typeof x === 'number' ? x : Number(x);
}

// Rows left after hiding the descendants of collapsed rows (rows are in
// depth-first order, so a collapsed row's descendants follow it directly).
export function visibleRows(rows: Row[], collapsed: Set<string>): Row[] {
  if (!collapsed.size) return rows;
  const out: Row[] = [];
  let hideDeeperThan = Infinity;
  for (const r of rows) {
    if (r.depth > hideDeeperThan) continue;
    hideDeeperThan = Infinity;
    out.push(r);
    if (collapsed.has(r.id) && r.hasChildren) hideDeeperThan = r.depth;
  }
  return out;
}

export function span(rows: Row[]): { start: number; end: number } {
  let start = Infinity;
  let end = -Infinity;
  for (const r of rows) {
    if (r.start < start) start = r.start;
    if (r.end > end) end = r.end;
  }
  if (!Number.isFinite(start)) return { start: 0, end: 0 };
  return { start, end: Math.max(end, start) };
}

// A bar's position in percent of the trace's span; at least minPct wide.
export function bar(r: { start: number; end: number }, t: { start: number; end: number }, minPct = 0.2): { left: number; width: number } {
  const total = t.end - t.start || 1;
  const left = Math.min(100 - minPct, Math.max(0, ((r.start - t.start) / total) * 100));
  const width = Math.min(100 - left, Math.max(minPct, ((r.end - r.start) / total) * 100));
  return { left, width };
}

// Axis ticks (seconds from the trace start) for a span of total seconds.
export function ticks(total: number, target = 8): number[] {
  if (!(total > 0)) return [0];
  const step = niceStep(total / target);
  const out: number[] = [];
  for (let t = 0; t <= total + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

// Every exception recorded on a segment or subsegment.
export function exceptionsOf(d: SegmentDoc) {
  return typeof d.cause === 'object' && d.cause && Array.isArray(d.cause.exceptions) ? d.cause.exceptions : [];
}
