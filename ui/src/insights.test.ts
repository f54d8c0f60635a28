import { describe, expect, it } from 'vitest';
import { activeRoots, impactMap, serviceKey } from './insights';
import type { Service } from './types';

describe('insights', () => {
  it('draws the impact graph with the group graph numbers, edges only between its services', () => {
    const graph: Service[] = [
      { ReferenceId: 0, Name: 'web', Type: 'client', Edges: [{ ReferenceId: 1 }] },
      { ReferenceId: 1, Name: 'web', Type: 'AWS::EC2::Instance', Edges: [{ ReferenceId: 2 }, { ReferenceId: 3 }], SummaryStatistics: { TotalCount: 10 } },
      { ReferenceId: 2, Name: 'pay', Type: 'AWS::Lambda::Function', Edges: [] },
      { ReferenceId: 3, Name: 'catalog', Edges: [] },
    ];
    const out = impactMap(graph, [{ ReferenceId: 7, Name: 'web', Type: 'AWS::EC2::Instance' }, { ReferenceId: 8, Name: 'pay', Type: 'AWS::Lambda::Function' }]);
    expect(out.map((s) => [s.ReferenceId, s.Name])).toEqual([[0, 'web'], [1, 'pay']]);
    expect(out[0].Edges).toEqual([{ ReferenceId: 1 }]);
    expect(out[0].SummaryStatistics?.TotalCount).toBe(10);
  });
  it('keys active root causes by name, type and account', () => {
    const m = activeRoots([
      { InsightId: 'a', State: 'ACTIVE', RootCauseServiceId: { Name: 'pay', Type: 'AWS::Lambda::Function' } } as any,
      { InsightId: 'b', State: 'CLOSED', RootCauseServiceId: { Name: 'web' } } as any,
    ]);
    expect([...m.values()]).toEqual(['a']);
    expect(m.get(serviceKey({ Name: 'pay', Type: 'AWS::Lambda::Function' }))).toBe('a');
  });
});
