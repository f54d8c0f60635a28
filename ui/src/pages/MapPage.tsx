// The trace map: the service graph of a time range and group; selecting a
// node or edge shows its statistics and response-time histogram, and a drag
// on the histogram opens the matching traces.
import { useMemo } from 'preact/hooks';
import { insightSummaries, serviceGraph, timeSeriesStatistics, traceAggregates, type Info } from '../api';
import { activeRoots, serviceKey } from '../insights';
import { isRelative, resolve } from '../timerange';
import { go, setParams, useLoad } from '../state';
import { Empty, ErrorBox, LiveToggle, useTick, GroupSelect, Spinner, TimeRangePicker, noTraces } from '../components/Common';
import { Legend, ServiceMap, type Selection } from '../components/ServiceMap';
import { COLORS, Histogram, TimeChart } from '../components/Chart';
import { binEntries, entryPercentile } from '../histogram';
import { model, KIND_LABEL, edgeFilter, edgeSelector, kindOf, nodeFilter, nodeSelector, nodeStats, shares, statSeries, withResponseTime } from '../graphmodel';
import { fmtDuration, fmtPercent, fmtRate, fmtTime } from '../format';
import type { HistogramEntry, Service, Statistics } from '../types';
import { link } from '../route';
import { formatSel, parseSel } from '../mapsel';

export function MapPage(props: { params: Record<string, string>; info: Info }) {
  const range = props.params.range || '15m';
  const group = props.params.group || '';
  const live = props.params.live === '1' && isRelative(range);
  const tick = useTick(live);
  const win = useMemo(() => resolve(range), [range, props.params.t, tick]);
  const { data, error, loading, reload } = useLoad((s) => serviceGraph(win, group, s), [win.start, win.end, group]);
  const all = data || [];
  // Hidden nodes (by name, in the URL) leave the map with their edges.
  const hidden = useMemo(() => new Set((props.params.hide || '').split('\n').filter(Boolean)), [props.params.hide]);
  const services = useMemo(() => all.filter((s) => !hidden.has(s.Name || '')), [all, hidden]);
  // Active insights of the group: a badge on their root causes.
  const active = useLoad((s) => insightSummaries(win, group || 'Default', 'ACTIVE', s).catch(() => ({ items: [], more: false })), [win.start, win.end, group]);
  const roots = useMemo(() => activeRoots(active.data?.items || []), [active.data]);
  const badged = useMemo(() => new Set(services.filter((s) => roots.has(serviceKey(s))).map((s) => s.ReferenceId)), [services, roots]);
  const sel = parseSel(props.params.sel, services);
  const search = props.params.q || '';
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
      {error && <ErrorBox error={error} what="GetServiceGraph" stale={!!data} />}
      {(active.data?.items.length ?? 0) > 0 && (
        <div class="insight-banner" role="status" data-testid="map-insights">
          {active.data!.items.map((i) => (
            <div>⚠ <a href={link('insights', { range }, i.InsightId)}><b>{i.RootCauseServiceId.Name}</b></a>: {i.Summary}</div>
          ))}
        </div>
      )}
      {!error && !loading && data && all.length === 0 && <MapEmpty win={win} udp={props.info.udp} />}
      {services.length > 0 && (
        <div class="split">
          <div class="grow">
            <ServiceMap services={services} windowSeconds={windowSeconds} selected={sel} onSelect={(s) => setParams({ sel: formatSel(s, services) }, true)} search={search} insights={badged}
              height={Math.max(520, innerHeight - 190)} />
            <Legend />
            <MapList all={all} windowSeconds={windowSeconds} hidden={hidden} search={search}
              onSelect={(s) => setParams({ sel: formatSel(s, services) }, true)} />
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

// The list view: every node and edge of the map with its numbers, as a
// table a keyboard and a screen reader can reach; search and hide here.
function MapList(props: { all: Service[]; windowSeconds: number; hidden: Set<string>; search: string; onSelect: (s: Selection) => void }) {
  const m = useMemo(() => model(props.all, props.windowSeconds), [props.all, props.windowSeconds]);
  const q = props.search.trim().toLowerCase();
  const byId = new Map(m.nodes.map((n) => [n.id, n]));
  const nodes = m.nodes.filter((n) => !q || n.label.toLowerCase().includes(q));
  const edges = m.edges.filter((e) => !q || [byId.get(e.source)?.name, byId.get(e.target)?.name].some((x) => (x || '').toLowerCase().includes(q)));
  const toggle = (name: string) => {
    const h = new Set(props.hidden);
    if (h.has(name)) h.delete(name); else h.add(name);
    setParams({ hide: [...h].join('\n') }, true);
  };
  const pct = (n: number, t: number) => fmtPercent(t ? n / t : undefined);
  return (
    <details class="card map-list" data-testid="map-list">
      <summary><h2>List view: {m.nodes.length} nodes, {m.edges.length} edges{props.hidden.size ? ` (${props.hidden.size} hidden)` : ''}</h2></summary>
      <label class="map-search">search <input type="search" value={props.search} aria-label="search nodes"
        onInput={(e) => setParams({ q: (e.target as HTMLInputElement).value }, true)} /></label>
      <table class="diff" data-testid="map-list-nodes">
        <caption class="sr-only">nodes</caption>
        <thead><tr><th>node</th><th>type</th><th>requests</th><th>fault</th><th>error</th><th>avg</th><th>shown</th></tr></thead>
        <tbody>
          {nodes.map((n) => (
            <tr>
              <td class="clip" title={n.name}><button class="link" onClick={() => props.onSelect({ kind: 'node', ref: n.ref })}>{n.name}</button></td>
              <td class="clip" title={n.type}>{n.type || n.kind}</td>
              <td class="num">{n.shares.total}</td>
              <td class="num">{pct(n.shares.fault, n.shares.total)}</td>
              <td class="num">{pct(n.shares.error, n.shares.total)}</td>
              <td class="num">{fmtDuration(n.avg)}</td>
              <td><input type="checkbox" checked={!props.hidden.has(n.name)} aria-label={`show ${n.name} on the map`} onChange={() => toggle(n.name)} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      <table class="diff" data-testid="map-list-edges">
        <caption class="sr-only">edges</caption>
        <thead><tr><th>edge</th><th>requests</th><th>fault</th><th>error</th><th>avg</th></tr></thead>
        <tbody>
          {edges.map((e) => {
            const a = byId.get(e.source);
            const b = byId.get(e.target);
            const name = `${a?.name ?? '?'} → ${b?.name ?? '?'}`;
            return (
              <tr>
                <td class="clip" title={name}><button class="link" onClick={() => a && b && props.onSelect({ kind: 'edge', from: a.ref, to: b.ref })}>{name}</button></td>
                <td class="num">{e.shares.total}</td>
                <td class="num">{pct(e.shares.fault, e.shares.total)}</td>
                <td class="num">{pct(e.shares.error, e.shares.total)}</td>
                <td class="num">{fmtDuration(e.avg)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </details>
  );
}

// An empty map on a server that has traces says when the newest one is,
// not "No traces yet".
function MapEmpty(props: { win: { start: number; end: number }; udp?: string }) {
  const { data } = useLoad((s) => traceAggregates(props.win, '', { limit: 1, topN: 1, buckets: 1 }, s), [props.win.start, props.win.end]);
  if (!data) return null;
  return <Empty>{data.NewestTraceTime > 0 ? `No traces in this time range. The newest trace started at ${fmtTime(data.NewestTraceTime, false)}.` : noTraces(props.udp)}</Empty>;
}
