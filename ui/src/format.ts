// Formatting helpers: every number and time the console shows goes through here.

// Seconds as a short human duration: 850µs, 12.3ms, 1.24s, 2m 05s.
export function fmtDuration(s: number | undefined | null): string {
  if (s == null || !Number.isFinite(s)) return '—';
  if (s < 0) return '-' + fmtDuration(-s);
  if (s === 0) return '0ms';
  if (s < 0.001) return `${Math.round(s * 1e6)}µs`;
  if (s < 1) {
    const ms = s * 1000;
    return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)}ms`;
  }
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return `${m}m ${String(rest).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

// Every time the console shows is in one zone, local or UTC, chosen in the
// header and kept in localStorage; the format always names the zone.
export type Zone = 'local' | 'utc';
let zone: Zone = (() => { try { return localStorage.getItem('roentgen.tz') === 'utc' ? 'utc' : 'local'; } catch { return 'local'; } })();
export const ZONE_CHANGED = 'roentgen-zone';
export function timeZone(): Zone { return zone; }
export function setTimeZone(z: Zone) {
  zone = z;
  try { localStorage.setItem('roentgen.tz', z); } catch { /* private mode */ }
  dispatchEvent(new Event(ZONE_CHANGED));
}

// Epoch seconds as "YYYY-MM-DD HH:MM:SS.mmm <zone>": "UTC", or the local
// offset ("+01:00").
export function fmtTime(epoch: number | undefined, withMillis = true, z: Zone = zone): string {
  if (epoch == null || !Number.isFinite(epoch)) return '—';
  const d = new Date(epoch * 1000);
  const u = z === 'utc';
  const base = u
    ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const ms = withMillis ? `.${pad(u ? d.getUTCMilliseconds() : d.getMilliseconds(), 3)}` : '';
  return `${base}${ms} ${u ? 'UTC' : offset(d)}`;
}

function offset(d: Date): string {
  const m = -d.getTimezoneOffset();
  return `${m < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(m) / 60))}:${pad(Math.abs(m) % 60)}`;
}

// How long ago, relative to now (both epoch seconds).
export function fmtAgo(epoch: number | undefined, now = Date.now() / 1000): string {
  if (epoch == null) return '—';
  const d = Math.max(0, now - epoch);
  if (d < 60) return `${Math.floor(d)}s ago`;
  if (d < 3600) return `${Math.floor(d / 60)}m ago`;
  if (d < 86400) return `${Math.floor(d / 3600)}h ago`;
  return `${Math.floor(d / 86400)}d ago`;
}

export function fmtCount(n: number | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  if (Math.abs(n) < 1000) return String(Math.round(n * 100) / 100);
  if (Math.abs(n) < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

export function fmtPercent(x: number | undefined, digits = 1): string {
  if (x == null || !Number.isFinite(x)) return '—';
  return `${(x * 100).toFixed(digits)}%`;
}

// Requests per minute from a count over a window in seconds.
export function fmtRate(count: number, windowSeconds: number): string {
  if (windowSeconds <= 0) return '—';
  const perMin = (count / windowSeconds) * 60;
  return `${perMin < 10 ? perMin.toFixed(2) : perMin.toFixed(0)}/min`;
}

// A JSON annotation value as the filter language writes it.
export function fmtValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v == null) return '';
  return String(v);
}

// Quotes a string for the filter language.
export function quote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}
