// The critical path of a trace: the spans its response time actually waited
// on. Walking back from the entry segment's end, the parent waited on the
// child that finished last before that moment; before that child started,
// on the one that finished last before then; and so on, inside each chosen
// child in turn. A child that ends after its parent (work the parent did not
// wait for) is never on the path; where children overlap, only the part of
// the earlier one before the later one started counts.
import type { Row } from './tracetree';

interface Span { row: Row; children: Span[] }

// The tree of rows (depth-first, as buildRows makes them).
function tree(rows: Row[]): Span[] {
  const roots: Span[] = [];
  const stack: Span[] = [];
  for (const row of rows) {
    const s: Span = { row, children: [] };
    while (stack.length && stack[stack.length - 1].row.depth >= row.depth) stack.pop();
    if (stack.length) stack[stack.length - 1].children.push(s);
    else roots.push(s);
    stack.push(s);
  }
  return roots;
}

// Ids of the rows on the critical path of the first root (the entry
// segment), in the order the path visits them (latest first).
export function criticalPath(rows: Row[]): string[] {
  const root = tree(rows)[0];
  if (!root) return [];
  const out: string[] = [];
  const walk = (s: Span, until: number) => {
    out.push(s.row.id);
    let cursor = Math.min(s.row.end, until);
    const left = s.children.filter((c) => c.row.end <= s.row.end && c.row.start >= s.row.start);
    for (;;) {
      let best: Span | undefined;
      let bestEnd = -Infinity;
      for (const c of left) {
        if (c.row.start >= cursor) continue;
        const e = Math.min(c.row.end, cursor);
        if (e > bestEnd || (e === bestEnd && best && c.row.start < best.row.start)) { best = c; bestEnd = e; }
      }
      if (!best) return;
      left.splice(left.indexOf(best), 1);
      walk(best, bestEnd);
      cursor = best.row.start;
    }
  };
  walk(root, root.row.end);
  return out;
}
