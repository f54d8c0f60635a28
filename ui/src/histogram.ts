// Histograms of response times for the distribution charts.
import type { HistogramEntry } from './types';

export interface Bins { edges: number[]; counts: number[] } // edges.length = counts.length + 1

// Bins values (seconds) into n equal-width bins between 0 and the largest value.
export function bin(values: number[], n = 40): Bins {
  const finite = values.filter((v) => Number.isFinite(v) && v >= 0);
  const max = finite.length ? Math.max(...finite) : 1;
  const width = niceStep(max / n);
  const count = Math.max(1, Math.ceil(max / width + 1e-9));
  const edges = Array.from({ length: count + 1 }, (_, i) => +(i * width).toPrecision(12));
  const counts = new Array(count).fill(0);
  for (const v of finite) counts[Math.min(count - 1, Math.floor(v / width))]++;
  return { edges, counts };
}

// Rebins the server's histogram entries (one per distinct value).
export function binEntries(entries: HistogramEntry[] | undefined, n = 40): Bins {
  const list = entries || [];
  const max = list.reduce((m, e) => Math.max(m, e.Value), 0) || 1;
  const width = niceStep(max / n);
  const count = Math.max(1, Math.ceil(max / width + 1e-9));
  const edges = Array.from({ length: count + 1 }, (_, i) => +(i * width).toPrecision(12));
  const counts = new Array(count).fill(0);
  for (const e of list) counts[Math.min(count - 1, Math.floor(e.Value / width))] += e.Count;
  return { edges, counts };
}

// Rounds a step up to 1, 2 or 5 times a power of ten.
export function niceStep(raw: number): number {
  if (!(raw > 0)) return 0.001;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p * (1 + 1e-9)) return m * p;
  return 10 * p;
}

// Percentile (0..1) of a list of values, nearest-rank.
export function percentile(values: number[], q: number): number | undefined {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

// Percentile over histogram entries.
export function entryPercentile(entries: HistogramEntry[] | undefined, q: number): number | undefined {
  const list = [...(entries || [])].sort((a, b) => a.Value - b.Value);
  const total = list.reduce((n, e) => n + e.Count, 0);
  if (!total) return undefined;
  let seen = 0;
  for (const e of list) {
    seen += e.Count;
    if (seen >= q * total) return e.Value;
  }
  return list[list.length - 1].Value;
}
