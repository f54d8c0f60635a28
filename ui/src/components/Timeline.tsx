// The trace timeline (waterfall), virtualised: only the rows in view are in
// the DOM, so a trace of thousands of subsegments scrolls smoothly.
import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { bar, span, ticks, visibleRows, type Row } from '../tracetree';
import { fmtDuration } from '../format';

export const ROW_HEIGHT = 24;
const OVERSCAN = 12;

export function Timeline(props: { rows: Row[]; selected?: string; onSelect: (id: string) => void; height?: number; critical?: Set<string> }) {
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [scrollTop, setScrollTop] = useState(0);
  const scroller = useRef<HTMLDivElement>(null);
  const t = useMemo(() => span(props.rows), [props.rows]);
  const shown = useMemo(() => visibleRows(props.rows, collapsed), [props.rows, collapsed]);
  const height = props.height || 480;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const total = t.end - t.start;
  const axis = ticks(total);

  // Bring the selected row into view when it is chosen from the URL.
  useLayoutEffect(() => {
    const i = shown.findIndex((r) => r.id === props.selected);
    const el = scroller.current;
    if (i < 0 || !el) return;
    const y = i * ROW_HEIGHT;
    if (y < el.scrollTop || y > el.scrollTop + height - ROW_HEIGHT) el.scrollTop = Math.max(0, y - height / 3);
  }, [props.selected, props.rows]);

  const toggle = (id: string) => {
    const next = new Set(collapsed);
    if (next.has(id)) next.delete(id); else next.add(id);
    setCollapsed(next);
  };
  const withKids = props.rows.filter((r) => r.hasChildren);
  const [find, setFind] = useState('');
  const q = find.trim().toLowerCase();
  const matches = useMemo(() => (q ? shown.filter((r) => r.name.toLowerCase().includes(q)) : []), [shown, q]);
  const jump = (dir: 1 | -1) => {
    if (!matches.length) return;
    const at = shown.findIndex((r) => r.id === props.selected);
    const next = dir > 0 ? matches.find((r) => shown.indexOf(r) > at) || matches[0]
      : [...matches].reverse().find((r) => shown.indexOf(r) < at) || matches[matches.length - 1];
    props.onSelect(next.id);
  };
  // Arrow keys move the selection; left and right collapse and expand.
  const onKey = (e: KeyboardEvent) => {
    const i = shown.findIndex((r) => r.id === props.selected);
    const r = shown[i];
    if (e.key === 'ArrowDown' && i < shown.length - 1) props.onSelect(shown[i + 1].id);
    else if (e.key === 'ArrowUp' && i > 0) props.onSelect(shown[i - 1].id);
    else if (e.key === 'ArrowLeft' && r?.hasChildren && !collapsed.has(r.id)) toggle(r.id);
    else if (e.key === 'ArrowRight' && r?.hasChildren && collapsed.has(r.id)) toggle(r.id);
    else return;
    e.preventDefault();
  };
  return (
    <div class="timeline" data-testid="timeline">
      <div class="tl-tools">
        <span data-testid="segment-count">{props.rows.length} segments and subsegments</span>
        <button class="ghost" onClick={() => setCollapsed(new Set())}>expand all</button>
        <button class="ghost" onClick={() => setCollapsed(new Set(withKids.filter((r) => r.depth >= 1).map((r) => r.id)))}>collapse subsegments</button>
        <form class="tl-find" onSubmit={(e) => { e.preventDefault(); jump(1); }}>
          <input type="search" placeholder="find by name" aria-label="find in timeline" value={find} data-testid="timeline-find"
            onInput={(e) => setFind((e.target as HTMLInputElement).value)}
            onKeyDown={(e) => { if (e.key === 'Enter' && e.shiftKey) { e.preventDefault(); jump(-1); } }} />
          {q && <span class="hint" data-testid="find-count">{matches.length} found</span>}
        </form>
      </div>
      <div class="tl-head">
        <div class="tl-name">name</div>
        <div class="tl-axis">
          {axis.map((x) => <span style={{ left: `${total ? (x / total) * 100 : 0}%` }}>{fmtDuration(x)}</span>)}
        </div>
      </div>
      <div class="tl-body" ref={scroller} tabIndex={0} onKeyDown={onKey} style={{ height: `${height}px` }} onScroll={(e) => setScrollTop((e.target as HTMLElement).scrollTop)}>
        <div style={{ height: `${shown.length * ROW_HEIGHT}px`, position: 'relative' }}>
          {shown.slice(first, last).map((r, i) => {
            const b = bar(r, t);
            const isCollapsed = collapsed.has(r.id);
            return (
              <div key={r.id + ':' + (first + i)} class={`tl-row ${r.kind} ${r.status} ${props.selected === r.id ? 'sel' : ''} ${q && r.name.toLowerCase().includes(q) ? 'match' : ''} ${props.critical?.has(r.id) ? 'critical' : ''}`}
                style={{ top: `${(first + i) * ROW_HEIGHT}px` }} data-row-id={r.id} onClick={() => props.onSelect(r.id)}>
                <div class="tl-name" style={{ paddingLeft: `${6 + r.depth * 14}px` }} title={r.name}>
                  {r.hasChildren ? (
                    <button class="twist" aria-label={isCollapsed ? 'expand' : 'collapse'} onClick={(e) => { e.stopPropagation(); toggle(r.id); }}>{isCollapsed ? '▸' : '▾'}</button>
                  ) : <span class="twist" />}
                  <span class="tl-label">{r.name}</span>
                  {r.kind !== 'subsegment' && <span class={`tag ${r.kind}`}>{r.kind === 'inferred' ? 'inferred' : r.doc.origin || 'segment'}</span>}
                </div>
                <div class="tl-track">
                  <div class={`tl-bar ${r.status}`} style={{ left: `${b.left}%`, width: `${b.width}%` }} />
                  {b.left + b.width > 88 && b.width > 12
                    ? <span class="tl-dur inside" style={{ left: `${b.left + b.width}%` }}>{fmtDuration(r.end - r.start)}</span>
                    : <span class="tl-dur" style={{ left: `${Math.min(b.left + b.width, 92)}%` }}>{fmtDuration(r.end - r.start)}</span>}
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
