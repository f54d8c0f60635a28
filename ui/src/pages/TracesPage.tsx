// Traces: time range, filter expression, group; numbers, the response-time
// distribution and refiners over every matching trace (the server's
// TraceAggregates), and the table sorted by the server.
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { useWindowed } from '../components/windowed';
import { traceAggregates, type AggSort, type Aggregates, type Info, type ValueCount } from '../api';
import { isRelative, resolve } from '../timerange';
import { go, setParams, useLoad } from '../state';
import { Empty, ErrorBox, LiveToggle, useTick, FilterBox, filterError, GroupSelect, Spinner, TimeRangePicker, noTraces } from '../components/Common';
import { Histogram } from '../components/Chart';
import { ImportTrace } from '../components/TraceFiles';
import type { Bins } from '../histogram';
import { andFilter, annotationList, pageOf, statusClass, withGroup, refinerCondition, traceIdIn } from '../traceslist';
import { fmtDuration, fmtTime } from '../format';
import { round } from '../graphmodel';
import { link } from '../route';

type SortKey = 'responsetime' | 'duration' | 'time';
const SORTS: Record<SortKey, AggSort> = { responsetime: 'ResponseTime', duration: 'Duration', time: 'StartTime' };
const SIZES = [25, 50, 100, 500, 1000];
const ROW = 28; // px, fixed by CSS so long pages can be windowed
const WINDOW_ABOVE = 100; // rows per page beyond which only visible rows render

export function TracesPage(props: { params: Record<string, string>; info: Info }) {
  const p = props.params;
  const range = p.range || '15m';
  const group = p.group || '';
  const filter = p.filter || '';
  const limit = Math.min(1000, Math.max(100, parseInt(p.limit || '1000', 10) || 1000));
  const live = p.live === '1' && isRelative(range);
  const tick = useTick(live);
  const win = useMemo(() => resolve(range), [range, p.t, tick]);
  const sortKey: SortKey = (p.sort as SortKey) in SORTS ? (p.sort as SortKey) : 'time';
  const desc = p.dir !== 'asc';
  const { data, error, loading, reload } = useLoad(async (s) => {
    const r = await traceAggregates(win, withGroup(filter, group), { sortBy: SORTS[sortKey], ascending: !desc, limit, topN: 10 }, s);
    performance.clearMarks('traces-data');
    performance.mark('traces-data');
    return r;
  }, [win.start, win.end, filter, group, limit, sortKey, desc]);
  const size = SIZES.includes(+p.size) ? +p.size : 50;
  const all = data?.Traces || [];
  const pg = pageOf(all, parseInt(p.page || '1', 10) || 1, size);
  const body = useRef<HTMLTableSectionElement>(null);
  const win2 = useWindowed(body, pg.items.length, ROW, pg.items.length > WINDOW_ABOVE);
  const bins = useMemo(() => binsOf(data), [data]);
  const onSelect = useMemo(() => (lo: number, hi: number) =>
    setParams({ filter: andFilter(filter, `responsetime >= ${round(lo)} AND responsetime <= ${round(hi)}`), page: '' }), [filter]);
  const refine = (cond: string) => setParams({ filter: andFilter(filter, cond), page: '' });

  useEffect(() => {
    if (!data) return;
    requestAnimationFrame(() => setTimeout(() => {
      performance.clearMeasures('traces-render');
      performance.measure('traces-render', 'traces-data');
    }));
  }, [data]);

  // A trace id typed into the filter box opens the trace.
  const submit = (v: string) => {
    const id = traceIdIn(v);
    if (id) go({ page: 'traces', id, params: group ? { range, group } : { range } });
    else setParams({ filter: v, page: '' });
  };
  const sortBy = (k: SortKey) => setParams({ sort: k, dir: sortKey === k && desc ? 'asc' : '', page: '' }, true);
  const th = (k: SortKey, name: string) => (
    <th class={`sortable ${sortKey === k ? 'sorted' : ''}`} data-sort={k} aria-sort={sortKey === k ? (desc ? 'descending' : 'ascending') : 'none'}>
      <button class="th-sort" onClick={() => sortBy(k)} title={`sort all matching traces by ${name.toLowerCase()}`}>{name}{sortKey === k ? (desc ? ' ▾' : ' ▴') : ''}</button>
    </th>
  );
  const n = data?.TracesMatched ?? 0;
  const rt = data?.ResponseTime;
  return (
    <div class="page traces-page">
      <div class="toolbar">
        <h1>Traces</h1>
        <TimeRangePicker value={range} onChange={(v) => setParams({ range: v, page: '' })} />
        <GroupSelect value={group} onChange={(v) => setParams({ group: v === 'Default' ? '' : v, page: '' })} />
        <button onClick={() => { setParams({ t: String(Date.now()) }, true); reload(); }}>refresh</button>
        <LiveToggle on={live} range={range} onChange={(on) => setParams({ live: on ? '1' : '' }, true)} />
        <ImportTrace />
        {loading && <Spinner />}
      </div>
      <FilterBox value={filter} error={filterError(error, filter)} onSubmit={submit}
        placeholder='filter expression or a trace id, e.g. service("api") { fault } AND responsetime > 0.5' />
      {error && !filterError(error, filter) && <ErrorBox error={error} what="TraceAggregates" stale={!!data} />}
      {data && n === 0 && (
        filter || group ? <Empty>No traces match this filter in the {range} range. Widen the time range or change the filter.</Empty>
          : data.NewestTraceTime > 0 ? <Empty>No traces in this time range. The newest trace started at {fmtTime(data.NewestTraceTime, false)}.</Empty>
            : <Empty>{noTraces(props.info.udp)}</Empty>
      )}
      {data && n > 0 && (
        <>
          <section class="card">
            <div class="card-head">
              <h2>Response time distribution</h2>
              <span class="sub" data-testid="trace-count" data-count={n} data-p50={rt?.P50} data-p90={rt?.P90} data-p95={rt?.P95} data-p99={rt?.P99} data-max={rt?.Max}>
                {n} traces{data.Truncated ? ' (scan limit reached)' : ''} · p50 {fmtDuration(rt?.P50)} · p90 {fmtDuration(rt?.P90)} · p95 {fmtDuration(rt?.P95)} · p99 {fmtDuration(rt?.P99)} · max {fmtDuration(rt?.Max)}
              </span>
              <span class="hint">drag to narrow the filter</span>
            </div>
            <Histogram bins={bins} onSelect={onSelect} testid="traces-histogram" />
          </section>
          <Refiners data={data} onPick={refine} />
          <div class="table-wrap">
            <table class="traces" data-testid="traces-table">
              <thead>
                <tr>
                  <th>ID</th><th>Method</th><th>URL</th><th>Status</th>
                  {th('responsetime', 'Response time')}{th('duration', 'Duration')}{th('time', 'Time')}
                  <th>Entry service</th><th>User</th><th>Annotations</th>
                </tr>
              </thead>
              <tbody ref={body} data-rows={pg.items.length}>
                {win2.first > 0 && <tr class="spacer" style={{ height: `${win2.first * ROW}px` }}><td colSpan={10} /></tr>}
                {pg.items.slice(win2.first, win2.last).map((t) => {
                  const ann = annotationList(t);
                  const users = (t.Users || []).map((u) => u.UserName).filter(Boolean).join(', ');
                  return (
                    <tr class={`row-${statusClass(t)}`} data-trace-id={t.Id}
                      onClick={(e) => { if (!(e.target as HTMLElement).closest('a') && !getSelection()?.toString()) location.hash = link('traces', { range, group }, t.Id); }}>
                      <td class="mono id"><a href={link('traces', { range, group }, t.Id)}>{t.Id}</a></td>
                      <td class="clip">{t.Http?.HttpMethod ?? ''}</td>
                      <td class="url clip" title={t.Http?.HttpURL}>{t.Http?.HttpURL ?? ''}</td>
                      <td><span class={`status ${statusClass(t)}`}>{t.Http?.HttpStatus ?? (t.HasFault ? 'fault' : t.HasError ? 'error' : '')}</span></td>
                      <td class="num">{fmtDuration(t.ResponseTime)}</td>
                      <td class="num">{fmtDuration(t.Duration)}</td>
                      <td class="nowrap" title={fmtTime(t.StartTime)}>{fmtTime(t.StartTime)}</td>
                      <td class="clip" title={t.EntryPoint?.Name}>{t.EntryPoint?.Name ?? ''}</td>
                      <td class="clip" title={users}>{users}</td>
                      <td class="ann clip" title={ann.join('\n')}>{ann.slice(0, 3).join(', ')}{ann.length > 3 ? ` +${ann.length - 3}` : ''}</td>
                    </tr>
                  );
                })}
                {win2.last < pg.items.length && <tr class="spacer" style={{ height: `${(pg.items.length - win2.last) * ROW}px` }}><td colSpan={10} /></tr>}
              </tbody>
            </table>
          </div>
          <div class="pager" data-testid="pager">
            <button disabled={pg.page <= 1} onClick={() => setParams({ page: String(pg.page - 1) })}>‹ prev</button>
            <span>page {pg.page} of {pg.pages}{n > all.length ? ` · the first ${all.length} of ${n} by ${sortKey === 'time' ? 'time' : sortKey}` : ''}</span>
            <button disabled={pg.page >= pg.pages} onClick={() => setParams({ page: String(pg.page + 1) })}>next ›</button>
            <select aria-label="page size" value={String(size)} onChange={(e) => setParams({ size: (e.target as HTMLSelectElement).value, page: '' })}>
              {SIZES.map((k) => <option value={String(k)}>{k} per page</option>)}
            </select>
          </div>
        </>
      )}
    </div>
  );
}

// The server's histogram buckets as the chart's bins.
export function binsOf(a: Aggregates | undefined): Bins {
  const h = a?.Histogram || [];
  if (!h.length) return { edges: [0, 1], counts: [0] };
  if (h.length === 1) { // every value equal: one bar of a visible width
    const v = h[0].Lower;
    return { edges: [Math.max(0, v - 0.001), v + 0.001], counts: [h[0].Count] };
  }
  return { edges: [...h.map((b) => b.Lower), h[h.length - 1].Upper], counts: h.map((b) => b.Count) };
}

// X-Ray's query refiners: the commonest values among all matches; a click
// adds the value to the filter.
function Refiners(props: { data: Aggregates; onPick: (cond: string) => void }) {
  const d = props.data;
  const tables: [string, string, ValueCount[]][] = [
    ['URL', 'http.url', d.Urls], ['Status', 'http.status', d.HttpStatuses], ['User', 'user', d.Users],
    ['Entry service', 'service', d.EntryServices], ['Root cause service', 'rootcause', d.RootCauses],
    ...d.Annotations.map((k) => [`annotation.${k.Key}`, `annotation.${k.Key}`, k.Values] as [string, string, ValueCount[]]),
  ];
  return (
    <details class="card refiners" open data-testid="refiners">
      <summary><h2>Refine: values among all {d.TracesMatched} matching traces</h2></summary>
      <div class="refiner-grid">
        {tables.filter((t) => t[2].length > 0).map(([title, field, rows]) => (
          <div class="refiner-box" data-testid={`refiner-${field}`}>
          <div class="refiner-title clip" title={title}>{title}</div>
          <table class="refiner">
            <tbody>
              {rows.map((r) => (
                <tr>
                  <td class="clip" title={String(r.Value)}>
                    <button class="link" onClick={() => props.onPick(refinerCondition(field, r.Value))}
                      title={`add ${refinerCondition(field, r.Value)} to the filter`}>{String(r.Value) || '(empty)'}</button>
                  </td>
                  <td class="num">{r.Count}</td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
        ))}
      </div>
    </details>
  );
}

