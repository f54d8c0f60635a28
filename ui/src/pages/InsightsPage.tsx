// Insights: the anomalies the server found in services' fault, error and
// throttle rates (docs/insights.md). The list, and an insight's detail: its
// impact graph drawn with the group's numbers, and its timeline of events.
import { useMemo } from 'preact/hooks';
import { groups, insight, insightEvents, insightImpactGraph, insightSummaries, serviceGraph, type Impact, type InsightSummary } from '../api';
import { resolve } from '../timerange';
import { setParams, useLoad } from '../state';
import { Empty, ErrorBox, Spinner, TimeRangePicker } from '../components/Common';
import { Legend, ServiceMap } from '../components/ServiceMap';
import { fmtDuration, fmtPercent, fmtTime } from '../format';
import { link } from '../route';
import { duration, impactMap } from '../insights';
import type { ServiceId } from '../types';

export function InsightsPage(props: { params: Record<string, string>; id?: string }) {
  if (props.id) return <InsightDetail id={props.id} params={props.params} />;
  const range = props.params.range || '24h';
  const group = props.params.group || '';
  const state = (props.params.state || '') as '' | 'ACTIVE' | 'CLOSED';
  const win = useMemo(() => resolve(range), [range, props.params.t]);
  const { data, error, loading } = useLoad((s) => insightSummaries(win, group, state || undefined, s), [win.start, win.end, group, state]);
  const grps = useLoad((s) => groups(s), []);
  const list = data?.items || [];
  return (
    <div class="page insights-page">
      <div class="toolbar">
        <h1>Insights</h1>
        <TimeRangePicker value={range} onChange={(v) => setParams({ range: v })} />
        <select aria-label="group" data-testid="insights-group" value={group} onChange={(e) => setParams({ group: (e.target as HTMLSelectElement).value })}>
          <option value="">every group</option>
          {(grps.data || []).filter((g) => g.InsightsConfiguration?.InsightsEnabled).map((g) => <option value={g.GroupName}>{g.GroupName}</option>)}
        </select>
        <select aria-label="state" data-testid="insights-state" value={state} onChange={(e) => setParams({ state: (e.target as HTMLSelectElement).value })}>
          <option value="">active and closed</option>
          <option value="ACTIVE">active</option>
          <option value="CLOSED">closed</option>
        </select>
        <button onClick={() => setParams({ t: String(Date.now()) }, true)}>refresh</button>
        {loading && <Spinner />}
      </div>
      <p class="hint">An insight opens when a service's fault, error or throttle rate leaves the band learnt from the hour before;
        it names the service whose own failures caused it and what they impacted, and closes when the rate is back.
        Groups analysed: Default (unless the server runs with <code>--insights=false</code>) and groups with insights on.</p>
      {error && <ErrorBox error={error} what="GetInsightSummaries" stale={!!data} />}
      {data && list.length === 0 && <Empty>No insights in this time range: every analysed service stayed within its expected rates.</Empty>}
      {list.length > 0 && (
        <table class="insights" data-testid="insights-table">
          <thead><tr><th>state</th><th>root cause</th><th>category</th><th>group</th><th>started</th><th>duration</th><th>client requests</th><th>summary</th></tr></thead>
          <tbody>
            {list.map((i) => (
              <tr data-insight={i.InsightId}>
                <td><StateBadge state={i.State} /></td>
                <td><a href={link('insights', { range }, i.InsightId)} data-testid="insight-link"><b>{i.RootCauseServiceId.Name}</b></a>
                  <div class="sub">{i.RootCauseServiceId.Type || ''}</div></td>
                <td>{(i.Categories || []).join(', ')}</td>
                <td>{i.GroupName}</td>
                <td class="nowrap">{fmtTime(i.StartTime, false)}</td>
                <td class="nowrap">{fmtDuration(duration(i))}</td>
                <td class="nowrap">{impactText(i.ClientRequestImpactStatistics)}</td>
                <td>{i.Summary}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function StateBadge(props: { state: string }) {
  return <span class={props.state === 'ACTIVE' ? 'badge active' : 'badge closed'} data-testid="insight-state">{props.state === 'ACTIVE' ? 'active' : 'closed'}</span>;
}

function impactText(s: Impact | undefined): string {
  const t = s?.TotalCount ?? 0;
  const f = s?.FaultCount ?? 0;
  return t ? `${f.toLocaleString('en')} faults of ${t.toLocaleString('en')} (${fmtPercent(f / t)})` : '—';
}

const svcName = (s: ServiceId) => `${s.Name}${s.Type ? ` (${s.Type})` : ''}`;

function InsightDetail(props: { id: string; params: Record<string, string> }) {
  const { data: ins, error } = useLoad((s) => insight(props.id, s), [props.id]);
  const events = useLoad((s) => insightEvents(props.id, s), [props.id]);
  // The graph over the insight (at most the 6 hours the API draws), a
  // minute either side.
  const win = useMemo(() => {
    if (!ins) return undefined;
    const start = ins.StartTime - 60;
    const end = Math.min((ins.EndTime ?? Date.now() / 1000) + 60, start + 6 * 3600);
    return { start: Math.floor(start), end: Math.ceil(end) };
  }, [ins?.StartTime, ins?.EndTime]);
  const graph = useLoad(async (s) => {
    if (!ins || !win) return [];
    const [impact, all] = await Promise.all([insightImpactGraph(ins.InsightId, win, s), serviceGraph(win, ins.GroupName, s)]);
    return impactMap(all, impact);
  }, [ins?.InsightId, win?.start, win?.end]);
  const back = link('insights', { range: props.params.range });
  if (error) return <div class="page"><a href={back}>← insights</a><ErrorBox error={error} what="GetInsight" /></div>;
  if (!ins) return <div class="page"><Spinner /></div>;
  return (
    <div class="page insight-page" data-testid="insight-detail">
      <div class="toolbar">
        <a href={back}>← insights</a>
        <h1>{ins.RootCauseServiceId.Name}</h1>
        <StateBadge state={ins.State} />
        <span>{(ins.Categories || []).join(', ')}</span>
      </div>
      <p class="summary" data-testid="insight-summary">{ins.Summary}</p>
      <div class="cards">
        <div class="card"><h3>root cause</h3>{svcName(ins.RootCauseServiceId)}
          <div class="sub">{impactText(ins.RootCauseServiceRequestImpactStatistics)}</div></div>
        <div class="card"><h3>client requests</h3>{impactText(ins.ClientRequestImpactStatistics)}</div>
        <div class="card"><h3>time</h3>{fmtTime(ins.StartTime, false)} → {ins.EndTime ? fmtTime(ins.EndTime, false) : 'now'}
          <div class="sub">{fmtDuration(duration(ins))} · group {ins.GroupName}</div></div>
        <div class="card"><h3>anomalous services</h3>{(ins.TopAnomalousServices || []).map((a) => a.ServiceId.Name).join(', ') || '—'}</div>
      </div>
      <h2>Impact</h2>
      {graph.error && <ErrorBox error={graph.error} what="GetInsightImpactGraph" />}
      {win && graph.data && graph.data.length > 0 && (
        <>
          <ServiceMap services={graph.data} windowSeconds={win.end - win.start} onSelect={() => {}} height={360} />
          <Legend />
        </>
      )}
      <p class="hint">Traces of the incident: <a href={link('traces', { range: `${win?.start}-${win?.end}`, group: ins.GroupName === 'Default' ? '' : ins.GroupName,
        filter: `service("${ins.RootCauseServiceId.Name}") { fault OR error OR throttle }` })}>faulty requests of {ins.RootCauseServiceId.Name}</a></p>
      <h2>Timeline</h2>
      {events.error && <ErrorBox error={events.error} what="GetInsightEvents" />}
      <table class="events" data-testid="insight-events">
        <thead><tr><th>time</th><th>event</th><th>root cause requests</th><th>client requests</th></tr></thead>
        <tbody>
          {(events.data || []).map((e) => (
            <tr><td class="nowrap">{fmtTime(e.EventTime, false)}</td><td>{e.Summary}</td>
              <td class="nowrap">{impactText(e.RootCauseServiceRequestImpactStatistics)}</td><td class="nowrap">{impactText(e.ClientRequestImpactStatistics)}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export type { InsightSummary };
