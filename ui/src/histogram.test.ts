import { describe, expect, it } from 'vitest';
import { bin, binEntries, entryPercentile, niceStep, percentile } from './histogram';

describe('histograms', () => {
  it('picks 1-2-5 steps', () => {
    expect(niceStep(0.0031)).toBe(0.005);
    expect(niceStep(0.01)).toBe(0.01);
    expect(niceStep(0.15)).toBeCloseTo(0.2);
    expect(niceStep(7)).toBe(10);
  });
  it('bins every value once', () => {
    const vals = [0, 0.01, 0.02, 0.5, 1, 1, 2];
    const b = bin(vals, 10);
    expect(b.counts.reduce((a, c) => a + c, 0)).toBe(vals.length);
    expect(b.edges.length).toBe(b.counts.length + 1);
    expect(b.edges[b.edges.length - 1]).toBeGreaterThanOrEqual(2);
  });
  it('ignores bad values', () => {
    expect(bin([NaN, -1, Infinity, 0.1]).counts.reduce((a, c) => a + c, 0)).toBe(1);
    expect(bin([]).counts.length).toBeGreaterThan(0);
  });
  it('rebins server entries by count', () => {
    const b = binEntries([{ Value: 0.1, Count: 3 }, { Value: 0.9, Count: 2 }], 10);
    expect(b.counts.reduce((a, c) => a + c, 0)).toBe(5);
  });
  it('percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 0.99)).toBe(5);
    expect(percentile([], 0.5)).toBeUndefined();
    expect(entryPercentile([{ Value: 1, Count: 9 }, { Value: 10, Count: 1 }], 0.5)).toBe(1);
    expect(entryPercentile([{ Value: 1, Count: 9 }, { Value: 10, Count: 1 }], 0.95)).toBe(10);
  });
});

import { windowRange } from './components/windowed';
describe('windowRange', () => {
  it('covers the viewport plus overscan, clamped', () => {
    expect(windowRange(1000, 28, 0, 900, 10)).toEqual({ first: 0, last: 43 });
    expect(windowRange(1000, 28, -2800, 900, 10)).toEqual({ first: 90, last: 143 });
    expect(windowRange(1000, 28, -100000, 900, 10)).toEqual({ first: 1000, last: 1000 });
    expect(windowRange(5, 28, 300, 900, 10)).toEqual({ first: 0, last: 5 });
  });
});

import { stack } from './components/Chart';
describe('stacked bars', () => {
  it('stacks bar series, first on top; lines stay as they are', () => {
    const out = stack([
      { label: 'ok', values: [1, 2], color: '', bars: true },
      { label: 'fault', values: [3, null], color: '', bars: true },
      { label: 'avg', values: [0.5, null], color: '', scale: 's' },
    ]);
    expect(out).toEqual([[4, 2], [3, 0], [0.5, null]]);
  });
});
