// The URL holds the console's state: "#/<page>[/<id>]?key=value&...", so
// any view can be shared as a link.

export interface Route { page: string; id?: string; params: Record<string, string> }

export function parse(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const q = h.indexOf('?');
  const path = q >= 0 ? h.slice(0, q) : h;
  const params: Record<string, string> = {};
  if (q >= 0) new URLSearchParams(h.slice(q + 1)).forEach((v, k) => { params[k] = v; });
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'map', id: parts[1], params };
}

export function format(r: Route): string {
  let s = '#/' + encodeURIComponent(r.page);
  if (r.id) s += '/' + encodeURIComponent(r.id);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(r.params)) if (v !== '' && v != null) q.set(k, v);
  const qs = q.toString();
  return qs ? `${s}?${qs}` : s;
}

// A link to a page, carrying over the shared params (range, group).
export function link(page: string, params: Record<string, string | undefined> = {}, id?: string): string {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') clean[k] = v;
  return format({ page, id, params: clean });
}
