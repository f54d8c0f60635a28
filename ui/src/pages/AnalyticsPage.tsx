// Analytics: response-time distribution and time series for filter A, and
// side by side with filter B: what differs per annotation value and per
// root cause.
import { useMemo } from 'preact/hooks';
import { traceSummaries, type Info } from '../api';
import { absolute, resolve } from '../timerange';
import { setParams, useLoad } from '../state';
import { Empty, ErrorBox, FilterBox, Spinner, TimeRangePicker, filterError, noTraces } from '../components/Common';
import { COLORS, Histogram, TimeChart } from '../components/Chart';
import { bin, percentile } from '../histogram';
import { annotationDiff, rootCauseDiff, timeSeries, type Diff } from '../compare';
import { fmtDuration, fmtPercent } from '../format';
import { link } from '../route';
import type { TraceSummary } from '../types';

export function AnalyticsPage(props: { params: Record<string, string>; info: Info }) {
  const p = props.params;
  const range = p.range || '15m';
  const fa = p.a || '';
  const fb = p.b || '';
  const win = useMemo(() => resolve(range), [range, p.t]);
  const A = useLoad((s) => traceSummaries(win, fa, 2000, s), [win.start, win.end, fa]);
  const B = useLoad((s) => (fb ? traceSummaries(win, fb, 2000, s) : Promise.resolve(undefined)), [win.start, win.end, fb]);
  const a = A.data?.items || [];
  const b = B.data?.items || [];
  const comparing = !!fb;
  const ta = useMemo(() => a.map((t) => t.ResponseTime ?? 0), [a]);
  const tb = useMemo(() => b.map((t) => t.ResponseTime ?? 0), [b]);
  const bins = useMemo(() => bin(comparing ? [...ta, ...tb] : ta), [ta, tb, comparing]);
  const series = useMemo(() => {
    if (!comparing) return undefined;
    const rebin = (vals: number[]) => {
      const c = new Array(bins.counts.length).fill(0);
      const w = bins.edges[1] - bins.edges[0];
      // Shares, not counts: A and B differ in size.
      for (const v of vals) c[Math.min(c.length - 1, Math.floor(v / w))] += 1 / vals.length;
      return c;
    };
    return [
      { label: 'A', counts: rebin(ta), color: COLORS.a },
      { label: 'B', counts: rebin(tb), color: COLORS.b },
    ];
  }, [bins, ta, tb, comparing]);
  const ts = useMemo(() => timeSeries(a, win.start, win.end), [a, win.start, win.end]);
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
      {A.error && !filterError(A.error, fa) && <ErrorBox error={A.error} what="GetTraceSummaries (A)" />}
      {B.error && !filterError(B.error, fb) && <ErrorBox error={B.error} what="GetTraceSummaries (B)" />}
      {A.data && a.length === 0 && !fa && <Empty>{noTraces(props.info.udp)}</Empty>}
      {A.data && (a.length > 0 || fa) && (
        <>
          <div class="stats-row" data-testid="analytics-stats">
            <Stat name="A" list={a} times={ta} href={link('traces', { range, filter: fa })} />
            {comparing && <Stat name="B" list={b} times={tb} href={link('traces', { range, filter: fb })} />}
          </div>
          <section class="card">
            <h2>Response time distribution{comparing ? ' (share of each set)' : ''}</h2>
            <Histogram bins={bins} series={series} percent={comparing} testid="analytics-histogram"
              onSelect={(lo, hi) => setParams({ a: narrow(fa, lo, hi) })} />
          </section>
          <section class="card">
            <h2>Traces over time (A)</h2>
            <TimeChart t={ts.t} lines={lines} testid="analytics-timeseries"
              onSelect={(lo, hi) => setParams({ range: absolute(lo, hi) })} />
          </section>
          {comparing && (
            <div class="split2">
              <DiffTable title="Annotation values" rows={annotationDiff(a, b)} testid="diff-annotations" />
              <DiffTable title="Root causes" rows={rootCauseDiff(a, b)} testid="diff-rootcauses" />
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

function Stat(props: { name: string; list: TraceSummary[]; times: number[]; href: string }) {
  const n = props.list.length;
  const faults = props.list.filter((t) => t.HasFault).length;
  const errors = props.list.filter((t) => t.HasError).length;
  return (
    <div class={`stat ${props.name.toLowerCase()}`} data-testid={`stat-${props.name}`}>
      <b>{props.name}</b>
      <span><a href={props.href}>{n} traces</a></span>
      <span>fault {fmtPercent(n ? faults / n : undefined)}</span>
      <span>error {fmtPercent(n ? errors / n : undefined)}</span>
      <span>p50 {fmtDuration(percentile(props.times, 0.5))}</span>
      <span>p90 {fmtDuration(percentile(props.times, 0.9))}</span>
      <span>p99 {fmtDuration(percentile(props.times, 0.99))}</span>
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
                <td class="mono">{r.key}</td>
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
