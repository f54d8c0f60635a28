// The console's backend: the public X-Ray API (restJson1, POST with a JSON
// body), so whatever the console shows, the AWS CLI can show too, plus the
// Roentgen operations beside it (/roentgen/..., docs/aggregates.md) for
// aggregates over every matching trace and daemon telemetry.
import { SESSION_LOST } from './session';
import type { KeepPolicies } from './keeppolicies';
import type { Group, SamplingRule, SamplingRuleRecord, Service, ServiceId, Trace, TraceSummary } from './types';

export class ApiError extends Error {
  constructor(public readonly type: string, message: string, public readonly status: number) {
    super(message);
  }
}

export async function call<T>(path: string, body: unknown = {}, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError('NetworkError', `the server did not answer (${(e as Error).message})`, 0);
  }
  const text = await res.text();
  let json: any = {};
  try { json = text ? JSON.parse(text) : {}; } catch { /* keep the text for the error */ }
  if (!res.ok) {
    const type = (res.headers.get('X-Amzn-ErrorType') || json.__type || 'Error').split(':')[0];
    if (res.status === 403 && type === 'MissingAuthenticationTokenException') dispatchEvent(new Event(SESSION_LOST));
    throw new ApiError(type, json.message || json.Message || text || res.statusText, res.status);
  }
  return json as T;
}

// Pages of one paginated operation, up to max items.
async function pages<T>(path: string, body: Record<string, unknown>, key: string, max: number, signal?: AbortSignal): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let token: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const out = await call<any>(path, token ? { ...body, NextToken: token } : body, signal);
    items.push(...((out[key] as T[]) || []));
    token = out.NextToken;
    if (!token || items.length >= max) break;
  }
  return { items: items.slice(0, max), more: !!token || items.length > max };
}

export interface Window { start: number; end: number } // epoch seconds

export function traceSummaries(w: Window, filter: string, max: number, signal?: AbortSignal) {
  const body: Record<string, unknown> = { StartTime: w.start, EndTime: w.end };
  if (filter.trim()) body.FilterExpression = filter.trim();
  return pages<TraceSummary>('/TraceSummaries', body, 'TraceSummaries', max, signal);
}

export async function batchGetTraces(ids: string[], signal?: AbortSignal): Promise<Trace[]> {
  const out = await call<{ Traces?: Trace[] }>('/Traces', { TraceIds: ids }, signal);
  return out.Traces || [];
}

function groupRef(group: string) {
  return group && group !== 'Default' ? { GroupName: group } : {};
}

export async function serviceGraph(w: Window, group: string, signal?: AbortSignal): Promise<Service[]> {
  const { items } = await pages<Service>('/ServiceGraph', { StartTime: w.start, EndTime: w.end, ...groupRef(group) }, 'Services', 5000, signal);
  return items;
}

export async function traceGraph(ids: string[], signal?: AbortSignal): Promise<Service[]> {
  const { items } = await pages<Service>('/TraceGraph', { TraceIds: ids }, 'Services', 5000, signal);
  return items;
}

export async function groups(signal?: AbortSignal): Promise<Group[]> {
  const { items } = await pages<Group>('/Groups', {}, 'Groups', 1000, signal);
  return items;
}
export const createGroup = (g: Group) => call<{ Group: Group }>('/CreateGroup', g);
export const updateGroup = (g: Group) => call<{ Group: Group }>('/UpdateGroup', g);
export const deleteGroup = (name: string) => call('/DeleteGroup', { GroupName: name });

export async function samplingRules(signal?: AbortSignal): Promise<SamplingRuleRecord[]> {
  const { items } = await pages<SamplingRuleRecord>('/GetSamplingRules', {}, 'SamplingRuleRecords', 1000, signal);
  return items;
}
export const createSamplingRule = (r: SamplingRule) => call<{ SamplingRuleRecord: SamplingRuleRecord }>('/CreateSamplingRule', { SamplingRule: r });
export const updateSamplingRule = (r: Partial<SamplingRule>) => call<{ SamplingRuleRecord: SamplingRuleRecord }>('/UpdateSamplingRule', { SamplingRuleUpdate: r });
export const deleteSamplingRule = (name: string) => call('/DeleteSamplingRule', { RuleName: name });

export interface Info { version?: string; role?: string; udp?: string; tcp?: string; http?: string }
export async function info(): Promise<Info> {
  try {
    const res = await fetch('/console/info');
    return res.ok ? await res.json() : {};
  } catch {
    return {};
  }
}

export interface SeriesPoint {
  Timestamp: number;
  EdgeSummaryStatistics?: import('./types').Statistics;
  ServiceSummaryStatistics?: import('./types').Statistics;
}

// Period the API accepts (60 s or a multiple of 300 s) for about 60-120 points.
export function periodFor(seconds: number): number {
  if (seconds <= 120 * 60) return 60;
  return Math.max(1, Math.ceil(seconds / 300 / 100)) * 300;
}

export async function timeSeriesStatistics(w: Window, group: string, selector: string, signal?: AbortSignal): Promise<{ points: SeriesPoint[]; period: number }> {
  const period = periodFor(w.end - w.start);
  const body: Record<string, unknown> = { StartTime: w.start, EndTime: w.end, Period: period, ...groupRef(group) };
  if (selector) body.EntitySelectorExpression = selector;
  const { items } = await pages<SeriesPoint>('/TimeSeriesServiceStatistics', body, 'TimeSeriesServiceStatistics', 100000, signal);
  return { points: items, period };
}

export interface SamplingStatisticSummary { RuleName: string; Timestamp: number; RequestCount?: number; SampledCount?: number; BorrowCount?: number }

// What SDKs reported per rule over the last minute (the API keeps 10 s windows).
export async function samplingStatistics(signal?: AbortSignal): Promise<Map<string, { requests: number; sampled: number; borrowed: number }>> {
  const { items } = await pages<SamplingStatisticSummary>('/SamplingStatisticSummaries', {}, 'SamplingStatisticSummaries', 100000, signal);
  const since = Date.now() / 1000 - 60;
  const out = new Map<string, { requests: number; sampled: number; borrowed: number }>();
  for (const s of items) {
    if (s.Timestamp < since) continue;
    const o = out.get(s.RuleName) || { requests: 0, sampled: 0, borrowed: 0 };
    o.requests += s.RequestCount ?? 0;
    o.sampled += s.SampledCount ?? 0;
    o.borrowed += s.BorrowCount ?? 0;
    out.set(s.RuleName, o);
  }
  return out;
}

// Roentgen's aggregates over every trace a filter matches
// (POST /roentgen/TraceAggregates, docs/aggregates.md).
export interface Stats { Min: number; Max: number; Mean: number; P50: number; P90: number; P95: number; P99: number }
export interface ValueCount { Value: string | number | boolean; Count: number }
export interface Aggregates {
  TracesMatched: number;
  TracesProcessed: number;
  Truncated: boolean;
  NewestTraceTime: number;
  Faults: number; Errors: number; Throttles: number;
  ResponseTime?: Stats;
  Duration?: Stats;
  Histogram: { Lower: number; Upper: number; Count: number }[];
  OverTime?: { Start: number; End: number; Count: number; Faults: number; Errors: number; Throttles: number; MeanResponseTime: number }[];
  Slowest: { Id: string; ResponseTime: number }[];
  Traces: TraceSummary[];
  Urls: ValueCount[]; HttpStatuses: ValueCount[]; Users: ValueCount[]; EntryServices: ValueCount[]; RootCauses: ValueCount[];
  FaultRootCauses: ValueCount[]; ErrorRootCauses: ValueCount[]; ResponseTimeRootCauses: ValueCount[];
  Annotations: { Key: string; Count: number; Values: ValueCount[] }[];
}
export type AggSort = 'ResponseTime' | 'Duration' | 'StartTime';

export function traceAggregates(w: Window, filter: string, opts: { sortBy?: AggSort; ascending?: boolean; limit?: number; topN?: number; buckets?: number; timeBuckets?: number; histogram?: [number, number] } = {}, signal?: AbortSignal) {
  const body: Record<string, unknown> = { StartTime: w.start, EndTime: w.end, SortBy: opts.sortBy || 'StartTime', Ascending: !!opts.ascending,
    Limit: opts.limit ?? 100, TopN: opts.topN ?? 10, Buckets: opts.buckets ?? 40 };
  if (filter.trim()) body.FilterExpression = filter.trim();
  if (opts.timeBuckets) body.TimeBuckets = opts.timeBuckets;
  if (opts.histogram) { body.HistogramFrom = opts.histogram[0]; body.HistogramTo = opts.histogram[1]; }
  return call<Aggregates>('/roentgen/TraceAggregates', body, signal);
}

// Daemon telemetry as PutTelemetryRecords stored it (POST /roentgen/TelemetryRecords).
export interface TelemetryRecord {
  Timestamp: number;
  SegmentsReceivedCount?: number; SegmentsSentCount?: number; SegmentsSpilloverCount?: number; SegmentsRejectedCount?: number;
  BackendConnectionErrors?: Record<string, number>;
}
export interface Daemon {
  Hostname: string; EC2InstanceId: string; ResourceARN: string; FirstSeen: number; LastSeen: number; RecordCount: number;
  Totals: Record<string, number>; Records: TelemetryRecord[];
}
export function telemetry(w: Window, signal?: AbortSignal) {
  return call<{ Daemons: Daemon[]; Truncated: boolean }>('/roentgen/TelemetryRecords', { StartTime: w.start, EndTime: w.end }, signal);
}

// X-Ray Insights (docs/insights.md).
export interface Impact { FaultCount?: number; OkCount?: number; TotalCount?: number }
export interface InsightSummary {
  InsightId: string; GroupName: string; GroupARN: string; RootCauseServiceId: ServiceId; Categories: string[];
  State: 'ACTIVE' | 'CLOSED'; StartTime: number; EndTime?: number; Summary: string; LastUpdateTime?: number;
  ClientRequestImpactStatistics?: Impact; RootCauseServiceRequestImpactStatistics?: Impact;
  TopAnomalousServices?: { ServiceId: ServiceId }[];
}
export interface InsightEvent {
  Summary: string; EventTime: number; ClientRequestImpactStatistics?: Impact; RootCauseServiceRequestImpactStatistics?: Impact;
  TopAnomalousServices?: { ServiceId: ServiceId }[];
}

// Every group's insights when group is '' (Roentgen's extension: AWS asks for one group).
export function insightSummaries(w: Window, group: string, state?: 'ACTIVE' | 'CLOSED', signal?: AbortSignal) {
  const body: Record<string, unknown> = { StartTime: w.start, EndTime: w.end };
  if (group) body.GroupName = group;
  if (state) body.States = [state];
  return pages<InsightSummary>('/InsightSummaries', body, 'InsightSummaries', 1000, signal);
}
export async function insight(id: string, signal?: AbortSignal): Promise<InsightSummary> {
  return (await call<{ Insight: InsightSummary }>('/Insight', { InsightId: id }, signal)).Insight;
}
export async function insightEvents(id: string, signal?: AbortSignal): Promise<InsightEvent[]> {
  return (await pages<InsightEvent>('/InsightEvents', { InsightId: id }, 'InsightEvents', 1000, signal)).items;
}
export interface ImpactService { ReferenceId: number; Name?: string; Names?: string[]; Type?: string; AccountId?: string; Edges?: { ReferenceId: number }[] }
export async function insightImpactGraph(id: string, w: Window, signal?: AbortSignal): Promise<ImpactService[]> {
  const out = await call<{ Services?: ImpactService[] }>('/InsightImpactGraph', { InsightId: id, StartTime: w.start, EndTime: w.end }, signal);
  return out.Services || [];
}
// Keep policies (docs/keep.md): Roentgen operations beside the X-Ray API.
export const getKeepPolicies = (signal?: AbortSignal) => call<KeepPolicies>('/roentgen/GetKeepPolicies', {}, signal);
export const putKeepPolicies = (p: KeepPolicies) => call<KeepPolicies>('/roentgen/PutKeepPolicies', p);
