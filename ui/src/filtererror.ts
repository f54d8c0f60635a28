// Finds where in a filter expression the server's error points, so the
// console can mark it. The server names a 1-based column or a 0-based
// offset ("at column 12", "position 11", "offset 11", "col 12").
export function errorPosition(message: string, filter: string): number | undefined {
  // The last column named is where the problem is ("expected ')' to close
  // the '(' at column 3 but found end at column 12").
  const cols = [...message.matchAll(/\b(?:column|col)\s*:?\s*(\d+)/gi)];
  if (cols.length) return clamp(parseInt(cols[cols.length - 1][1], 10) - 1, filter);
  const off = /\b(?:position|offset|pos|char(?:acter)?)\s*:?\s*(\d+)/i.exec(message);
  if (off) return clamp(parseInt(off[1], 10), filter);
  // A quoted token from the expression: point at its first occurrence.
  const tok = /(?:near|at|unexpected|token)\s+["'`]([^"'`]+)["'`]/i.exec(message);
  if (tok) {
    const i = filter.indexOf(tok[1]);
    if (i >= 0) return i;
  }
  return undefined;
}

function clamp(i: number, filter: string): number {
  return Math.max(0, Math.min(filter.length, i));
}
