import { describe, expect, it } from 'vitest';
import { bar, buildRows, documents, span, statusOf, ticks, visibleRows } from './tracetree';
import type { SegmentDoc } from './types';

const T = 1_800_000_000;
const docs: SegmentDoc[] = [
  // The callee's segment arrives first; it belongs under the caller's subsegment.
  { id: 'b0', name: 'api', parent_id: 'a1', start_time: T + 0.01, end_time: T + 0.08, fault: true },
  { id: 'a0', name: 'web', start_time: T, end_time: T + 0.1, subsegments: [
    { id: 'a1', name: 'api', namespace: 'remote', start_time: T + 0.005, end_time: T + 0.09, subsegments: [
      { id: 'a2', name: 'dns', start_time: T + 0.005, end_time: T + 0.006 },
    ] },
    { id: 'a3', name: 'DynamoDB', namespace: 'aws', start_time: T + 0.091, end_time: T + 0.095, throttle: true, error: true },
  ] },
  { id: 'i0', name: 'DynamoDB', inferred: true, parent_id: 'a3', start_time: T + 0.091, end_time: T + 0.095 },
  { id: 'c0', name: 'worker', start_time: T + 0.2, in_progress: true },
];

describe('buildRows', () => {
  const rows = buildRows(docs);
  it('nests segments under the subsegments that called them, depth first by start', () => {
    expect(rows.map((r) => `${'.'.repeat(r.depth)}${r.id}`)).toEqual(['a0', '.a1', '..a2', '..b0', '.a3', '..i0', 'c0']);
  });
  it('marks kinds and status', () => {
    const by = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(by.a0.kind).toBe('segment');
    expect(by.a1.kind).toBe('subsegment');
    expect(by.i0.kind).toBe('inferred');
    expect(by.b0.status).toBe('fault');
    expect(by.a3.status).toBe('throttle');
    expect(by.c0.status).toBe('pending');
    expect(by.a2.segment).toBe('web');
    expect(by.a2.root.id).toBe('a0');
  });
  it('gives unfinished work the latest end seen', () => {
    expect(rows.find((r) => r.id === 'c0')!.end).toBeCloseTo(T + 0.2);
  });
  it('survives cycles and dangling parents', () => {
    const r = buildRows([
      { id: 'x', name: 'x', parent_id: 'y', start_time: T, end_time: T + 1 },
      { id: 'y', name: 'y', parent_id: 'x', start_time: T, end_time: T + 1 },
      { id: 'z', name: 'z', parent_id: 'nope', start_time: T, end_time: T + 1 },
    ]);
    expect(r.map((x) => x.id).sort()).toEqual(['x', 'y', 'z']);
  });
});

describe('timeline helpers', () => {
  const rows = buildRows(docs);
  it('collapses descendants only', () => {
    expect(visibleRows(rows, new Set(['a1'])).map((r) => r.id)).toEqual(['a0', 'a1', 'a3', 'i0', 'c0']);
    expect(visibleRows(rows, new Set(['a0'])).map((r) => r.id)).toEqual(['a0', 'c0']);
    expect(visibleRows(rows, new Set())).toBe(rows);
  });
  it('positions bars in percent', () => {
    const t = { start: 0, end: 10 };
    expect(bar({ start: 2, end: 5 }, t)).toEqual({ left: 20, width: 30 });
    expect(bar({ start: 5, end: 5 }, t).width).toBeGreaterThan(0);
    expect(bar({ start: 9.99, end: 20 }, t).left + bar({ start: 9.99, end: 20 }, t).width).toBeLessThanOrEqual(100.0001);
  });
  it('spans and ticks', () => {
    expect(span(rows).start).toBe(T);
    expect(ticks(1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(0.0123, 4)).toEqual([0, 0.005, 0.01]);
    expect(ticks(0)).toEqual([0]);
  });
  it('status precedence: fault over throttle over error', () => {
    expect(statusOf({ fault: true, error: true })).toBe('fault');
    expect(statusOf({ throttle: true, error: true })).toBe('throttle');
    expect(statusOf({})).toBe('ok');
  });
  it('skips documents that are not JSON objects', () => {
    expect(documents({ Id: 't', Segments: [{ Id: '1', Document: '{"id":"1","name":"a","start_time":1}' }, { Id: '2', Document: 'nope' }, { Id: '3', Document: '[1]' }] })).toHaveLength(1);
  });
  // Its speed is measured in the browser by the end-to-end suite.
  it('builds 5,000 subsegments in start order', () => {
    const subs = Array.from({ length: 5000 }, (_, i) => ({ id: `s${i}`, name: `q${i}`, start_time: T + (5000 - i) / 1000, end_time: T + (5000 - i) / 1000 + 0.002 }));
    const r = buildRows([{ id: 'root', name: 'db', start_time: T, end_time: T + 6, subsegments: subs }]);
    expect(r).toHaveLength(5001);
    expect(r[1].id).toBe('s4999');
    expect(r[5000].id).toBe('s0');
  });
});
