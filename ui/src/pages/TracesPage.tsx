// Traces: time range, filter expression, group, a response-time
// distribution (drag to narrow the filter) and the sortable, paged table.
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { useWindowed } from '../components/windowed';
import { traceSummaries, type Info } from '../api';
import { isRelative, resolve } from '../timerange';
import { setParams, useLoad } from '../state';
import { Empty, ErrorBox, LiveToggle, useTick, FilterBox, filterError, GroupSelect, Spinner, TimeRangePicker, noTraces } from '../components/Common';
import { Histogram } from '../components/Chart';
import { bin, percentile } from '../histogram';
import { andFilter, annotationList, pageOf, sortTraces, statusClass, withGroup, type SortKey } from '../traceslist';
import { fmtDuration, fmtTime } from '../format';
import { round } from '../graphmodel';
import { link } from '../route';

const COLUMNS: [SortKey, string][] = [
  ['id', 'ID'], ['method', 'Method'], ['url', 'URL'], ['status', 'Status'],
  ['responsetime', 'Response time'], ['duration', 'Duration'], ['time', 'Time'],
];
const SIZES = [25, 50, 100, 500, 1000];
const ROW = 28; // px, fixed by CSS so long pages can be windowed
const WINDOW_ABOVE = 100; // rows per page beyond which only visible rows render

export function TracesPage(props: { params: Record<string, string>; info: Info }) {
  const p = props.params;
  const range = p.range || '15m';
  const group = p.group || '';
  const filter = p.filter || '';
  const limit = Math.min(10000, Math.max(100, parseInt(p.limit || '1000', 10) || 1000));
  const live = p.live === '1' && isRelative(range);
  const tick = useTick(live);
  const win = useMemo(() => resolve(range), [range, p.t, tick]);
  const { data, error, loading, reload } = useLoad(async (s) => {
    const r = await traceSummaries(win, withGroup(filter, group), limit, s);
    performance.clearMarks('traces-data');
    performance.mark('traces-data');
    return r;
  }, [win.start, win.end, filter, group, limit]);
  const sortKey = (p.sort as SortKey) || 'time';
  const desc = p.dir !== 'asc';
  const size = SIZES.includes(+p.size) ? +p.size : 50;
  const all = data?.items || [];
  const sorted = useMemo(() => sortTraces(all, sortKey, desc), [all, sortKey, desc]);
  const pg = pageOf(sorted, parseInt(p.page || '1', 10) || 1, size);
  const body = useRef<HTMLTableSectionElement>(null);
  const win2 = useWindowed(body, pg.items.length, ROW, pg.items.length > WINDOW_ABOVE);
  const times = useMemo(() => all.map((t) => t.ResponseTime ?? 0), [all]);
  const bins = useMemo(() => bin(times), [times]);
  const onSelect = useMemo(() => (lo: number, hi: number) =>
    setParams({ filter: andFilter(filter, `responsetime >= ${round(lo)} AND responsetime <= ${round(hi)}`), page: '' }), [filter]);

  useEffect(() => {
    if (!data) return;
    requestAnimationFrame(() => setTimeout(() => {
      performance.clearMeasures('traces-render');
      performance.measure('traces-render', 'traces-data');
    }));
  }, [data]);

  const sortBy = (k: SortKey) => setParams({ sort: k, dir: sortKey === k && desc ? 'asc' : '', page: '' }, true);
  return (
    <div class="page traces-page">
      <div class="toolbar">
        <h1>Traces</h1>
        <TimeRangePicker value={range} onChange={(v) => setParams({ range: v, page: '' })} />
        <GroupSelect value={group} onChange={(v) => setParams({ group: v === 'Default' ? '' : v, page: '' })} />
        <button onClick={() => { setParams({ t: String(Date.now()) }, true); reload(); }}>refresh</button>
        <LiveToggle on={live} range={range} onChange={(on) => setParams({ live: on ? '1' : '' }, true)} />
        {loading && <Spinner />}
      </div>
      <FilterBox value={filter} error={filterError(error, filter)} onSubmit={(v) => setParams({ filter: v, page: '' })} />
      {error && !filterError(error, filter) && <ErrorBox error={error} what="GetTraceSummaries" />}
      {!error && data && all.length === 0 && (
        filter || group ? <Empty>No traces match this filter in the {range} range. Widen the time range or change the filter.</Empty>
          : <Empty>{noTraces(props.info.udp)}</Empty>
      )}
      {all.length > 0 && (
        <>
          <section class="card">
            <div class="card-head">
              <h2>Response time distribution</h2>
              <span class="sub" data-testid="trace-count">{all.length}{data?.more ? '+' : ''} traces · p50 {fmtDuration(percentile(times, 0.5))} · p90 {fmtDuration(percentile(times, 0.9))} · p99 {fmtDuration(percentile(times, 0.99))}</span>
              <span class="hint">drag to narrow the filter</span>
            </div>
            <Histogram bins={bins} onSelect={onSelect} testid="traces-histogram" />
          </section>
          <table class="traces" data-testid="traces-table">
            <thead>
              <tr>
                {COLUMNS.map(([k, name]) => (
                  <th class={`sortable ${sortKey === k ? 'sorted' : ''}`} onClick={() => sortBy(k)} data-sort={k}>
                    {name}{sortKey === k ? (desc ? ' ▾' : ' ▴') : ''}
                  </th>
                ))}
                <th>Annotations</th>
              </tr>
            </thead>
            <tbody ref={body} data-rows={pg.items.length}>
              {win2.first > 0 && <tr class="spacer" style={{ height: `${win2.first * ROW}px` }}><td colSpan={8} /></tr>}
              {pg.items.slice(win2.first, win2.last).map((t) => {
                const ann = annotationList(t);
                return (
                  <tr class={`row-${statusClass(t)}`} data-trace-id={t.Id}
                    onClick={(e) => { if (!(e.target as HTMLElement).closest('a') && !getSelection()?.toString()) location.hash = link('traces', { range, group }, t.Id); }}>
                    <td class="mono"><a href={link('traces', { range, group }, t.Id)}>{t.Id}</a></td>
                    <td>{t.Http?.HttpMethod ?? ''}</td>
                    <td class="url" title={t.Http?.HttpURL}>{t.Http?.HttpURL ?? ''}</td>
                    <td><span class={`status ${statusClass(t)}`}>{t.Http?.HttpStatus ?? (t.HasFault ? 'fault' : t.HasError ? 'error' : '')}</span></td>
                    <td class="num">{fmtDuration(t.ResponseTime)}</td>
                    <td class="num">{fmtDuration(t.Duration)}</td>
                    <td class="nowrap">{fmtTime(t.StartTime)}</td>
                    <td class="ann" title={ann.join('\n')}>{ann.slice(0, 3).join(', ')}{ann.length > 3 ? ` +${ann.length - 3}` : ''}</td>
                  </tr>
                );
              })}
              {win2.last < pg.items.length && <tr class="spacer" style={{ height: `${(pg.items.length - win2.last) * ROW}px` }}><td colSpan={8} /></tr>}
            </tbody>
          </table>
          <div class="pager" data-testid="pager">
            <button disabled={pg.page <= 1} onClick={() => setParams({ page: String(pg.page - 1) })}>‹ prev</button>
            <span>page {pg.page} of {pg.pages}</span>
            <button disabled={pg.page >= pg.pages} onClick={() => setParams({ page: String(pg.page + 1) })}>next ›</button>
            <select aria-label="page size" value={String(size)} onChange={(e) => setParams({ size: (e.target as HTMLSelectElement).value, page: '' })}>
              {SIZES.map((n) => <option value={String(n)}>{n} per page</option>)}
            </select>
          </div>
        </>
      )}
    </div>
  );
}
