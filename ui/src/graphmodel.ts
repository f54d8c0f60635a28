// Turns the API's service graph (Service/Edge, spec §6) into what the map
// draws: node kinds, status shares, sizes and edge labels.
import type { Service, Statistics } from './types';
import { fmtDuration, fmtRate } from './format';

export type NodeKind = 'client' | 'service' | 'aws' | 'remote';

export interface Shares { ok: number; error: number; throttle: number; fault: number; total: number }

export function shares(s: Statistics | undefined): Shares {
  const ok = s?.OkCount ?? 0;
  const throttle = s?.ErrorStatistics?.ThrottleCount ?? 0;
  const error = s?.ErrorStatistics?.OtherCount ?? Math.max(0, (s?.ErrorStatistics?.TotalCount ?? 0) - throttle);
  const fault = s?.FaultStatistics?.TotalCount ?? s?.FaultStatistics?.OtherCount ?? 0;
  const total = s?.TotalCount ?? ok + throttle + error + fault;
  return { ok, error, throttle, fault, total };
}

export function addStats(a: Statistics, b: Statistics | undefined): Statistics {
  if (!b) return a;
  return {
    OkCount: (a.OkCount ?? 0) + (b.OkCount ?? 0),
    ErrorStatistics: {
      ThrottleCount: (a.ErrorStatistics?.ThrottleCount ?? 0) + (b.ErrorStatistics?.ThrottleCount ?? 0),
      OtherCount: (a.ErrorStatistics?.OtherCount ?? 0) + (b.ErrorStatistics?.OtherCount ?? 0),
      TotalCount: (a.ErrorStatistics?.TotalCount ?? 0) + (b.ErrorStatistics?.TotalCount ?? 0),
    },
    FaultStatistics: {
      OtherCount: (a.FaultStatistics?.OtherCount ?? 0) + (b.FaultStatistics?.OtherCount ?? 0),
      TotalCount: (a.FaultStatistics?.TotalCount ?? 0) + (b.FaultStatistics?.TotalCount ?? 0),
    },
    TotalCount: (a.TotalCount ?? 0) + (b.TotalCount ?? 0),
    TotalResponseTime: (a.TotalResponseTime ?? 0) + (b.TotalResponseTime ?? 0),
  };
}

export function kindOf(s: Service): NodeKind {
  const t = s.Type || '';
  if (t === 'client') return 'client';
  if (t === 'remote') return 'remote';
  if (t.startsWith('AWS::') && s.State !== 'active' && !/::(EC2|ECS|EKS|ElasticBeanstalk|AppRunner|Lambda::Function)/.test(t)) return 'aws';
  return 'service';
}

export const KIND_LABEL: Record<NodeKind, string> = { client: 'Client', service: 'Service', aws: 'AWS resource', remote: 'Remote' };

// A node's statistics: its own, or for clients the sum of its edges.
export function nodeStats(s: Service): Statistics {
  if (s.SummaryStatistics) return s.SummaryStatistics;
  return (s.Edges || []).reduce<Statistics>((acc, e) => addStats(acc, e.SummaryStatistics), {});
}

// Node diameter in px, growing with the log of its request count.
export function nodeSize(total: number): number {
  return Math.round(Math.min(90, 34 + 12 * Math.log10(1 + Math.max(0, total))));
}

export interface GraphNode { id: string; ref: number; name: string; kind: NodeKind; type: string; shares: Shares; size: number; label: string; avg?: number }
export interface GraphEdge { id: string; source: string; target: string; shares: Shares; label: string; avg?: number; width: number }

export function model(services: Service[], windowSeconds: number): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const refs = new Set(services.map((s) => s.ReferenceId));
  const nodes = services.map((s): GraphNode => {
    const st = nodeStats(s);
    const sh = shares(st);
    const kind = kindOf(s);
    const avg = sh.total ? (st.TotalResponseTime ?? 0) / sh.total : undefined;
    const name = s.Name || (s.Names || [])[0] || '(unnamed)';
    const sub = kind === 'client' ? 'client' : s.Type || KIND_LABEL[kind];
    // Without a time window (one trace's map) a rate means nothing.
    const rate = windowSeconds > 0 ? fmtRate(sh.total, windowSeconds) : '';
    const stats = kind === 'client' ? '' : `\n${[avg != null ? fmtDuration(avg) + ' avg' : '', rate].filter(Boolean).join(' · ')}`;
    return { id: `n${s.ReferenceId}`, ref: s.ReferenceId, name, kind, type: s.Type || '', shares: sh, size: nodeSize(sh.total), label: `${name}\n${sub}${stats}`, avg };
  });
  const edges: GraphEdge[] = [];
  for (const s of services) {
    for (const e of s.Edges || []) {
      if (!refs.has(e.ReferenceId)) continue;
      const sh = shares(e.SummaryStatistics);
      const avg = sh.total ? (e.SummaryStatistics?.TotalResponseTime ?? 0) / sh.total : undefined;
      edges.push({
        id: `e${s.ReferenceId}-${e.ReferenceId}`, source: `n${s.ReferenceId}`, target: `n${e.ReferenceId}`, shares: sh, avg,
        label: windowSeconds > 0 ? `${avg != null ? fmtDuration(avg) : '—'} · ${fmtRate(sh.total, windowSeconds)}` : avg != null ? fmtDuration(avg) : '',
        width: Math.min(8, 1 + Math.log10(1 + sh.total)),
      });
    }
  }
  return { nodes, edges };
}

// A filter expression that selects a node's traces, or an edge's.
export function nodeFilter(s: Service): string {
  const name = s.Name || '';
  if (s.Type === 'client') return '';
  const q = JSON.stringify(name);
  return s.Type ? `service(id(name: ${q}, type: ${JSON.stringify(s.Type)}))` : `service(${q})`;
}
export function edgeFilter(a: Service, b: Service): string {
  if (a.Type === 'client') return nodeFilter(b);
  return `edge(${JSON.stringify(a.Name || '')}, ${JSON.stringify(b.Name || '')})`;
}

// Adds a response-time range to a node or edge filter.
export function withResponseTime(base: string, lo: number, hi: number): string {
  const cond = `responsetime >= ${round(lo)} AND responsetime <= ${round(hi)}`;
  if (!base) return cond;
  return `${base} { ${cond} }`;
}

export function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

// The EntitySelectorExpression (GetTimeSeriesServiceStatistics) of a node
// or an edge.
export function nodeSelector(s: Service): string {
  if (s.Type === 'client') return '';
  if (s.Type) return `id(name: ${JSON.stringify(s.Name || '')}, type: ${JSON.stringify(s.Type)})`;
  return `service(${JSON.stringify(s.Name || '')})`;
}
export function edgeSelector(a: Service, b: Service): string {
  if (a.Type === 'client') return nodeSelector(b);
  return `edge(${JSON.stringify(a.Name || '')}, ${JSON.stringify(b.Name || '')})`;
}

export interface StatSeries { t: number[]; ok: number[]; error: number[]; throttle: number[]; fault: number[]; avg: (number | null)[] }

// Points of GetTimeSeriesServiceStatistics as chart columns; missing
// periods are zero so gaps show as gaps.
export function statSeries(points: { Timestamp: number; EdgeSummaryStatistics?: Statistics; ServiceSummaryStatistics?: Statistics }[], start: number, end: number, period: number): StatSeries {
  const by = new Map(points.map((p) => [Math.floor(p.Timestamp), p.ServiceSummaryStatistics || p.EdgeSummaryStatistics]));
  const out: StatSeries = { t: [], ok: [], error: [], throttle: [], fault: [], avg: [] };
  const first = Math.floor(start / period) * period;
  for (let t = first; t < end && out.t.length < 5000; t += period) {
    const sh = shares(by.get(t));
    const st = by.get(t);
    out.t.push(t);
    out.ok.push(sh.ok); out.error.push(sh.error); out.throttle.push(sh.throttle); out.fault.push(sh.fault);
    out.avg.push(sh.total ? (st?.TotalResponseTime ?? 0) / sh.total : null);
  }
  return out;
}
