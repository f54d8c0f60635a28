import { describe, expect, it } from 'vitest';
import { criticalPath } from './criticalpath';
import { buildRows } from './tracetree';
import type { SegmentDoc } from './types';

// A trace from [id, start, end, children] tuples.
type T = [string, number, number, T[]?];
const doc = ([id, start_time, end_time, kids]: T): SegmentDoc =>
  ({ id, name: id, start_time, end_time, subsegments: (kids || []).map(doc) } as SegmentDoc);
const path = (t: T) => criticalPath(buildRows([doc(t)])).sort();

describe('critical path', () => {
  it('takes every step of sequential work', () => {
    expect(path(['root', 0, 10, [['a', 1, 4], ['b', 5, 9]]])).toEqual(['a', 'b', 'root']);
  });
  it('skips parallel work hidden behind a longer call', () => {
    expect(path(['root', 0, 10, [['a', 1, 9], ['b', 1, 3]]])).toEqual(['a', 'root']);
  });
  it('descends into the child that was waited on', () => {
    expect(path(['root', 0, 10, [['a', 1, 9, [['a1', 2, 8], ['a2', 2, 3]]], ['b', 1, 2]]])).toEqual(['a', 'a1', 'root']);
  });
  it('leaves out work the parent did not wait for', () => {
    expect(path(['root', 0, 5, [['async', 4, 20]]])).toEqual(['root']);
  });
  it('counts the earlier of two overlapping calls up to where the later started', () => {
    expect(path(['root', 0, 10, [['a', 1, 6], ['b', 5, 9]]])).toEqual(['a', 'b', 'root']);
  });
  it('finds the waited-on call among many fast ones', () => {
    const kids: T[] = Array.from({ length: 20 }, (_, i) => [`fast${i}`, 1, 1.5] as T);
    kids.push(['slow', 1, 9.5], ['tail', 9.6, 9.9]);
    expect(path(['root', 0, 10, kids])).toEqual(['root', 'slow', 'tail']);
  });
  it('is empty for no rows', () => {
    expect(criticalPath([])).toEqual([]);
  });
});
