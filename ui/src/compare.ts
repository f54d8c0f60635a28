// Analytics: series and A-vs-B comparisons computed from trace summaries.
import type { RootCause, TraceSummary } from './types';
import type { Aggregates } from './api';

export interface Series { t: number[]; ok: number[]; error: number[]; throttle: number[]; fault: number[]; avg: (number | null)[] }

export function timeSeries(list: TraceSummary[], start: number, end: number, buckets = 60): Series {
  const width = Math.max(1, (end - start) / buckets);
  const s: Series = { t: [], ok: [], error: [], throttle: [], fault: [], avg: [] };
  const sum: number[] = [];
  for (let i = 0; i < buckets; i++) {
    s.t.push(start + i * width);
    s.ok.push(0); s.error.push(0); s.throttle.push(0); s.fault.push(0); sum.push(0);
  }
  for (const t of list) {
    if (t.StartTime == null) continue;
    const i = Math.floor((t.StartTime - start) / width);
    if (i < 0 || i >= buckets) continue;
    if (t.HasFault) s.fault[i]++;
    else if (t.HasThrottle) s.throttle[i]++;
    else if (t.HasError) s.error[i]++;
    else s.ok[i]++;
    sum[i] += t.ResponseTime ?? 0;
  }
  for (let i = 0; i < buckets; i++) {
    const n = s.ok[i] + s.error[i] + s.throttle[i] + s.fault[i];
    s.avg.push(n ? sum[i] / n : null);
  }
  return s;
}

export interface Diff { key: string; a: number; b: number; diff: number; countA: number; countB: number }

// Share of traces carrying each annotation value, in A and in B.
export function annotationDiff(a: TraceSummary[], b: TraceSummary[], limit = 50): Diff[] {
  return diff(a, b, annotationKeys, limit);
}

// Share of traces blamed on each root cause (fault and error), in A and in B.
export function rootCauseDiff(a: TraceSummary[], b: TraceSummary[], limit = 50): Diff[] {
  return diff(a, b, rootCauseKeys, limit);
}

function diff(a: TraceSummary[], b: TraceSummary[], keysOf: (t: TraceSummary) => Set<string>, limit: number): Diff[] {
  const ca = counts(a, keysOf);
  const cb = counts(b, keysOf);
  const keys = new Set([...ca.keys(), ...cb.keys()]);
  const out: Diff[] = [];
  for (const k of keys) {
    const na = ca.get(k) ?? 0;
    const nb = cb.get(k) ?? 0;
    const pa = a.length ? na / a.length : 0;
    const pb = b.length ? nb / b.length : 0;
    out.push({ key: k, a: pa, b: pb, diff: pb - pa, countA: na, countB: nb });
  }
  out.sort((x, y) => Math.abs(y.diff) - Math.abs(x.diff) || x.key.localeCompare(y.key));
  return out.slice(0, limit);
}

function counts(list: TraceSummary[], keysOf: (t: TraceSummary) => Set<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of list) for (const k of keysOf(t)) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

export function annotationKeys(t: TraceSummary): Set<string> {
  const out = new Set<string>();
  for (const [k, vals] of Object.entries(t.Annotations || {})) {
    for (const v of vals || []) {
      const av = v.AnnotationValue || {};
      const val = av.StringValue ?? av.NumberValue ?? av.BooleanValue;
      if (val !== undefined) out.add(`${k} = ${typeof val === 'string' ? JSON.stringify(val) : String(val)}`);
    }
  }
  return out;
}

export function rootCauseKeys(t: TraceSummary): Set<string> {
  const out = new Set<string>();
  const add = (kind: string, causes: RootCause[] | undefined) => {
    for (const c of causes || []) {
      for (const s of c.Services || []) {
        const path = s.EntityPath || [];
        const last = path[path.length - 1];
        const exc = last?.Exceptions?.[0]?.Name;
        out.add(`${kind}: ${s.Name ?? '?'}${last?.Name && last.Name !== s.Name ? ' › ' + last.Name : ''}${exc ? ' (' + exc + ')' : ''}`);
      }
    }
  };
  add('fault', t.FaultRootCauses);
  add('error', t.ErrorRootCauses);
  add('slow', t.ResponseTimeRootCauses);
  return out;
}

// The same comparisons from server aggregates over every matching trace.

// Traces over time from the server's OverTime buckets. A trace counts as
// its worst state (fault over throttle over error), as timeSeries does; the
// server counts flags independently, so ok is what no flag claims.
export function seriesOf(a: Aggregates | undefined): Series {
  const s: Series = { t: [], ok: [], error: [], throttle: [], fault: [], avg: [] };
  for (const b of a?.OverTime || []) {
    s.t.push(b.Start);
    s.fault.push(b.Faults);
    s.throttle.push(b.Throttles);
    s.error.push(b.Errors);
    s.ok.push(Math.max(0, b.Count - b.Faults - b.Throttles - b.Errors));
    s.avg.push(b.Count ? b.MeanResponseTime : null);
  }
  return s;
}

// Share of each annotation value (or root-cause service) in A and in B.
export function breakdownDiff(a: Aggregates, b: Aggregates, pick: (x: Aggregates) => Map<string, number>, limit = 50): Diff[] {
  const ca = pick(a);
  const cb = pick(b);
  const out: Diff[] = [];
  for (const k of new Set([...ca.keys(), ...cb.keys()])) {
    const na = ca.get(k) ?? 0;
    const nb = cb.get(k) ?? 0;
    const pa = a.TracesMatched ? na / a.TracesMatched : 0;
    const pb = b.TracesMatched ? nb / b.TracesMatched : 0;
    out.push({ key: k, a: pa, b: pb, diff: pb - pa, countA: na, countB: nb });
  }
  out.sort((x, y) => Math.abs(y.diff) - Math.abs(x.diff) || x.key.localeCompare(y.key));
  return out.slice(0, limit);
}

export function annotationCounts(x: Aggregates): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of x.Annotations || []) {
    for (const v of k.Values) m.set(`${k.Key} = ${typeof v.Value === 'string' ? JSON.stringify(v.Value) : String(v.Value)}`, v.Count);
  }
  return m;
}

export function rootCauseCounts(x: Aggregates): Map<string, number> {
  const m = new Map<string, number>();
  const add = (kind: string, l: { Value: unknown; Count: number }[] | undefined) => { for (const v of l || []) m.set(`${kind}: ${String(v.Value)}`, v.Count); };
  add('fault', x.FaultRootCauses);
  add('error', x.ErrorRootCauses);
  add('slow', x.ResponseTimeRootCauses);
  return m;
}
