import { describe, expect, it } from 'vitest';
import { absolute, isRelative, resolve } from './timerange';

describe('time ranges', () => {
  const now = 1_800_000_000;
  it('resolves relative ranges against now', () => {
    expect(resolve('15m', now)).toEqual({ start: now - 900, end: now });
    expect(resolve('3h', now)).toEqual({ start: now - 3 * 3600, end: now });
    expect(resolve('2d', now)).toEqual({ start: now - 2 * 86400, end: now });
  });
  it('keeps absolute ranges', () => {
    expect(resolve(absolute(100.2, 200.7), now)).toEqual({ start: 100, end: 201 });
  });
  it('falls back to the default on nonsense', () => {
    for (const bad of ['', 'x', '0m', '200-100', '<script>']) expect(resolve(bad, now)).toEqual({ start: now - 900, end: now });
  });
  it('tells relative from absolute', () => {
    expect(isRelative('5m')).toBe(true);
    expect(isRelative('1-2')).toBe(false);
  });
});
