import { describe, expect, it } from 'vitest';
import { compareTraces } from './tracecompare';
import { buildRows } from './tracetree';
import type { SegmentDoc } from './types';

type T = [string, number, number, T[]?];
const rows = (t: T) => {
  let n = 0;
  const doc = ([name, start_time, end_time, kids]: T): SegmentDoc =>
    ({ id: `${name}-${n++}`, name, start_time, end_time, subsegments: (kids || []).map(doc) } as SegmentDoc);
  return buildRows([doc(t)]);
};

describe('compare two traces', () => {
  it('matches spans by path and reports time and structure differences', () => {
    const a = rows(['api', 100, 101, [['db', 100.1, 100.5], ['cache', 100.5, 100.6]]]);
    const b = rows(['api', 200, 202, [['db', 200.1, 201.6], ['db', 201.6, 201.7], ['queue', 201.7, 201.9]]]);
    const d = compareTraces(a, b);
    const by = new Map(d.map((x) => [x.key, x]));
    expect(by.get('api')!.delta).toBeCloseTo(1);
    expect(by.get('api › db')!.delta).toBeCloseTo(1.1);
    expect(by.get('api › db')!.b!.start).toBeCloseTo(0.1);
    expect(by.get('api › cache')!.b).toBeUndefined();
    expect(by.get('api › db #2')!.a).toBeUndefined();
    expect(by.get('api › queue')!.a).toBeUndefined();
    expect(d.map((x) => x.key)).toEqual(['api', 'api › db', 'api › cache', 'api › db #2', 'api › queue']);
  });
  it('finds no difference between a trace and itself', () => {
    const a = rows(['api', 1, 2, [['db', 1.1, 1.5]]]);
    expect(compareTraces(a, a).every((x) => x.delta === 0)).toBe(true);
  });
});
