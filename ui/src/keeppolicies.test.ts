import { describe, expect, it } from 'vitest';
import { move, nextName, refusal } from './keeppolicies';

describe('keep policies', () => {
  it('moves a policy within the list and not beyond its ends', () => {
    expect(move(['a', 'b', 'c'], 2, -1)).toEqual(['a', 'c', 'b']);
    expect(move(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
    const l = ['a', 'b'];
    expect(move(l, 0, -1)).toBe(l);
    expect(move(l, 1, 1)).toBe(l);
  });
  it('finds the policy and field a refusal names', () => {
    expect(refusal("Policies[1].FilterExpression: expected a value after '>' but found the end of the expression at column 15"))
      .toEqual({ index: 1, field: 'FilterExpression', text: "expected a value after '>' but found the end of the expression at column 15" });
    expect(refusal('DefaultKeepRate: 2 is not a rate between 0 and 1')).toEqual({ field: 'DefaultKeepRate', text: '2 is not a rate between 0 and 1' });
    expect(refusal('something else')).toEqual({ text: 'something else' });
  });
  it('names a new policy apart from the others', () => {
    expect(nextName([{ Name: 'policy-1', FilterExpression: 'fault', KeepRate: 1 }])).toBe('policy-2');
  });
});
