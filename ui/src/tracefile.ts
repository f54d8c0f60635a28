// Traces as files: the download is BatchGetTraces' Trace shape, and an
// import accepts that, a BatchGetTraces answer, or a list of segment
// documents (objects or JSON strings), so traces from the AWS CLI open too.
import type { Trace } from './types';

export function traceFile(t: Trace): string {
  return JSON.stringify(t, null, 2);
}

export function parseTraceFile(text: string): Trace {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw new Error(`the file is not JSON: ${(e as Error).message}`); }
  const o = v as any;
  if (o && Array.isArray(o.Traces)) {
    if (!o.Traces.length) throw new Error('the file holds no traces');
    return parseTraceFile(JSON.stringify(o.Traces[0]));
  }
  if (o && typeof o === 'object' && !Array.isArray(o) && Array.isArray(o.Segments)) {
    const segs = o.Segments.filter((s: any) => s && typeof s.Document === 'string');
    if (!segs.length) throw new Error('the trace has no segment documents');
    return { Id: String(o.Id ?? idOf(segs.map((s: any) => s.Document))), Duration: o.Duration, Segments: segs.map((s: any) => ({ Id: String(s.Id ?? ''), Document: s.Document })) };
  }
  const docs = Array.isArray(o) ? o : o && typeof o === 'object' && o.trace_id ? [o] : undefined;
  if (!docs) throw new Error('expected a trace (Id and Segments), a BatchGetTraces answer or segment documents');
  const strs = docs.map((d: unknown) => (typeof d === 'string' ? d : JSON.stringify(d)));
  return { Id: idOf(strs), Segments: strs.map((d: string, i: number) => ({ Id: String(safe(d)?.id ?? i), Document: d })) };
}

function safe(s: string): any {
  try { return JSON.parse(s); } catch { return undefined; }
}

function idOf(docs: string[]): string {
  for (const d of docs) {
    const id = safe(d)?.trace_id;
    if (typeof id === 'string') return id;
  }
  return 'imported';
}
