// Keep policies (docs/keep.md) as the console edits them: an ordered list,
// first match wins, and where the server's refusal points.
export interface KeepPolicy { Name: string; FilterExpression: string; KeepRate: number }
export interface KeepCount { Policy: string; Kept: number; Dropped: number }
export interface KeepPolicies { Policies: KeepPolicy[]; DefaultKeepRate: number; Decisions?: KeepCount[] }

// move returns the list with item i moved by delta places (order decides).
export function move<T>(list: T[], i: number, delta: number): T[] {
  const j = i + delta;
  if (i < 0 || i >= list.length || j < 0 || j >= list.length) return list;
  const out = [...list];
  const [x] = out.splice(i, 1);
  out.splice(j, 0, x);
  return out;
}

// refusal finds which policy and member a PutKeepPolicies refusal names
// ("Policies[2].FilterExpression: expected ..."), and the message without
// that prefix, so the form can show it beside the field.
export function refusal(message: string): { index?: number; field?: string; text: string } {
  const m = /^Policies\[(\d+)\]\.(\w+):\s*(.*)$/s.exec(message);
  if (m) return { index: Number(m[1]), field: m[2], text: m[3] };
  const d = /^(DefaultKeepRate):\s*(.*)$/s.exec(message);
  if (d) return { field: 'DefaultKeepRate', text: d[2] };
  return { text: message };
}

// nextName is a name no policy in the list uses yet.
export function nextName(list: KeepPolicy[]): string {
  const used = new Set(list.map((p) => p.Name));
  for (let i = 1; ; i++) if (!used.has(`policy-${i}`)) return `policy-${i}`;
}
