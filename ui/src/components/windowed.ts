// Windowed rendering for long lists in the page's own scroll: only rows
// near the viewport are rendered; spacers keep the scroll height.
import { useEffect, useState } from 'preact/hooks';
import type { RefObject } from 'preact';

export function windowRange(count: number, rowHeight: number, top: number, viewport: number, overscan = 10): { first: number; last: number } {
  const first = Math.max(0, Math.floor(-top / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((viewport - top) / rowHeight) + overscan);
  return { first: Math.min(first, last), last };
}

export function useWindowed(ref: RefObject<HTMLElement>, count: number, rowHeight: number, enabled: boolean) {
  const [range, setRange] = useState(() => windowRange(count, rowHeight, 0, typeof innerHeight === 'number' ? innerHeight : 1000));
  useEffect(() => {
    if (!enabled) return;
    let raf = 0;
    const update = () => {
      raf = 0;
      const el = ref.current;
      if (!el) return;
      const next = windowRange(count, rowHeight, el.getBoundingClientRect().top, innerHeight);
      setRange((r) => (r.first === next.first && r.last === next.last ? r : next));
    };
    const schedule = () => { if (!raf) raf = requestAnimationFrame(update); };
    update();
    addEventListener('scroll', schedule, { passive: true });
    addEventListener('resize', schedule);
    return () => { removeEventListener('scroll', schedule); removeEventListener('resize', schedule); cancelAnimationFrame(raf); };
  }, [count, rowHeight, enabled]);
  return enabled ? range : { first: 0, last: count };
}
