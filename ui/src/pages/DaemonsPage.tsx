// Daemons: the health records X-Ray daemons send (PutTelemetryRecords):
// per daemon, segments received, sent, spilled over and rejected, and
// backend connection errors, with the segments over time.
import { useMemo } from 'preact/hooks';
import { telemetry, type Daemon } from '../api';
import { resolve } from '../timerange';
import { setParams, useLoad } from '../state';
import { Empty, ErrorBox, Spinner, TimeRangePicker } from '../components/Common';
import { COLORS, TimeChart } from '../components/Chart';
import { fmtAgo, fmtCount, fmtTime } from '../format';

const ERRORS = ['TimeoutCount', 'ConnectionRefusedCount', 'HTTPCode4XXCount', 'HTTPCode5XXCount', 'UnknownHostCount', 'OtherCount'];

// Every daemon's records summed into n buckets of the window.
export function telemetrySeries(daemons: Daemon[], start: number, end: number, n = 60) {
  const w = Math.max(1e-9, (end - start) / n);
  const t = Array.from({ length: n }, (_, i) => start + i * w);
  const received = new Array(n).fill(0);
  const sent = new Array(n).fill(0);
  const rejected = new Array(n).fill(0);
  for (const d of daemons) {
    for (const r of d.Records) {
      const i = Math.floor((r.Timestamp - start) / w);
      if (i < 0 || i >= n) continue;
      received[i] += r.SegmentsReceivedCount ?? 0;
      sent[i] += r.SegmentsSentCount ?? 0;
      rejected[i] += r.SegmentsRejectedCount ?? 0;
    }
  }
  return { t, received, sent, rejected };
}

export function DaemonsPage(props: { params: Record<string, string> }) {
  const range = props.params.range || '1h';
  const win = useMemo(() => resolve(range, undefined, '1h'), [range, props.params.t]);
  const { data, error, loading } = useLoad((s) => telemetry(win, s), [win.start, win.end]);
  const daemons = data?.Daemons || [];
  const s = useMemo(() => telemetrySeries(daemons, win.start, win.end), [daemons, win.start, win.end]);
  const lines = useMemo(() => [
    { label: 'received', values: s.received, color: COLORS.a, bars: true },
    { label: 'sent', values: s.sent, color: COLORS.ok },
    { label: 'rejected', values: s.rejected, color: COLORS.fault },
  ], [s]);
  return (
    <div class="page daemons-page">
      <div class="toolbar">
        <h1>Daemons</h1>
        <TimeRangePicker value={range} onChange={(v) => setParams({ range: v })} />
        {loading && <Spinner />}
      </div>
      {error && <ErrorBox error={error} what="TelemetryRecords" stale={!!data} />}
      {data && daemons.length === 0 && (
        <Empty>No daemon sent telemetry in this range. The X-Ray daemon sends it every minute to the API it forwards segments to (PutTelemetryRecords); SDKs sending UDP straight to Roentgen send none.</Empty>
      )}
      {daemons.length > 0 && (
        <>
          <section class="card">
            <h2>Segments over time (all daemons)</h2>
            <TimeChart t={s.t} lines={lines} testid="daemons-chart" onSelect={(lo, hi) => setParams({ range: `${Math.floor(lo)}-${Math.ceil(hi)}` })} />
          </section>
          <div class="table-wrap">
            <table class="diff daemons" data-testid="daemons-table">
              <thead><tr><th>daemon</th><th>last seen</th><th>records</th><th>received</th><th>sent</th><th>spillover</th><th>rejected</th><th>backend errors</th></tr></thead>
              <tbody>
                {daemons.map((d) => {
                  const name = [d.Hostname, d.EC2InstanceId, d.ResourceARN].filter(Boolean).join(' · ') || '(unnamed)';
                  const errs = ERRORS.reduce((n, k) => n + (d.Totals[k] ?? 0), 0);
                  return (
                    <tr data-daemon={d.Hostname}>
                      <td class="clip" title={name}>{name}</td>
                      <td class="clip" title={fmtTime(d.LastSeen)}>{fmtAgo(d.LastSeen)}</td>
                      <td class="num">{d.RecordCount}</td>
                      <td class="num">{fmtCount(d.Totals.SegmentsReceivedCount)}</td>
                      <td class="num">{fmtCount(d.Totals.SegmentsSentCount)}</td>
                      <td class="num">{fmtCount(d.Totals.SegmentsSpilloverCount)}</td>
                      <td class="num">{fmtCount(d.Totals.SegmentsRejectedCount)}</td>
                      <td class="num" title={ERRORS.map((k) => `${k}: ${d.Totals[k] ?? 0}`).join('\n')}>{errs}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {data?.Truncated && <p class="hint">Only the first 10,000 records are drawn; the totals cover the whole range.</p>}
        </>
      )}
    </div>
  );
}
