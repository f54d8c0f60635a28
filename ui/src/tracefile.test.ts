import { describe, expect, it } from 'vitest';
import { parseTraceFile, traceFile } from './tracefile';

const doc = { trace_id: '1-5f84c7a1-0f2e3b2a1c4d5e6f7a8b9c0d', id: 'a1', name: 'api', start_time: 1, end_time: 2 };
const trace = { Id: doc.trace_id, Duration: 1, Segments: [{ Id: 'a1', Document: JSON.stringify(doc) }] };

describe('trace files', () => {
  it('round-trips a download', () => {
    expect(parseTraceFile(traceFile(trace))).toEqual(trace);
  });
  it('opens a BatchGetTraces answer and bare documents', () => {
    expect(parseTraceFile(JSON.stringify({ Traces: [trace] }))).toEqual(trace);
    const t = parseTraceFile(JSON.stringify([doc]));
    expect(t.Id).toBe(doc.trace_id);
    expect(JSON.parse(t.Segments![0].Document)).toEqual(doc);
  });
  it('says what is wrong with a bad file', () => {
    expect(() => parseTraceFile('{')).toThrow(/not JSON/);
    expect(() => parseTraceFile('{"Traces":[]}')).toThrow(/no traces/);
    expect(() => parseTraceFile('{"x":1}')).toThrow(/expected a trace/);
  });
});
