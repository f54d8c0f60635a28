// The traces table: columns, sorting and paging over trace summaries.
import type { TraceSummary } from './types';
import { fmtValue, quote } from './format';

export type SortKey = 'id' | 'method' | 'url' | 'status' | 'responsetime' | 'duration' | 'time';

export function sortValue(t: TraceSummary, k: SortKey): string | number {
  switch (k) {
    case 'id': return t.Id;
    case 'method': return t.Http?.HttpMethod ?? '';
    case 'url': return t.Http?.HttpURL ?? '';
    case 'status': return t.Http?.HttpStatus ?? -1;
    case 'responsetime': return t.ResponseTime ?? -1;
    case 'duration': return t.Duration ?? -1;
    default: return t.StartTime ?? 0;
  }
}

export function sortTraces(list: TraceSummary[], k: SortKey, desc: boolean): TraceSummary[] {
  const keyed = list.map((t) => [sortValue(t, k), t] as const);
  keyed.sort((a, b) => {
    const x = a[0];
    const y = b[0];
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return desc ? -c : c;
  });
  return keyed.map((p) => p[1]);
}

export function pageOf<T>(list: T[], page: number, size: number): { items: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(list.length / size));
  const p = Math.min(Math.max(1, page), pages);
  return { items: list.slice((p - 1) * size, p * size), page: p, pages };
}

// Annotations of a summary as "key=value" strings.
export function annotationList(t: TraceSummary): string[] {
  const out: string[] = [];
  for (const [k, vals] of Object.entries(t.Annotations || {})) {
    for (const v of vals || []) {
      const a = v.AnnotationValue || {};
      out.push(`${k}=${fmtValue(a.StringValue ?? a.NumberValue ?? a.BooleanValue)}`);
    }
  }
  return out;
}

// Adds a condition to a filter expression, keeping the user's part intact.
export function andFilter(filter: string, cond: string): string {
  const f = filter.trim();
  if (!f) return cond;
  return `(${f}) AND ${cond}`;
}

// The group's filter joins the user's when a group is selected.
export function withGroup(filter: string, group: string): string {
  if (!group || group === 'Default') return filter;
  return andFilter(filter, `group.name = ${JSON.stringify(group)}`);
}

export function statusClass(t: TraceSummary): string {
  if (t.HasFault) return 'fault';
  if (t.HasThrottle) return 'throttle';
  if (t.HasError) return 'error';
  return 'ok';
}

// The filter condition a refiner row adds: the field equals the value.
export function refinerCondition(field: string, value: string | number | boolean): string {
  const v = typeof value === 'string' ? quote(value) : String(value);
  switch (field) {
    case 'service': return `service(${quote(String(value))})`;
    case 'rootcause': return `(rootcause.fault.service { name = ${quote(String(value))} } OR rootcause.error.service { name = ${quote(String(value))} } OR rootcause.responsetime.service { name = ${quote(String(value))} })`;
    default: return `${field} = ${v}`;
  }
}

// A trace id (X-Ray's 1-xxxxxxxx-xxxx… or a W3C 32-hex id) typed alone in
// the filter box, or undefined.
export function traceIdIn(text: string): string | undefined {
  const t = text.trim();
  if (/^1-[0-9a-f]{8}-[0-9a-f]{24}$/i.test(t)) return t.toLowerCase();
  if (/^[0-9a-f]{32}$/i.test(t)) return `1-${t.slice(0, 8)}-${t.slice(8)}`.toLowerCase();
  return undefined;
}
