import { describe, expect, it } from 'vitest';
import { annotationDiff, rootCauseDiff, timeSeries } from './compare';
import { andFilter, annotationList, pageOf, sortTraces, withGroup } from './traceslist';
import type { TraceSummary } from './types';

const ann = (k: string, v: string | number | boolean) => ({ [k]: [{ AnnotationValue: typeof v === 'string' ? { StringValue: v } : typeof v === 'number' ? { NumberValue: v } : { BooleanValue: v } }] });
const fault = (svc: string, exc: string) => [{ Services: [{ Name: svc, EntityPath: [{ Name: svc, Exceptions: [{ Name: exc }] }] }] }];

const A: TraceSummary[] = [
  { Id: 'a1', StartTime: 10, ResponseTime: 0.1, Annotations: ann('tier', 'gold') },
  { Id: 'a2', StartTime: 20, ResponseTime: 0.3, HasError: true, Annotations: ann('tier', 'bronze') },
];
const B: TraceSummary[] = [
  { Id: 'b1', StartTime: 15, ResponseTime: 2, HasFault: true, Annotations: ann('tier', 'gold'), FaultRootCauses: fault('payments', 'Timeout') },
  { Id: 'b2', StartTime: 25, ResponseTime: 3, HasFault: true, Annotations: { ...ann('tier', 'gold'), ...ann('retry', true) }, FaultRootCauses: fault('payments', 'Timeout') },
];

describe('A vs B', () => {
  it('annotation value shares and their difference, biggest first', () => {
    const d = annotationDiff(A, B);
    expect(Math.abs(d[0].diff)).toBe(0.5);
    expect(d.find((x) => x.key === 'tier = "gold"')).toMatchObject({ a: 0.5, b: 1, diff: 0.5, countA: 1, countB: 2 });
    expect(d.find((x) => x.key === 'retry = true')).toMatchObject({ a: 0, b: 0.5 });
    expect(d.find((x) => x.key === 'tier = "bronze"')).toMatchObject({ a: 0.5, b: 0, diff: -0.5 });
  });
  it('root causes', () => {
    expect(rootCauseDiff(A, B)).toEqual([{ key: 'fault: payments (Timeout)', a: 0, b: 1, diff: 1, countA: 0, countB: 2 }]);
  });
  it('time series buckets by outcome', () => {
    const s = timeSeries([...A, ...B], 0, 40, 4);
    expect(s.t).toEqual([0, 10, 20, 30]);
    expect(s.ok).toEqual([0, 1, 0, 0]);
    expect(s.fault).toEqual([0, 1, 1, 0]);
    expect(s.error).toEqual([0, 0, 1, 0]);
    expect(s.avg[0]).toBeNull();
    expect(s.avg[1]).toBeCloseTo(1.05);
  });
});

describe('traces table', () => {
  it('sorts by any column, both ways', () => {
    const list = [...A, ...B];
    expect(sortTraces(list, 'responsetime', true).map((t) => t.Id)).toEqual(['b2', 'b1', 'a2', 'a1']);
    expect(sortTraces(list, 'time', false).map((t) => t.Id)).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect(sortTraces(list, 'id', false).map((t) => t.Id)).toEqual(['a1', 'a2', 'b1', 'b2']);
  });
  it('pages, clamping the page number', () => {
    const xs = Array.from({ length: 120 }, (_, i) => i);
    expect(pageOf(xs, 3, 50)).toEqual({ items: xs.slice(100), page: 3, pages: 3 });
    expect(pageOf(xs, 99, 50).page).toBe(3);
    expect(pageOf([], 1, 50)).toEqual({ items: [], page: 1, pages: 1 });
  });
  it('lists annotations and joins filters', () => {
    expect(annotationList(B[1])).toEqual(['tier=gold', 'retry=true']);
    expect(andFilter('fault OR error', 'responsetime > 1')).toBe('(fault OR error) AND responsetime > 1');
    expect(andFilter('  ', 'ok')).toBe('ok');
    expect(withGroup('ok', 'slow')).toBe('(ok) AND group.name = "slow"');
    expect(withGroup('ok', 'Default')).toBe('ok');
  });
});
