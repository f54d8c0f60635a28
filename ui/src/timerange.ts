import { fmtTime } from './format';
// Time ranges as the URL holds them: relative ("15m", "3h", "2d") or
// absolute ("<epoch>-<epoch>" in seconds).

export const RELATIVE = ['5m', '15m', '1h', '3h', '6h', '12h', '24h', '3d', '7d'] as const;

export interface Range { start: number; end: number }

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

// Resolves a range against now (epoch seconds). Unknown input falls back to
// the default so a bad link still opens.
export function resolve(spec: string | undefined, now = Date.now() / 1000, fallback = '15m'): Range {
  const s = (spec || fallback).trim();
  const rel = /^(\d+(?:\.\d+)?)([smhd])$/.exec(s);
  if (rel) {
    const len = parseFloat(rel[1]) * UNIT[rel[2]];
    if (len > 0) return { start: now - len, end: now };
  }
  const abs = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(s);
  if (abs) {
    const a = parseFloat(abs[1]);
    const b = parseFloat(abs[2]);
    if (b > a) return { start: a, end: b };
  }
  return spec === fallback ? { start: now - 900, end: now } : resolve(fallback, now, fallback);
}

export function absolute(start: number, end: number): string {
  return `${Math.floor(start)}-${Math.ceil(end)}`;
}

export function isRelative(spec: string): boolean {
  return /^\d+(?:\.\d+)?[smhd]$/.test(spec);
}

export function label(spec: string): string {
  if (isRelative(spec)) return `last ${spec}`;
  const r = resolve(spec);
  const f = (t: number) => fmtTime(t, false);
  return `${f(r.start)} → ${f(r.end)}`;
}

// Value for an <input type="datetime-local"> from epoch seconds, and back.
export function toLocalInput(epoch: number): string {
  const d = new Date(epoch * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
export function fromLocalInput(v: string): number | undefined {
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? t / 1000 : undefined;
}
