// The service map: Cytoscape.js draws the graph (layout, zoom, pan); nodes
// are pies of ok / error / throttle / fault, sized by volume, shaped by kind.
import { useEffect, useRef, useState } from 'preact/hooks';
import type cytoscape from 'cytoscape';
import type { Service } from '../types';
import { model } from '../graphmodel';
import { COLORS } from './Chart';

export type Selection = { kind: 'node'; ref: number } | { kind: 'edge'; from: number; to: number } | undefined;

// Cytoscape is most of the console's code: it loads only when a map shows.
let library: Promise<typeof cytoscape> | undefined;
function loadCytoscape(): Promise<typeof cytoscape> {
  library ??= Promise.all([import('cytoscape'), import('cytoscape-dagre')]).then(([c, d]) => {
    c.default.use(d.default);
    return c.default;
  });
  return library;
}

const SHAPE = { client: 'round-rectangle', service: 'ellipse', aws: 'round-hexagon', remote: 'round-diamond' } as const;

// insights: the reference ids of services with an active insight, drawn
// with a badge (docs/insights.md).
export function ServiceMap(props: { services: Service[]; windowSeconds: number; selected?: Selection; onSelect: (s: Selection) => void; height?: number; search?: string; insights?: Set<number> }) {
  const ref = useRef<HTMLDivElement>(null);
  const cyRef = useRef<cytoscape.Core>();
  const onSelect = useRef(props.onSelect);
  onSelect.current = props.onSelect;

  const [ready, setReady] = useState(0);
  const shape = useRef('');
  useEffect(() => {
    let cancelled = false;
    const m = model(props.services, props.windowSeconds);
    const key = [...m.nodes.map((n) => n.id), ...m.edges.map((e) => e.id)].sort().join(',');
    // Same graph, new numbers (a refresh): update in place, keeping the
    // user's zoom, pan and selection.
    if (cyRef.current && key === shape.current) {
      const cy = cyRef.current;
      for (const el of elements(m, props.insights)) cy.$id(el.data.id).data(el.data);
      return;
    }
    loadCytoscape().then((lib) => {
      if (cancelled) return;
      cyRef.current?.destroy();
      const cy = draw(lib);
      cyRef.current = cy;
      shape.current = key;
      (window as any).__roentgenMap = cy; // for the end-to-end tests
      setReady((n) => n + 1);
    });
    return () => { cancelled = true; };
  }, [props.services, props.windowSeconds, props.insights]);
  useEffect(() => () => { cyRef.current?.destroy(); cyRef.current = undefined; }, []);

  const draw = (cytoscape: typeof import('cytoscape')) => {
    const { nodes, edges } = model(props.services, props.windowSeconds);
    const cy = cytoscape({
      container: ref.current!,
      minZoom: 0.2, maxZoom: 3,
      elements: elements({ nodes, edges }, props.insights),
      style: [
        {
          selector: 'node',
          style: {
            shape: 'data(shape)' as any, width: 'data(size)', height: 'data(size)', 'background-color': '#e2e8f0',
            'border-width': 2, 'border-color': '#94a3b8', label: 'data(label)', 'text-wrap': 'wrap', 'text-valign': 'bottom',
            'text-margin-y': 6, 'font-size': nodeFont, 'text-max-width': nodeTextWidth, color: '#1e293b', 'text-background-color': '#ffffff', 'text-background-opacity': 0.8,
            'text-background-padding': '2px',
            'pie-size': '86%',
            'pie-1-background-color': COLORS.ok, 'pie-1-background-size': 'data(ok)',
            'pie-2-background-color': COLORS.error, 'pie-2-background-size': 'data(error)',
            'pie-3-background-color': COLORS.throttle, 'pie-3-background-size': 'data(throttle)',
            'pie-4-background-color': COLORS.fault, 'pie-4-background-size': 'data(fault)',
          } as any,
        },
        { selector: 'node[kind = "client"]', style: { 'background-color': '#cbd5e1', 'pie-size': '0%' } as any },
        { selector: 'node[insight = 1]', style: { 'border-color': '#dc2626', 'border-width': 5, 'border-style': 'double', color: '#b91c1c' } as any },
        { selector: 'node:selected', style: { 'border-color': '#2563eb', 'border-width': 4 } },
        {
          selector: 'edge',
          style: {
            width: 'data(width)', 'line-color': '#94a3b8', 'target-arrow-color': '#94a3b8', 'target-arrow-shape': 'triangle',
            'curve-style': 'bezier', label: 'data(label)', 'font-size': edgeFont, color: '#475569', 'text-rotation': 'autorotate',
            'text-background-color': '#ffffff', 'text-background-opacity': 0.8, 'text-background-padding': '1px',
          } as any,
        },
        { selector: '.dim', style: { opacity: 0.2 } },
        { selector: 'edge[bad = 1]', style: { 'line-color': '#f1a7a9', 'target-arrow-color': '#f1a7a9' } },
        { selector: 'edge:selected', style: { 'line-color': '#2563eb', 'target-arrow-color': '#2563eb' } },
        // A busy map labels an edge only under the pointer or selected (every
        // number is in the tooltip and the list view), so labels do not pile up.
        ...(edges.length > 6 ? [
          { selector: 'edge', style: { label: '' } },
          { selector: 'edge:selected, edge.hover', style: { label: 'data(label)' } },
        ] : []),
      ],
      // Callers on the left, callees to the right, as requests flow.
      layout: { name: 'dagre', rankDir: 'LR', nodeSep: 70, rankSep: 280, padding: 30 } as any,
    });
    // The whole graph in view on load, a small one not blown up; labels
    // keep a readable on-screen size at any zoom (see readable()).
    fitReadable(cy);
    let pending = 0;
    cy.on('zoom', () => { cancelAnimationFrame(pending); pending = requestAnimationFrame(() => readable(cy)); });
    // Tooltips: the full name and numbers of what is under the pointer.
    cy.on('mouseover', 'node, edge', (ev) => { if (ref.current) ref.current.title = ev.target.data('tip') || ''; ev.target.addClass('hover'); });
    cy.on('mouseout', 'node, edge', (ev) => { if (ref.current) ref.current.title = ''; ev.target.removeClass('hover'); });
    cy.on('tap', 'node', (ev) => onSelect.current({ kind: 'node', ref: ev.target.data('ref') }));
    cy.on('tap', 'edge', (ev) => {
      const [a, b] = [ev.target.data('source'), ev.target.data('target')].map((s: string) => Number(s.slice(1)));
      onSelect.current({ kind: 'edge', from: a, to: b });
    });
    cy.on('tap', (ev) => { if (ev.target === cy) onSelect.current(undefined); });
    return cy;
  };

  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.elements().unselect();
    const s = props.selected;
    if (s?.kind === 'node') cy.$id(`n${s.ref}`).select();
    if (s?.kind === 'edge') cy.$id(`e${s.from}-${s.to}`).select();
  }, [props.selected, ready]);

  // Search: what does not match fades.
  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    const q = (props.search || '').trim().toLowerCase();
    cy.elements().removeClass('dim');
    if (!q) return;
    const miss = cy.nodes().filter((n) => !String(n.data('tip') || '').toLowerCase().includes(q));
    miss.addClass('dim');
    miss.connectedEdges().addClass('dim');
  }, [props.search, ready]);

  const zoom = (f: number) => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.zoom({ level: cy.zoom() * f, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  };
  return (
    <div class="map-wrap">
      <div class="map" ref={ref} style={{ height: `${props.height || 520}px` }} data-testid="service-map" role="img"
        aria-label="service map; the list view below has every node and edge" />
      <div class="map-zoom" role="group" aria-label="map zoom">
        <button type="button" onClick={() => zoom(1.25)} title="zoom in" aria-label="zoom in" data-testid="zoom-in">+</button>
        <button type="button" onClick={() => zoom(0.8)} title="zoom out" aria-label="zoom out" data-testid="zoom-out">−</button>
        <button type="button" onClick={() => cyRef.current && fitReadable(cyRef.current)} title="fit the whole map" aria-label="fit the whole map" data-testid="zoom-fit">fit</button>
      </div>
    </div>
  );
}

// Minimum on-screen label sizes (px): labels grow in model units as the
// map zooms out, so they stay readable whatever the zoom.
export const NODE_LABEL_PX = 12;
export const EDGE_LABEL_PX = 10;
const zoomOf = (ele: cytoscape.SingularElementArgument) => ele.cy().zoom() || 1;
const nodeFont = (ele: cytoscape.SingularElementArgument) => Math.max(NODE_LABEL_PX, NODE_LABEL_PX / zoomOf(ele));
const edgeFont = (ele: cytoscape.SingularElementArgument) => Math.max(EDGE_LABEL_PX, EDGE_LABEL_PX / zoomOf(ele));
const nodeTextWidth = (ele: cytoscape.SingularElementArgument) => `${Math.max(150, 150 / zoomOf(ele))}px`;
// Fits the graph; labels grow as the zoom shrinks, which changes the
// graph's extent, so a few rounds settle both.
export function fitReadable(cy: cytoscape.Core) {
  for (let i = 0; i < 4; i++) {
    cy.fit(undefined, 30);
    if (cy.zoom() > 1.25) {
      cy.zoom(1.25);
      cy.center();
    }
    readable(cy);
  }
}

// Recomputes the zoom-dependent styles above.
export function readable(cy: cytoscape.Core) {
  cy.style().update();
}

// The map shows a node's name and numbers; its type line goes to the
// tooltip and list view (the shape tells the kind), so labels stay two lines.
function shortLabel(label: string): string {
  const lines = label.split('\n').map((l) => clipLine(l));
  return (lines.length > 2 ? [lines[0], ...lines.slice(2)] : lines).join('\n');
}

// Long names are clipped on the map (whole in the tooltip and list view).
const clipLine = (l: string, n = 40) => (l.length > n ? l.slice(0, n - 1) + '…' : l);

function elements({ nodes, edges }: ReturnType<typeof model>, insights?: Set<number>) {
  const nameOf = new Map(nodes.map((n) => [n.id, n.name]));
  const pct = (n: number, t: number) => (t ? (n / t) * 100 : 0);
  return [
    ...nodes.map((n) => ({
      group: 'nodes' as const,
      data: {
        id: n.id, ref: n.ref, kind: n.kind, size: n.size, shape: SHAPE[n.kind],
        ...(insights?.has(n.ref)
          ? { insight: 1, label: '⚠ ' + shortLabel(n.label), tip: `${n.label}\nactive insight: its rates left their expected band` }
          : { insight: 0, label: shortLabel(n.label), tip: n.label }),
        ok: n.shares.total ? pct(n.shares.ok, n.shares.total) : 100, error: pct(n.shares.error, n.shares.total),
        throttle: pct(n.shares.throttle, n.shares.total), fault: pct(n.shares.fault, n.shares.total),
      },
    })),
    ...edges.map((e) => ({ group: 'edges' as const, data: { id: e.id, source: e.source, target: e.target, label: e.label, tip: `${nameOf.get(e.source) ?? '?'} → ${nameOf.get(e.target) ?? '?'}\n${e.label}`, width: e.width, bad: e.shares.fault > 0 ? 1 : 0 } })),
  ];
}

export function Legend() {
  return (
    <div class="legend">
      <span><i style={{ background: COLORS.ok }} />ok</span>
      <span><i style={{ background: COLORS.error }} />error (4xx)</span>
      <span><i style={{ background: COLORS.throttle }} />throttle (429)</span>
      <span><i style={{ background: COLORS.fault }} />fault (5xx)</span>
      <span class="shapes">▭ client · ◯ service · ⬡ AWS resource · ◇ remote</span>
    </div>
  );
}
