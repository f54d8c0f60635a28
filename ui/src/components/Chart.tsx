// uPlot charts: a histogram whose x-drag reports a range, and a time series.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Bins } from '../histogram';
import { fmtDuration, timeZone } from '../format';

export const COLORS = { ok: '#3fb37f', error: '#e8a33d', throttle: '#8b5cf6', fault: '#e5484d', a: '#3b82f6', b: '#f97316', avg: '#64748b' };

function useUPlot(make: (el: HTMLElement, width: number) => uPlot, deps: unknown[]) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current!;
    const plot = make(el, el.clientWidth || 600);
    const ro = new ResizeObserver(() => plot.setSize({ width: el.clientWidth || 600, height: plot.height }));
    ro.observe(el);
    return () => { ro.disconnect(); plot.destroy(); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return ref;
}

export interface HistSeries { label: string; counts: number[]; color: string }

// A response-time histogram; dragging across it calls onSelect(lo, hi) in seconds.
export function Histogram(props: { bins: Bins; series?: HistSeries[]; percent?: boolean; height?: number; onSelect?: (lo: number, hi: number) => void; testid?: string }) {
  const { bins } = props;
  const series = props.series || [{ label: 'traces', counts: bins.counts, color: COLORS.a }];
  const ref = useUPlot((el, width) => {
    const xs = bins.edges.slice(0, -1);
    const step = bins.edges[1] - bins.edges[0] || 1;
    return new uPlot({
      width, height: props.height || 140,
      legend: { show: series.length > 1 },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      scales: { x: { time: false, range: () => [bins.edges[0], bins.edges[bins.edges.length - 1]] } },
      axes: [
        { values: (_u, vals) => vals.map((v) => fmtDuration(v)), size: 30 },
        { size: 52, values: props.percent ? (_u, vals) => vals.map((v) => `${Math.round(v * 100)}%`) : undefined },
      ],
      series: [
        { label: 'response time', value: (_u, v) => (v == null ? '' : `${fmtDuration(v)}–${fmtDuration(v + step)}`) },
        ...series.map((s) => ({
          label: s.label, stroke: s.color, fill: s.color + '99', width: 1,
          paths: uPlot.paths.bars!({ size: [1 / series.length, Infinity], align: 1 }),
          points: { show: false },
        })),
      ],
      hooks: {
        setSelect: [(u) => {
          if (!props.onSelect || u.select.width < 2) return;
          const lo = Math.max(0, u.posToVal(u.select.left, 'x'));
          const hi = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          props.onSelect(lo, hi);
        }],
      },
    }, [xs, ...series.map((s) => s.counts)], el);
  }, [bins, props.series, props.onSelect]);
  // The keyboard's way to the same selection: arrows move along the
  // buckets, Shift+arrows extend, Enter narrows the filter to them.
  const [kb, setKb] = useState<{ from: number; to: number } | undefined>();
  const n = bins.counts.length;
  const onKey = (e: KeyboardEvent) => {
    if (!props.onSelect || !n) return;
    const cur = kb ?? { from: 0, to: 0 };
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (step) {
      e.preventDefault();
      const to = Math.max(0, Math.min(n - 1, cur.to + step));
      setKb(e.shiftKey ? { from: cur.from, to } : { from: to, to });
    } else if (e.key === 'Enter' && kb) {
      e.preventDefault();
      const [a, b] = [Math.min(kb.from, kb.to), Math.max(kb.from, kb.to)];
      props.onSelect(bins.edges[a], bins.edges[b + 1]);
    } else if (e.key === 'Escape') setKb(undefined);
  };
  const sel = kb && (() => {
    const [a, b] = [Math.min(kb.from, kb.to), Math.max(kb.from, kb.to)];
    let c = 0;
    for (let i = a; i <= b; i++) c += series[0].counts[i] ?? 0;
    return `${fmtDuration(bins.edges[a])}–${fmtDuration(bins.edges[b + 1])}: ${props.percent ? `${Math.round(c * 100)}%` : `${c} traces`}`;
  })();
  return (
    <div class="chart-wrap">
      <div class="chart" ref={ref} data-testid={props.testid} tabIndex={props.onSelect ? 0 : undefined} onKeyDown={onKey}
        role={props.onSelect ? 'application' : undefined}
        aria-label={props.onSelect ? 'response-time histogram: arrow keys pick buckets, Shift+arrows extend, Enter narrows the filter to them' : 'response-time histogram'}
        title={props.onSelect ? 'drag across the chart (or use the arrow keys and Enter) to select a response-time range' : undefined} />
      {props.onSelect && <div class="hint kb-sel" aria-live="polite" data-testid={props.testid ? `${props.testid}-kb` : undefined}>{sel ? `selected ${sel} (Enter to filter)` : ''}</div>}
    </div>
  );
}

export interface TimeLine { label: string; values: (number | null)[]; color: string; scale?: string; bars?: boolean }

// Bar series are stacked (in the order given, first on top) so the
// outcomes of a period add up to its total; the legend shows each
// series' own value.
export function stack(lines: TimeLine[]): (number | null)[][] {
  const bars = lines.map((l, i) => (l.bars ? i : -1)).filter((i) => i >= 0);
  return lines.map((l, i) => {
    if (!l.bars) return l.values;
    const below = bars.filter((j) => j >= i);
    return l.values.map((_, k) => below.reduce((sum, j) => sum + (lines[j].values[k] ?? 0), 0));
  });
}

export function TimeChart(props: { t: number[]; lines: TimeLine[]; height?: number; legend?: boolean; testid?: string; onSelect?: (lo: number, hi: number) => void }) {
  const ref = useUPlot((el, width) => new uPlot({
    width, height: props.height || 160,
    legend: { show: props.legend !== false },
    cursor: { drag: { x: true, y: false, setScale: false } },
    // The time axis follows the console's zone switch.
    tzDate: (ts: number) => (timeZone() === 'utc' ? uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC') : new Date(ts * 1e3)),
    scales: { s: { auto: true } },
    axes: [{}, { scale: 'y', size: 44 }, { scale: 's', side: 1, values: (_u, v) => v.map((x) => fmtDuration(x)), grid: { show: false }, size: 56 }],
    series: [
      {},
      ...props.lines.map((l) => ({
        label: l.label, stroke: l.color, fill: l.bars ? l.color + 'cc' : undefined, scale: l.scale || 'y', width: l.bars ? 0 : 1.5,
        paths: l.bars ? uPlot.paths.bars!({ size: [0.9, Infinity] }) : undefined, points: { show: false },
        value: (_u: uPlot, v: number | null, _si: number, idx: number | null) => {
          if (idx == null) return '--';
          const raw = l.values[idx];
          return raw == null ? '--' : l.scale === 's' ? fmtDuration(raw) : String(raw);
        },
      })),
    ],
    hooks: {
      setSelect: [(u) => {
        if (!props.onSelect || u.select.width < 2) return;
        const lo = u.posToVal(u.select.left, 'x');
        const hi = u.posToVal(u.select.left + u.select.width, 'x');
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        props.onSelect(lo, hi);
      }],
    },
  }, [props.t, ...stack(props.lines)] as uPlot.AlignedData, el), [props.t, props.lines, timeZone()]);
  return <div class="chart" ref={ref} data-testid={props.testid} />;
}
