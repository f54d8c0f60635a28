// One trace: the timeline of every segment and subsegment (inferred ones
// too), a side panel with the selected one's details, and its map.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { batchGetTraces, traceGraph } from '../api';
import { setParams, useLoad } from '../state';
import { Empty, ErrorBox, Spinner } from '../components/Common';
import { Timeline } from '../components/Timeline';
import { ServiceMap } from '../components/ServiceMap';
import { buildRows, documents, exceptionsOf, span, type Row } from '../tracetree';
import { fmtDuration, fmtTime } from '../format';
import { link } from '../route';
import { criticalPath } from '../criticalpath';
import { Clip } from '../components/Common';
import { DownloadTrace, IMPORTED, ImportTrace, importedTrace } from '../components/TraceFiles';
import type { Trace } from '../types';

const TABS = ['overview', 'http', 'aws', 'sql', 'annotations', 'metadata', 'exceptions', 'raw'] as const;

export function TracePage(props: { id: string; params: Record<string, string> }) {
  const { id, params } = props;
  const imported = id === IMPORTED;
  const trace = useLoad(async (s) => {
    const list = imported ? [importedTrace()].filter((x): x is Trace => !!x) : await batchGetTraces([id], s);
    performance.clearMarks('trace-data');
    performance.mark('trace-data');
    return list[0];
  }, [id]);
  const rows = useMemo(() => (trace.data ? buildRows(documents(trace.data)) : []), [trace.data]);
  const graph = useLoad((s) => (imported ? Promise.resolve([]) : traceGraph([id], s)), [id]);
  // The map (and the charting library it loads) waits until the timeline
  // is on screen: the timeline is what the user came for.
  const [showMap, setShowMap] = useState(false);
  useEffect(() => {
    if (!rows.length) return;
    requestAnimationFrame(() => setTimeout(() => {
      performance.clearMeasures('trace-render');
      performance.measure('trace-render', 'trace-data');
      setShowMap(true);
    }));
  }, [rows]);
  const selected = rows.find((r) => r.id === params.sel) || rows[0];
  const t = span(rows);
  const root = rows[0];
  const http = httpOf(root);
  const critical = useMemo(() => new Set(criticalPath(rows)), [rows]);
  const tab = (TABS as readonly string[]).includes(params.tab) ? params.tab : 'overview';
  return (
    <div class="page trace-page">
      <div class="toolbar">
        <a href={link('traces', { range: params.range, group: params.group })}>‹ traces</a>
        <h1 class="mono clip" data-testid="trace-id">{imported ? `${trace.data?.Id ?? ''} (imported)` : id}</h1>
        {trace.loading && <Spinner />}
        {trace.data && <DownloadTrace trace={trace.data} />}
        <ImportTrace />
        {!imported && <a class="button ghost" href={link('compare', { a: id })} data-testid="compare-link">compare with…</a>}
      </div>
      {trace.error && <ErrorBox error={trace.error} what="BatchGetTraces" />}
      {!trace.loading && !trace.error && !trace.data && (
        <Empty>Trace {id} was not found: it may be older than the retention period, or its segments have not arrived yet.</Empty>
      )}
      {rows.length > 0 && (
        <>
          <div class="summary-line">
            <span title={root?.segment} data-testid="trace-entry">entry <b>{root?.segment}</b></span>
            {http.method && <span data-testid="trace-method"><b>{http.method}</b></span>}
            {http.url && <span class="url mono" title={http.url} data-testid="trace-url">{http.url}</span>}
            {http.status != null && <span data-testid="trace-status" class={`status ${root.status}`}>{http.status}</span>}
            <span>started {fmtTime(t.start)}</span>
            <span>duration {fmtDuration(trace.data?.Duration ?? t.end - t.start)}</span>
            <span>{new Set(rows.filter((r) => r.kind !== 'subsegment').map((r) => r.segment)).size} services</span>
            {trace.data?.LimitExceeded && <span class="status fault">limit exceeded: some segments were dropped</span>}
          </div>
          <div class="split">
            <div class="grow">
              <label class="hint critical-toggle"><input type="checkbox" checked={params.cp !== '0'} data-testid="critical-toggle"
                onChange={(e) => setParams({ cp: (e.target as HTMLInputElement).checked ? '' : '0' }, true)} /> highlight the critical path (the spans the response time waited on)</label>
              <Timeline rows={rows} selected={selected?.id} onSelect={(sel) => setParams({ sel }, true)} critical={params.cp !== '0' ? critical : undefined} />
            </div>
            <aside class="panel" data-testid="segment-panel">
              {selected && <SegmentPanel row={selected} tab={tab} />}
            </aside>
          </div>
          <section class="card">
            <h2>Map of this trace</h2>
            {graph.error && <ErrorBox error={graph.error} what="GetTraceGraph" />}
            {showMap && graph.data && graph.data.length > 0 && (
              <ServiceMap services={graph.data} windowSeconds={0} onSelect={() => {}} height={320} />
            )}
          </section>
        </>
      )}
    </div>
  );
}

function SegmentPanel(props: { row: Row; tab: string }) {
  const { row, tab } = props;
  const d = row.doc;
  const exc = exceptionsOf(d);
  return (
    <div class="segment-panel">
      <h2 title={row.name}>{row.name}</h2>
      <p class="sub">{row.kind}{d.namespace ? ` · ${d.namespace}` : ''}{d.origin ? ` · ${d.origin}` : ''} · <span class={`status ${row.status}`}>{row.status}</span></p>
      <div class="tabs" role="tablist">
        {TABS.map((t) => (
          <button role="tab" class={t === tab ? 'active' : ''} aria-selected={t === tab} onClick={() => setParams({ tab: t }, true)}>
            {t}{t === 'exceptions' && exc.length ? ` (${exc.length})` : ''}
          </button>
        ))}
      </div>
      <div class="tab-body" data-testid={`tab-${tab}`}>
        {tab === 'overview' && (
          <table class="kv"><tbody>
            <KV k="id" v={d.id} />
            <KV k="parent id" v={d.parent_id} />
            <KV k="trace id" v={d.trace_id || row.root.trace_id} />
            <KV k="start" v={fmtTime(row.start)} />
            <KV k="end" v={fmtTime(row.end)} />
            <KV k="duration" v={fmtDuration(row.end - row.start)} />
            <KV k="in progress" v={d.in_progress ? 'yes' : undefined} />
            <KV k="user" v={d.user} />
            <KV k="origin" v={d.origin} />
            <KV k="namespace" v={d.namespace} />
            <KV k="error / throttle / fault" v={`${!!d.error} / ${!!d.throttle} / ${!!d.fault}`} />
            <KV k="service" v={row.segment} />
          </tbody></table>
        )}
        {tab === 'http' && <JsonBlock v={d.http} empty="no http data" />}
        {tab === 'aws' && <JsonBlock v={d.aws} empty="no aws data" />}
        {tab === 'sql' && <JsonBlock v={d.sql} empty="no sql data" />}
        {tab === 'annotations' && (d.annotations && Object.keys(d.annotations).length ? (
          <table class="kv"><tbody>
            {Object.entries(d.annotations).map(([k, v]) => <KV k={k} v={typeof v === 'string' ? v : JSON.stringify(v)} />)}
          </tbody></table>
        ) : <p class="hint">no annotations</p>)}
        {tab === 'metadata' && <JsonBlock v={d.metadata} empty="no metadata" />}
        {tab === 'exceptions' && (exc.length ? exc.map((e) => (
          <div class="exception" data-testid="exception">
            <div><b>{e.type || 'Exception'}</b>{e.remote ? ' (remote)' : ''}</div>
            <div class="exc-message">{e.message ?? ''}</div>
            {e.stack && e.stack.length > 0 && (
              <ol class="stack">
                {e.stack.map((f) => <li><span class="mono">{f.label ?? '?'}</span> <span class="path">{f.path ?? ''}{f.line != null ? `:${f.line}` : ''}</span></li>)}
              </ol>
            )}
            {e.truncated ? <div class="hint">{e.truncated} frames truncated</div> : null}
          </div>
        )) : <p class="hint">{typeof d.cause === 'string' ? `cause: exception ${d.cause} (recorded elsewhere in the trace)` : 'no exceptions'}</p>)}
        {tab === 'raw' && (
          <>
            <p class="hint">the document this {row.kind} arrived in{row.root !== d ? ` (segment ${row.root.name})` : ''}</p>
            <pre class="json" data-testid="raw-json">{JSON.stringify(row.root, null, 2)}</pre>
          </>
        )}
      </div>
    </div>
  );
}

function KV(props: { k: string; v: string | undefined }) {
  if (props.v == null || props.v === '') return null;
  return <tr><th title={props.k}>{props.k}</th><td><Clip text={props.v} /></td></tr>;
}

function JsonBlock(props: { v: unknown; empty: string }) {
  if (props.v == null || (typeof props.v === 'object' && !Object.keys(props.v as object).length)) return <p class="hint">{props.empty}</p>;
  return <pre class="json"><Clip text={JSON.stringify(props.v, null, 2)} max={4000} /></pre>;
}

// The request and response of the entry segment, for the header.
function httpOf(r: Row | undefined): { method?: string; url?: string; status?: number } {
  const h = (r?.doc.http || {}) as { request?: { method?: string; url?: string }; response?: { status?: number } };
  return { method: h.request?.method, url: h.request?.url, status: h.response?.status };
}
