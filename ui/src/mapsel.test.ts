import { describe, expect, it } from 'vitest';
import { formatSel, parseSel } from './mapsel';
import type { Service } from './types';

const svc = (ReferenceId: number, Name: string, Type?: string) => ({ ReferenceId, Name, Type } as Service);

describe('map deep links', () => {
  it('name a node, and still find it when ReferenceIds change', () => {
    const before = [svc(0, 'client', 'client'), svc(1, 'api', 'AWS::EC2::Instance'), svc(2, 'db', 'Database::SQL')];
    const link = formatSel({ kind: 'node', ref: 1 }, before);
    expect(link).toBe('node:api');
    const after = [svc(0, 'new-svc'), ...before.map((s) => ({ ...s, ReferenceId: s.ReferenceId + 5 }))];
    expect(parseSel(link, after)).toEqual({ kind: 'node', ref: 6 });
  });
  it('names edges and keeps types apart for a shared name', () => {
    const list = [svc(1, 'orders', 'AWS::DynamoDB::Table'), svc(2, 'orders', 'AWS::EC2::Instance'), svc(3, 'web')];
    const link = formatSel({ kind: 'edge', from: 3, to: 1 }, list);
    expect(link).toBe('edge:web -> orders::AWS::DynamoDB::Table');
    expect(parseSel(link, list)).toEqual({ kind: 'edge', from: 3, to: 1 });
    expect(parseSel('node:missing', list)).toBeUndefined();
    expect(parseSel('n1', list)).toBeUndefined();
  });
});
