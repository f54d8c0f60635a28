// Pure helpers of the insights page and the map's badge.
import type { ImpactService, InsightSummary } from './api';
import type { Service, ServiceId } from './types';

export const serviceKey = (s: ServiceId | Service) => `${s.Name || ''}\u0000${s.Type || ''}\u0000${s.AccountId || ''}`;

// The impact graph drawn with the group's numbers: the services of the
// service graph that the impact graph names, and only the edges between
// them, with reference ids renumbered.
export function impactMap(graph: Service[], impact: ImpactService[]): Service[] {
  const want = new Set(impact.map(serviceKey));
  const kept = graph.filter((s) => want.has(serviceKey(s)));
  const ref = new Map(kept.map((s, i) => [s.ReferenceId, i]));
  return kept.map((s, i) => ({
    ...s, ReferenceId: i,
    Edges: (s.Edges || []).filter((e) => ref.has(e.ReferenceId)).map((e) => ({ ...e, ReferenceId: ref.get(e.ReferenceId)! })),
  }));
}

// The services with an active insight, by key, with the insight's id.
export function activeRoots(list: InsightSummary[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const i of list) if (i.State === 'ACTIVE') out.set(serviceKey(i.RootCauseServiceId), i.InsightId);
  return out;
}

export function duration(i: InsightSummary, now = Date.now() / 1000): number {
  return (i.EndTime ?? now) - i.StartTime;
}
