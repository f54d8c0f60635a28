// Two traces side by side: spans are matched by their path of names from
// the root (the n-th span of a path in one trace with the n-th in the
// other), so a structure change shows as spans only in A or only in B, and
// a time change as the difference of matched durations.
import type { Row } from './tracetree';

export interface SpanDiff {
  key: string; // "api › DynamoDB #2"
  depth: number;
  name: string;
  a?: { start: number; duration: number }; // start relative to the trace's start
  b?: { start: number; duration: number };
  delta?: number; // b − a duration, when in both
}

function keyed(rows: Row[]): Map<string, { row: Row; start: number }> {
  const out = new Map<string, { row: Row; start: number }>();
  const t0 = rows.reduce((m, r) => Math.min(m, r.start), Infinity);
  const path: string[] = [];
  const seen = new Map<string, number>();
  for (const r of rows) {
    path.length = r.depth;
    path.push(r.name);
    const p = path.join(' › ');
    const n = (seen.get(p) ?? 0) + 1;
    seen.set(p, n);
    out.set(n > 1 ? `${p} #${n}` : p, { row: r, start: r.start - t0 });
  }
  return out;
}

export function compareTraces(a: Row[], b: Row[]): SpanDiff[] {
  const ka = keyed(a);
  const kb = keyed(b);
  const out: SpanDiff[] = [];
  const add = (key: string) => {
    const x = ka.get(key);
    const y = kb.get(key);
    const r = (x ?? y)!.row;
    const d: SpanDiff = { key, depth: r.depth, name: r.name };
    if (x) d.a = { start: x.start, duration: x.row.end - x.row.start };
    if (y) d.b = { start: y.start, duration: y.row.end - y.row.start };
    if (d.a && d.b) d.delta = d.b.duration - d.a.duration;
    out.push(d);
  };
  // A's order, with B's extra spans after the span they follow in B.
  const done = new Set<string>();
  for (const k of ka.keys()) { add(k); done.add(k); }
  for (const k of kb.keys()) if (!done.has(k)) add(k);
  return out;
}
