// Pieces every page uses: the time range picker, the group selector, the
// filter box, error and empty states.
import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { RELATIVE, absolute, fromLocalInput, isRelative, label, resolve, toLocalInput } from '../timerange';
import { ApiError, groups } from '../api';
import { errorPosition } from '../filtererror';
import type { Group } from '../types';
import { useLoad } from '../state';

export function TimeRangePicker(props: { value: string; onChange: (v: string) => void }) {
  const [open, setOpen] = useState(false);
  const r = resolve(props.value);
  const [from, setFrom] = useState(toLocalInput(r.start));
  const [to, setTo] = useState(toLocalInput(r.end));
  useEffect(() => { const x = resolve(props.value); setFrom(toLocalInput(x.start)); setTo(toLocalInput(x.end)); }, [props.value, open]);
  return (
    <div class="range" data-testid="time-range">
      <select aria-label="time range" value={isRelative(props.value) ? props.value : 'abs'}
        onChange={(e) => { const v = (e.target as HTMLSelectElement).value; if (v === 'abs') setOpen(true); else { setOpen(false); props.onChange(v); } }}>
        {RELATIVE.map((v) => <option value={v}>last {v}</option>)}
        <option value="abs">{isRelative(props.value) ? 'absolute…' : label(props.value)}</option>
      </select>
      {open && (
        <form class="abs" onSubmit={(e) => {
          e.preventDefault();
          const a = fromLocalInput(from);
          const b = fromLocalInput(to);
          if (a != null && b != null && b > a) { props.onChange(absolute(a, b)); setOpen(false); }
        }}>
          <input type="datetime-local" aria-label="from" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
          <span>→</span>
          <input type="datetime-local" aria-label="to" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
          <button type="submit">apply</button>
        </form>
      )}
    </div>
  );
}

export function GroupSelect(props: { value: string; onChange: (v: string) => void }) {
  const { data, error } = useLoad((s) => groups(s), []);
  const list: Group[] = data || [];
  return (
    <select aria-label="group" data-testid="group-select" value={props.value || 'Default'} title={error ? `groups: ${error.message}` : 'group'}
      onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
      {!list.some((g) => g.GroupName === 'Default') && <option value="Default">Default</option>}
      {list.map((g) => <option value={g.GroupName}>{g.GroupName}</option>)}
      {props.value && props.value !== 'Default' && !list.some((g) => g.GroupName === props.value) && <option value={props.value}>{props.value}</option>}
    </select>
  );
}

// The filter expression box. The server's error message appears under it,
// with a caret at the place it names.
export function FilterBox(props: { value: string; onSubmit: (v: string) => void; error?: Error; placeholder?: string; testid?: string }) {
  const [text, setText] = useState(props.value);
  useEffect(() => setText(props.value), [props.value]);
  const err = props.error;
  const pos = err ? errorPosition(err.message, props.value) : undefined;
  return (
    <form class="filter" data-testid={props.testid || 'filter'} onSubmit={(e) => { e.preventDefault(); props.onSubmit(text); }}>
      <div class="filter-row">
        <input class={err ? 'bad' : ''} type="text" spellcheck={false} value={text} aria-label="filter expression" aria-invalid={!!err}
          placeholder={props.placeholder || 'filter expression, e.g. service("api") { fault } AND responsetime > 0.5'}
          onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit">apply</button>
        {props.value && <button type="button" class="ghost" onClick={() => { setText(''); props.onSubmit(''); }}>clear</button>}
      </div>
      {err && (
        <div class="filter-error" role="alert" data-testid="filter-error">
          {pos != null && <pre class="caret">{props.value}{'\n'}{' '.repeat(pos)}^</pre>}
          <span>{err.message}</span>
        </div>
      )}
    </form>
  );
}

// The error to show under a filter box: the server rejected the request
// (not an unimplemented operation or a network failure) while a filter was set.
export function filterError(e: Error | undefined, filter: string): Error | undefined {
  if (!e || !filter.trim() || !(e instanceof ApiError) || e.type !== 'InvalidRequestException') return undefined;
  return notImplemented(e) ? undefined : e;
}

export function notImplemented(e: Error): boolean {
  return /not (yet )?(supported|implemented)|not implemented yet/i.test(e.message);
}

// stale: the page still shows the last data it loaded, under this banner.
export function ErrorBox(props: { error: Error; what?: string; stale?: boolean }) {
  const e = props.error;
  const missing = notImplemented(e);
  return (
    <div class={missing ? 'noticebox' : 'errbox'} role="alert" data-testid="error-box">
      <b>{props.what ? `${props.what}: ` : ''}{e instanceof ApiError ? e.type : 'Error'}</b> {e.message}
      {props.stale && <span class="stale"> Showing the last data loaded.</span>}
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty" data-testid="empty">{props.children}</div>;
}

export function Spinner() {
  return <span class="spinner" aria-label="loading">loading…</span>;
}

// The sentence an empty console shows, with the real UDP address.
export function noTraces(udp?: string) {
  return `No traces yet: point an SDK at udp ${udp || '127.0.0.1:2000'} (AWS_XRAY_DAEMON_ADDRESS), or run \`roentgen demo\` to see a living console.`;
}

// "live": re-query every few seconds while the range is relative ("last
// 15m"), so the page follows new traffic. The switch is in the URL.
export function LiveToggle(props: { on: boolean; range: string; onChange: (on: boolean) => void }) {
  return (
    <label class="live" title={isRelative(props.range) ? 'refresh every 10 seconds' : 'live needs a relative time range'}>
      <input type="checkbox" checked={props.on} disabled={!isRelative(props.range)} data-testid="live"
        onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)} /> live
    </label>
  );
}

export function useTick(enabled: boolean, ms = 10000): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!enabled) return;
    const t = setInterval(() => { if (document.visibilityState === 'visible') setN((x) => x + 1); }, ms);
    return () => clearInterval(t);
  }, [enabled, ms]);
  return n;
}

// A long value clipped to max characters, with a button to show it all.
export function Clip(props: { text: string; max?: number }) {
  const max = props.max ?? 300;
  const [open, setOpen] = useState(false);
  if (props.text.length <= max || open) return <>{props.text}</>;
  return (
    <>
      {props.text.slice(0, max)}…{' '}
      <button type="button" class="link inline" data-testid="expand" onClick={() => setOpen(true)}>
        show all {props.text.length.toLocaleString('en')} characters
      </button>
    </>
  );
}
