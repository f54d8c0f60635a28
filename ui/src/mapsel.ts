// Deep links to a map selection by service NAME (and type when two
// services share a name), not by ReferenceId, which changes as services
// come and go: "node:<name>[::<type>]", "edge:<from> -> <to>".
import type { Service } from './types';
import type { Selection } from './components/ServiceMap';

const key = (s: Service) => (s.Type ? `${s.Name ?? ''}::${s.Type}` : s.Name ?? '');

function find(services: Service[], k: string): Service | undefined {
  return services.find((s) => key(s) === k) ?? services.find((s) => (s.Name ?? '') === k);
}

export function parseSel(text: string | undefined, services: Service[]): Selection {
  const s = text || '';
  if (s.startsWith('node:')) {
    const svc = find(services, s.slice(5));
    return svc ? { kind: 'node', ref: svc.ReferenceId } : undefined;
  }
  if (s.startsWith('edge:')) {
    const [a, b] = s.slice(5).split(' -> ');
    const from = a != null ? find(services, a) : undefined;
    const to = b != null ? find(services, b) : undefined;
    return from && to ? { kind: 'edge', from: from.ReferenceId, to: to.ReferenceId } : undefined;
  }
  return undefined;
}

export function formatSel(sel: Selection, services: Service[]): string | undefined {
  if (!sel) return undefined;
  const byRef = (r: number) => services.find((s) => s.ReferenceId === r);
  // A name shared by two services carries its type.
  const name = (s: Service) => (services.filter((x) => x.Name === s.Name).length > 1 ? key(s) : s.Name ?? '');
  if (sel.kind === 'node') {
    const s = byRef(sel.ref);
    return s ? `node:${name(s)}` : undefined;
  }
  const a = byRef(sel.from);
  const b = byRef(sel.to);
  return a && b ? `edge:${name(a)} -> ${name(b)}` : undefined;
}
