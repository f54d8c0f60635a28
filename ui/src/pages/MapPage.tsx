// The trace map: the service graph of a time range and group; selecting a
// node or edge shows its statistics and response-time histogram, and a drag
// on the histogram opens the matching traces.
import { useMemo } from 'preact/hooks';
import { serviceGraph, timeSeriesStatistics, type Info } from '../api';
import { isRelative, resolve } from '../timerange';
import { go, setParams, useLoad } from '../state';
import { Empty, ErrorBox, LiveToggle, useTick, GroupSelect, Spinner, TimeRangePicker, noTraces } from '../components/Common';
import { Legend, ServiceMap, type Selection } from '../components/ServiceMap';
import { COLORS, Histogram, TimeChart } from '../components/Chart';
import { binEntries, entryPercentile } from '../histogram';
import { KIND_LABEL, edgeFilter, edgeSelector, kindOf, nodeFilter, nodeSelector, nodeStats, shares, statSeries, withResponseTime } from '../graphmodel';
import { fmtDuration, fmtPercent, fmtRate } from '../format';
import type { HistogramEntry, Service, Statistics } from '../types';
import { link } from '../route';

export function parseSel(s: string | undefined): Selection {
  const n = /^n(\d+)$/.exec(s || '');
  if (n) return { kind: 'node', ref: +n[1] };
  const e = /^e(\d+)-(\d+)$/.exec(s || '');
  if (e) return { kind: 'edge', from: +e[1], to: +e[2] };
  return undefined;
}
export function formatSel(s: Selection): string | undefined {
  if (!s) return undefined;
  return s.kind === 'node' ? `n${s.ref}` : `e${s.from}-${s.to}`;
}

export function MapPage(props: { params: Record<string, string>; info: Info }) {
  const range = props.params.range || '15m';
  const group = props.params.group || '';
  const live = props.params.live === '1' && isRelative(range);
  const tick = useTick(live);
  const win = useMemo(() => resolve(range), [range, props.params.t, tick]);
  const { data, error, loading, reload } = useLoad((s) => serviceGraph(win, group, s), [win.start, win.end, group]);
  const services = data || [];
  const sel = parseSel(props.params.sel);
  const windowSeconds = win.end - win.start;
  return (
    <div class="page map-page">
      <div class="toolbar">
        <h1>Trace map</h1>
        <TimeRangePicker value={range} onChange={(v) => setParams({ range: v })} />
        <GroupSelect value={group} onChange={(v) => setParams({ group: v === 'Default' ? '' : v, sel: '' })} />
        <button onClick={() => { setParams({ t: String(Date.now()) }, true); reload(); }}>refresh</button>
        <LiveToggle on={live} range={range} onChange={(on) => setParams({ live: on ? '1' : '' }, true)} />
        {loading && <Spinner />}
      </div>
      {error && <ErrorBox error={error} what="GetServiceGraph" />}
      {!error && !loading && services.length === 0 && <Empty>{noTraces(props.info.udp)}</Empty>}
      {services.length > 0 && (
        <div class="split">
          <div class="grow">
            <ServiceMap services={services} windowSeconds={windowSeconds} selected={sel} onSelect={(s) => setParams({ sel: formatSel(s) }, true)}
              height={Math.max(520, innerHeight - 190)} />
            <Legend />
          </div>
          <aside class="panel" data-testid="map-panel">
            <Details services={services} sel={sel} windowSeconds={windowSeconds} range={range} group={group} win={win} />
          </aside>
        </div>
      )}
    </div>
  );
}

function Details(props: { services: Service[]; sel: Selection; windowSeconds: number; range: string; group: string; win: { start: number; end: number } }) {
  const byRef = new Map(props.services.map((s) => [s.ReferenceId, s]));
  const { sel } = props;
  if (!sel) return <p class="hint">Click a node or an edge for its statistics and response times.</p>;
  let title = '';
  let subtitle = '';
  let stats: Statistics | undefined;
  let hist: HistogramEntry[] | undefined;
  let filter = '';
  let selector = '';
  if (sel.kind === 'node') {
    const s = byRef.get(sel.ref);
    if (!s) return <p class="hint">That node is not in this time range.</p>;
    title = s.Name || '(unnamed)';
    subtitle = `${KIND_LABEL[kindOf(s)]}${s.Type && s.Type !== 'client' ? ' · ' + s.Type : ''}${s.Root ? ' · entry point' : ''}`;
    stats = nodeStats(s);
    hist = s.ResponseTimeHistogram || (s.Edges || []).flatMap((e) => e.ResponseTimeHistogram || []);
    filter = nodeFilter(s);
    selector = nodeSelector(s);
  } else {
    const a = byRef.get(sel.from);
    const b = byRef.get(sel.to);
    const e = a?.Edges?.find((x) => x.ReferenceId === sel.to);
    if (!a || !b || !e) return <p class="hint">That edge is not in this time range.</p>;
    title = `${a.Name} → ${b.Name}`;
    subtitle = `edge${e.EdgeType ? ' · ' + e.EdgeType : ''}`;
    stats = e.SummaryStatistics;
    hist = e.ResponseTimeHistogram;
    filter = edgeFilter(a, b);
    selector = edgeSelector(a, b);
  }
  const sh = shares(stats);
  const avg = sh.total ? (stats?.TotalResponseTime ?? 0) / sh.total : undefined;
  const bins = binEntries(hist);
  const open = (f: string) => go({ page: 'traces', params: clean({ range: props.range, group: props.group, filter: f }) });
  return (
    <div class="details" data-testid="selection-details">
      <h2>{title}</h2>
      <p class="sub">{subtitle}</p>
      <table class="kv">
        <tbody>
          <tr><th>requests</th><td data-testid="stat-total">{sh.total}</td><td>{fmtRate(sh.total, props.windowSeconds)}</td></tr>
          <tr><th>ok</th><td>{sh.ok}</td><td>{fmtPercent(sh.total ? sh.ok / sh.total : undefined)}</td></tr>
          <tr><th>error (4xx)</th><td>{sh.error}</td><td>{fmtPercent(sh.total ? sh.error / sh.total : undefined)}</td></tr>
          <tr><th>throttle (429)</th><td>{sh.throttle}</td><td>{fmtPercent(sh.total ? sh.throttle / sh.total : undefined)}</td></tr>
          <tr><th>fault (5xx)</th><td data-testid="stat-fault">{sh.fault}</td><td>{fmtPercent(sh.total ? sh.fault / sh.total : undefined)}</td></tr>
          <tr><th>average</th><td colSpan={2}>{fmtDuration(avg)}</td></tr>
          <tr><th>p50 / p90 / p99</th><td colSpan={2}>{[0.5, 0.9, 0.99].map((q) => fmtDuration(entryPercentile(hist, q))).join(' / ')}</td></tr>
        </tbody>
      </table>
      <h3>Response time</h3>
      {hist && hist.length ? (
        <Histogram bins={bins} testid="map-histogram" onSelect={(lo, hi) => open(withResponseTime(filter, lo, hi))} />
      ) : <p class="hint">no response times recorded</p>}
      <p class="hint">Drag across the histogram to open the traces in that range.</p>
      <h3>Over time</h3>
      <Series win={props.win} group={props.group} selector={selector} />
      <div class="actions">
        <a class="button" data-testid="open-traces" href={link('traces', { range: props.range, group: props.group, filter })}>View traces</a>
        <a class="button ghost" href={link('traces', { range: props.range, group: props.group, filter: filter ? `${filter} { fault OR error }` : 'fault OR error' })}>Errors and faults</a>
        <a class="button ghost" href={link('analytics', { range: props.range, a: filter })}>Analyze</a>
      </div>
    </div>
  );
}

function clean(p: Record<string, string>) {
  const o: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (v) o[k] = v;
  return o;
}

function Series(props: { win: { start: number; end: number }; group: string; selector: string }) {
  const { data, error } = useLoad((s) => timeSeriesStatistics(props.win, props.group, props.selector, s), [props.win.start, props.win.end, props.group, props.selector]);
  const series = useMemo(() => (data ? statSeries(data.points, props.win.start, props.win.end, data.period) : undefined), [data]);
  const lines = useMemo(() => series && [
    { label: 'ok', values: series.ok, color: COLORS.ok, bars: true },
    { label: 'error', values: series.error, color: COLORS.error, bars: true },
    { label: 'throttle', values: series.throttle, color: COLORS.throttle, bars: true },
    { label: 'fault', values: series.fault, color: COLORS.fault, bars: true },
    { label: 'avg', values: series.avg, color: COLORS.avg, scale: 's' },
  ], [series]);
  if (error) return <ErrorBox error={error} what="GetTimeSeriesServiceStatistics" />;
  if (!series || !lines) return <Spinner />;
  return <TimeChart t={series.t} lines={lines} height={140} legend={false} testid="map-timeseries" />;
}
