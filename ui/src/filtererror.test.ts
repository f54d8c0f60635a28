import { describe, expect, it } from 'vitest';
import { errorPosition } from './filtererror';

describe('errorPosition', () => {
  const f = 'service("a") { fault AND }';
  it('reads the server\'s 1-based column', () => {
    expect(errorPosition('expected a filter after AND but found } at column 26', f)).toBe(25);
  });
  it('uses the last column named', () => {
    expect(errorPosition("expected ')' to close the '(' at column 8 but found end at column 27", f)).toBe(26);
  });
  it('reads 0-based offsets', () => {
    expect(errorPosition('unexpected token at offset 3', f)).toBe(3);
  });
  it('clamps and gives up cleanly', () => {
    expect(errorPosition('bad at column 999', 'abc')).toBe(3);
    expect(errorPosition('something is wrong', 'abc')).toBeUndefined();
  });
});
