// Two traces side by side (#/compare?a=<id>&b=<id>): each one's timeline,
// and a table of their spans matched by path: what only one has, and how
// much longer or shorter each matched span took.
import { useMemo, useState } from 'preact/hooks';
import { batchGetTraces } from '../api';
import { go, useLoad } from '../state';
import { Empty, ErrorBox, Spinner } from '../components/Common';
import { Timeline } from '../components/Timeline';
import { buildRows, documents, span } from '../tracetree';
import { compareTraces } from '../tracecompare';
import { fmtDuration } from '../format';
import { link } from '../route';
import { traceIdIn } from '../traceslist';

export function ComparePage(props: { params: Record<string, string> }) {
  const { a = '', b = '' } = props.params;
  const load = useLoad((s) => (a && b ? batchGetTraces([a, b], s) : Promise.resolve([])), [a, b]);
  const ta = load.data?.find((t) => t.Id === a);
  const tb = load.data?.find((t) => t.Id === b);
  const ra = useMemo(() => (ta ? buildRows(documents(ta)) : []), [ta]);
  const rb = useMemo(() => (tb ? buildRows(documents(tb)) : []), [tb]);
  const diff = useMemo(() => compareTraces(ra, rb), [ra, rb]);
  const [sa, sb] = [span(ra), span(rb)];
  return (
    <div class="page compare-page">
      <div class="toolbar">
        <h1>Compare traces</h1>
        <ComparePicker a={a} b={b} />
        {load.loading && <Spinner />}
      </div>
      {load.error && <ErrorBox error={load.error} what="BatchGetTraces" stale={!!load.data} />}
      {a && b && load.data && (!ta || !tb) && <Empty>Trace {!ta ? a : b} was not found.</Empty>}
      {ta && tb && (
        <>
          <div class="split2">
            {[['A', a, ra, sa], ['B', b, rb, sb]].map(([name, id, rows, s]: any) => (
              <section class="card" data-testid={`compare-${name}`}>
                <h2 class="clip"><span class={`ab-tag ${name.toLowerCase()}`}>{name}</span> <a class="mono" href={link('traces', {}, id)}>{id}</a> · {fmtDuration(s.end - s.start)}</h2>
                <Timeline rows={rows} onSelect={() => {}} height={320} />
              </section>
            ))}
          </div>
          <section class="card">
            <h2>Spans matched by path (B − A)</h2>
            <table class="diff compare" data-testid="compare-table">
              <thead><tr><th>span</th><th>A</th><th>B</th><th>B − A</th></tr></thead>
              <tbody>
                {diff.map((d) => (
                  <tr class={!d.a ? 'only-b' : !d.b ? 'only-a' : ''} data-key={d.key}>
                    <td class="clip" title={d.key} style={{ paddingLeft: `${8 + Math.min(d.depth, 12) * 12}px` }}>{d.name}</td>
                    <td class="num">{d.a ? fmtDuration(d.a.duration) : 'only in B'}</td>
                    <td class="num">{d.b ? fmtDuration(d.b.duration) : 'only in A'}</td>
                    <td class="num">{d.delta != null ? <span class={d.delta > 0 ? 'up' : d.delta < 0 ? 'down' : ''}>{d.delta > 0 ? '+' : ''}{fmtDuration(d.delta)}</span> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      )}
      {(!a || !b) && <Empty>Enter two trace ids to compare them.</Empty>}
    </div>
  );
}

export function ComparePicker(props: { a: string; b: string }) {
  const [a, setA] = useState(props.a);
  const [b, setB] = useState(props.b);
  return (
    <form class="compare-picker" onSubmit={(e) => {
      e.preventDefault();
      const x = traceIdIn(a) ?? a.trim();
      const y = traceIdIn(b) ?? b.trim();
      if (x && y) go({ page: 'compare', params: { a: x, b: y } });
    }}>
      <input class="mono" aria-label="trace A" placeholder="trace id A" value={a} onInput={(e) => setA((e.target as HTMLInputElement).value)} data-testid="compare-a" />
      <input class="mono" aria-label="trace B" placeholder="trace id B" value={b} onInput={(e) => setB((e.target as HTMLInputElement).value)} data-testid="compare-b" />
      <button type="submit">compare</button>
    </form>
  );
}

