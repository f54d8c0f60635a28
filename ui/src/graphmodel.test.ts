import { describe, expect, it } from 'vitest';
import { edgeFilter, kindOf, model, nodeFilter, nodeSize, shares, withResponseTime } from './graphmodel';
import type { Service } from './types';

// The worked example of the X-Ray developer guide (spec §6.4), trimmed.
const services: Service[] = [
  { ReferenceId: 0, Name: 'xray-sample.elasticbeanstalk.com', Type: 'client', State: 'unknown', Edges: [
    { ReferenceId: 2, SummaryStatistics: { OkCount: 3, ErrorStatistics: { ThrottleCount: 0, OtherCount: 1, TotalCount: 1 }, FaultStatistics: { OtherCount: 0, TotalCount: 0 }, TotalCount: 4, TotalResponseTime: 0.273 } },
  ] },
  { ReferenceId: 2, Name: 'xray-sample.elasticbeanstalk.com', Root: true, Type: 'AWS::EC2::Instance', State: 'active',
    SummaryStatistics: { OkCount: 3, ErrorStatistics: { ThrottleCount: 0, OtherCount: 1, TotalCount: 1 }, FaultStatistics: { OtherCount: 0, TotalCount: 0 }, TotalCount: 4, TotalResponseTime: 0.273 },
    Edges: [{ ReferenceId: 1, SummaryStatistics: { OkCount: 2, TotalCount: 2, TotalResponseTime: 0.12 } }, { ReferenceId: 99 }] },
  { ReferenceId: 1, Name: 'awseb-e-dj-SignupTable', Type: 'AWS::DynamoDB::Table', State: 'unknown' },
  { ReferenceId: 3, Name: 'SNS', Type: 'AWS::SNS', State: 'unknown' },
  { ReferenceId: 4, Name: 'api.example.com', Type: 'remote', State: 'unknown' },
];

describe('graph model', () => {
  it('kinds', () => {
    expect(services.map(kindOf)).toEqual(['client', 'service', 'aws', 'aws', 'remote']);
    expect(kindOf({ ReferenceId: 9, Type: 'AWS::Lambda::Function', State: 'active' })).toBe('service');
  });
  it('status shares', () => {
    expect(shares(services[1].SummaryStatistics)).toEqual({ ok: 3, error: 1, throttle: 0, fault: 0, total: 4 });
    expect(shares(undefined).total).toBe(0);
  });
  it('nodes, edges, client totals; edges to unknown nodes are dropped', () => {
    const m = model(services, 60);
    expect(m.nodes).toHaveLength(5);
    expect(m.nodes[0].shares.total).toBe(4); // the client sums its edges
    expect(m.edges.map((e) => e.id)).toEqual(['e0-2', 'e2-1']);
    expect(m.edges[0].label).toBe('68.3ms · 4.00/min');
    expect(m.nodes[1].label).toContain('AWS::EC2::Instance');
  });
  it('sizes grow with volume, bounded', () => {
    expect(nodeSize(0)).toBeLessThan(nodeSize(100));
    expect(nodeSize(1e12)).toBe(90);
  });
  it('filters for a node, an edge and a response-time range', () => {
    expect(nodeFilter(services[2])).toBe('service(id(name: "awseb-e-dj-SignupTable", type: "AWS::DynamoDB::Table"))');
    expect(nodeFilter(services[0])).toBe('');
    expect(edgeFilter(services[1], services[2])).toBe('edge("xray-sample.elasticbeanstalk.com", "awseb-e-dj-SignupTable")');
    expect(edgeFilter(services[0], services[1])).toBe(nodeFilter(services[1]));
    expect(withResponseTime('service("a")', 0.1, 0.25)).toBe('service("a") { responsetime >= 0.1 AND responsetime <= 0.25 }');
    expect(withResponseTime('', 1, 2)).toBe('responsetime >= 1 AND responsetime <= 2');
    expect(nodeFilter({ ReferenceId: 5, Name: 'we"ird' })).toBe('service("we\\"ird")');
  });
});

describe('one trace map', () => {
  it('shows no rates without a window', () => {
    const m = model(services, 0);
    expect(m.edges[0].label).toBe('68.3ms');
    expect(m.nodes[1].label).not.toContain('/min');
  });
});

import { edgeSelector, nodeSelector, statSeries } from './graphmodel';
describe('time series', () => {
  it('selectors', () => {
    expect(nodeSelector(services[2])).toBe('id(name: "awseb-e-dj-SignupTable", type: "AWS::DynamoDB::Table")');
    expect(nodeSelector({ ReferenceId: 1, Name: 'x' })).toBe('service("x")');
    expect(edgeSelector(services[1], services[2])).toBe('edge("xray-sample.elasticbeanstalk.com", "awseb-e-dj-SignupTable")');
  });
  it('fills missing periods with zeros', () => {
    const s = statSeries([{ Timestamp: 120, ServiceSummaryStatistics: { OkCount: 2, FaultStatistics: { TotalCount: 1 }, TotalCount: 3, TotalResponseTime: 0.3 } }], 60, 240, 60);
    expect(s.t).toEqual([60, 120, 180]);
    expect(s.ok).toEqual([0, 2, 0]);
    expect(s.fault).toEqual([0, 1, 0]);
    expect(s.avg[0]).toBeNull();
    expect(s.avg[1]).toBeCloseTo(0.1);
  });
});
