import { describe, expect, it } from 'vitest';
import { refinerCondition, traceIdIn } from './traceslist';
import { binsOf } from './pages/TracesPage';

describe('refiners', () => {
  it('writes the condition each refiner adds', () => {
    expect(refinerCondition('http.url', 'https://x/"q"')).toBe('http.url = "https://x/\\"q\\""');
    expect(refinerCondition('http.status', 500)).toBe('http.status = 500');
    expect(refinerCondition('annotation.ok', true)).toBe('annotation.ok = true');
    expect(refinerCondition('service', 'api')).toBe('service("api")');
    expect(refinerCondition('rootcause', 'db')).toMatch(/^\(rootcause\.fault\.service \{ name = "db" \} OR .* \}\)$/);
  });
  it('recognises a trace id typed into the filter box', () => {
    expect(traceIdIn(' 1-5f84c7a1-0f2e3b2a1c4d5e6f7a8b9c0d ')).toBe('1-5f84c7a1-0f2e3b2a1c4d5e6f7a8b9c0d');
    expect(traceIdIn('5F84C7A10F2E3B2A1C4D5E6F7A8B9C0D')).toBe('1-5f84c7a1-0f2e3b2a1c4d5e6f7a8b9c0d');
    expect(traceIdIn('responsetime > 1')).toBeUndefined();
    expect(traceIdIn('1-5f84c7a1-0f2e')).toBeUndefined();
  });
  it('turns server buckets into chart bins', () => {
    const b = binsOf({ Histogram: [{ Lower: 0.1, Upper: 0.2, Count: 3 }, { Lower: 0.2, Upper: 0.3, Count: 1 }] } as any);
    expect(b).toEqual({ edges: [0.1, 0.2, 0.3], counts: [3, 1] });
    expect(binsOf({ Histogram: [{ Lower: 2, Upper: 2, Count: 5 }] } as any).counts).toEqual([5]);
  });
});
