import { describe, expect, it } from 'vitest';
import { fmtAgo, fmtCount, fmtDuration, fmtPercent, fmtRate, fmtTime, quote } from './format';

describe('fmtDuration', () => {
  it.each([
    [0, '0ms'], [0.0000005, '1µs'], [0.00085, '850µs'], [0.0012345, '1.23ms'], [0.0123, '12.3ms'], [0.25, '250ms'],
    [1.2449, '1.24s'], [12.34, '12.3s'], [125, '2m 05s'], [7260, '2h 01m'], [-0.5, '-500ms'],
  ])('%s s → %s', (s, want) => expect(fmtDuration(s)).toBe(want));
  it('shows a dash for missing values', () => {
    expect(fmtDuration(undefined)).toBe('—');
    expect(fmtDuration(NaN)).toBe('—');
  });
});

describe('numbers', () => {
  it('counts', () => {
    expect(fmtCount(999)).toBe('999');
    expect(fmtCount(1234)).toBe('1.2k');
    expect(fmtCount(56789)).toBe('57k');
    expect(fmtCount(2_500_000)).toBe('2.5M');
  });
  it('percent and rates', () => {
    expect(fmtPercent(0.1234)).toBe('12.3%');
    expect(fmtPercent(undefined)).toBe('—');
    expect(fmtRate(30, 60)).toBe('30/min');
    expect(fmtRate(1, 600)).toBe('0.10/min');
    expect(fmtRate(1, 0)).toBe('—');
  });
  it('times', () => {
    const t = new Date(2026, 0, 2, 3, 4, 5, 67).getTime() / 1000;
    const off = -new Date(t * 1000).getTimezoneOffset();
    const zone = `${off < 0 ? '-' : '+'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
    expect(fmtTime(t, true, 'local')).toBe(`2026-01-02 03:04:05.067 ${zone}`);
    expect(fmtTime(t, false, 'local')).toBe(`2026-01-02 03:04:05 ${zone}`);
    expect(fmtTime(Date.UTC(2026, 0, 2, 3, 4, 5, 67) / 1000, true, 'utc')).toBe('2026-01-02 03:04:05.067 UTC');
    expect(fmtTime(undefined)).toBe('—');
    expect(fmtAgo(100, 190)).toBe('1m ago');
    expect(fmtAgo(100, 105)).toBe('5s ago');
  });
  it('quotes strings for filter expressions', () => {
    expect(quote('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
  });
});
