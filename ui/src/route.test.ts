import { describe, expect, it } from 'vitest';
import { format, link, parse } from './route';

describe('routes', () => {
  it('round-trips page, id and params', () => {
    const r = { page: 'traces', id: '1-5f84c7a1-1a2b3c4d5e6f7a8b9c0d1e2f', params: { range: '1h', filter: 'service("a b") { fault } AND http.url CONTAINS "&x=1"' } };
    expect(parse(format(r))).toEqual(r);
  });
  it('defaults to the map', () => {
    expect(parse('')).toEqual({ page: 'map', id: undefined, params: {} });
    expect(parse('#/')).toEqual({ page: 'map', id: undefined, params: {} });
  });
  it('drops empty params from links', () => {
    expect(link('traces', { range: '15m', group: '', filter: undefined })).toBe('#/traces?range=15m');
  });
  it('deep links a trace', () => {
    expect(parse('#/traces/1-00000000-000000000000000000000001')).toMatchObject({ page: 'traces', id: '1-00000000-000000000000000000000001' });
  });
});
