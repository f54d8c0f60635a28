// Analytics: response-time distribution and time series for filter A, and
// side by side with filter B: what differs per annotation value and per
// root cause.
import { useMemo } from 'preact/hooks';
import { traceAggregates, type Aggregates, type Info } from '../api';
import { absolute, resolve } from '../timerange';
import { setParams, useLoad } from '../state';
import { Empty, ErrorBox, FilterBox, Spinner, TimeRangePicker, filterError, noTraces } from '../components/Common';
import { COLORS, Histogram, TimeChart } from '../components/Chart';
import { annotationCounts, breakdownDiff, rootCauseCounts, seriesOf, type Diff } from '../compare';
import { binsOf } from './TracesPage';
import { fmtDuration, fmtPercent, fmtTime } from '../format';
import { link } from '../route';

export function AnalyticsPage(props: { params: Record<string, string>; info: Info }) {
  const p = props.params;
  const range = p.range || '15m';
  const fa = p.a || '';
  const fb = p.b || '';
  const win = useMemo(() => resolve(range), [range, p.t]);
  const comparing = !!fb;
  // Both sides over the whole range, every matching trace (TraceAggregates).
  const opts = { limit: 1, topN: 30, timeBuckets: 60 };
  const A = useLoad((s) => traceAggregates(win, fa, opts, s), [win.start, win.end, fa]);
  const B = useLoad((s) => (fb ? traceAggregates(win, fb, opts, s) : Promise.resolve(undefined)), [win.start, win.end, fb]);
  // Compared, both distributions are drawn on the same buckets.
  const hi = Math.max(A.data?.ResponseTime?.Max ?? 0, B.data?.ResponseTime?.Max ?? 0);
  const H = useLoad(async (s) => {
    if (!comparing || !(hi > 0) || !A.data || !B.data) return undefined;
    const o = { limit: 1, topN: 1, histogram: [0, hi] as [number, number] };
    return Promise.all([traceAggregates(win, fa, o, s), traceAggregates(win, fb, o, s)]);
  }, [comparing, hi, A.data, B.data]);
  const a = A.data;
  const bins = useMemo(() => (comparing && H.data ? binsOf(H.data[0]) : binsOf(a)), [a, H.data, comparing]);
  const series = useMemo(() => {
    if (!comparing || !H.data) return undefined;
    // Shares, not counts: A and B differ in size.
    const share = (x: Aggregates) => x.Histogram.map((b) => (x.TracesMatched ? b.Count / x.TracesMatched : 0));
    return [
      { label: 'A', counts: share(H.data[0]), color: COLORS.a },
      { label: 'B', counts: share(H.data[1]), color: COLORS.b },
    ];
  }, [H.data, comparing]);
  const ts = useMemo(() => seriesOf(a), [a]);
  const lines = useMemo(() => [
    { label: 'ok', values: ts.ok, color: COLORS.ok, bars: true },
    { label: 'error', values: ts.error, color: COLORS.error, bars: true },
    { label: 'throttle', values: ts.throttle, color: COLORS.throttle, bars: true },
    { label: 'fault', values: ts.fault, color: COLORS.fault, bars: true },
    { label: 'avg response', values: ts.avg, color: COLORS.avg, scale: 's' },
  ], [ts]);
  return (
    <div class="page analytics-page">
      <div class="toolbar">
        <h1>Analytics</h1>
        <TimeRangePicker value={range} onChange={(v) => setParams({ range: v })} />
        {(A.loading || B.loading) && <Spinner />}
      </div>
      <div class="ab">
        <label class="a">A</label>
        <FilterBox testid="filter-a" value={fa} error={filterError(A.error, fa)} placeholder="filter A (empty = all traces)" onSubmit={(v) => setParams({ a: v })} />
      </div>
      <div class="ab">
        <label class="b">B</label>
        <FilterBox testid="filter-b" value={fb} error={filterError(B.error, fb)} placeholder='filter B to compare, e.g. fault or annotation.tier = "gold"' onSubmit={(v) => setParams({ b: v })} />
      </div>
      {A.error && !filterError(A.error, fa) && <ErrorBox error={A.error} what="TraceAggregates (A)" stale={!!a} />}
      {B.error && !filterError(B.error, fb) && <ErrorBox error={B.error} what="TraceAggregates (B)" stale={!!B.data} />}
      {a && a.TracesMatched === 0 && !fa && <Empty>{a.NewestTraceTime > 0 ? `No traces in this time range. The newest trace started at ${fmtTime(a.NewestTraceTime, false)}.` : noTraces(props.info.udp)}</Empty>}
      {a && (a.TracesMatched > 0 || fa) && (
        <>
          <div class="stats-row" data-testid="analytics-stats">
            <Stat name="A" agg={a} href={link('traces', { range, filter: fa })} />
            {comparing && B.data && <Stat name="B" agg={B.data} href={link('traces', { range, filter: fb })} />}
          </div>
          <section class="card">
            <h2>Response time distribution{comparing ? ' (share of each set)' : ''}</h2>
            <Histogram bins={bins} series={series} percent={comparing} testid="analytics-histogram"
              onSelect={(lo, hi2) => setParams({ a: narrow(fa, lo, hi2) })} />
          </section>
          <section class="card">
            <h2>Traces over time (A)</h2>
            <TimeChart t={ts.t} lines={lines} testid="analytics-timeseries"
              onSelect={(lo, hi2) => setParams({ range: absolute(lo, hi2) })} />
          </section>
          {comparing && B.data && (
            <div class="split2">
              <DiffTable title="Annotation values" rows={breakdownDiff(a, B.data, annotationCounts)} testid="diff-annotations" />
              <DiffTable title="Root cause services" rows={breakdownDiff(a, B.data, rootCauseCounts)} testid="diff-rootcauses" />
            </div>
          )}
          {!comparing && <p class="hint">Enter a filter B to compare two sets of traces side by side.</p>}
        </>
      )}
    </div>
  );
}

function narrow(f: string, lo: number, hi: number) {
  const c = `responsetime >= ${Math.round(lo * 1e6) / 1e6} AND responsetime <= ${Math.round(hi * 1e6) / 1e6}`;
  return f.trim() ? `(${f.trim()}) AND ${c}` : c;
}

function Stat(props: { name: string; agg: Aggregates; href: string }) {
  const x = props.agg;
  const n = x.TracesMatched;
  const faults = x.Faults;
  const errors = x.Errors;
  const rt = x.ResponseTime;
  return (
    <div class={`stat ${props.name.toLowerCase()}`} data-testid={`stat-${props.name}`}>
      <b>{props.name}</b>
      <span><a href={props.href}>{n} traces</a></span>
      <span>fault {fmtPercent(n ? faults / n : undefined)}</span>
      <span>error {fmtPercent(n ? errors / n : undefined)}</span>
      <span>p50 {fmtDuration(rt?.P50)}</span>
      <span>p90 {fmtDuration(rt?.P90)}</span>
      <span>p99 {fmtDuration(rt?.P99)}</span>
    </div>
  );
}

function DiffTable(props: { title: string; rows: Diff[]; testid: string }) {
  return (
    <section class="card" data-testid={props.testid}>
      <h2>{props.title}: A vs B</h2>
      {props.rows.length === 0 ? <p class="hint">nothing to compare</p> : (
        <table class="diff">
          <thead><tr><th>value</th><th>A</th><th>B</th><th>B − A</th></tr></thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <td class="mono clip" title={r.key}>{r.key}</td>
                <td class="num" title={`${r.countA} traces`}>{fmtPercent(r.a)}</td>
                <td class="num" title={`${r.countB} traces`}>{fmtPercent(r.b)}</td>
                <td class="num"><span class={r.diff > 0 ? 'up' : r.diff < 0 ? 'down' : ''}>{r.diff > 0 ? '+' : ''}{(r.diff * 100).toFixed(1)} pt</span>
                  <span class="bar" style={{ width: `${Math.min(100, Math.abs(r.diff) * 100)}px` }} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
