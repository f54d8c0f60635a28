// URL-held state: the current route and a way to change it.
import { useEffect, useState } from 'preact/hooks';
import { format, parse, type Route } from './route';

export function currentRoute(): Route {
  return parse(location.hash);
}

export function useRoute(): Route {
  const [r, setR] = useState(currentRoute);
  useEffect(() => {
    const on = () => setR(currentRoute());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

// Changes URL params of the current page; replace keeps history clean for
// typing-style changes.
export function setParams(changes: Record<string, string | undefined>, replace = false) {
  const r = currentRoute();
  const params = { ...r.params };
  for (const [k, v] of Object.entries(changes)) {
    if (v == null || v === '') delete params[k];
    else params[k] = v;
  }
  go({ ...r, params }, replace);
}

export function go(r: Route, replace = false) {
  const h = format(r);
  if (h === location.hash) return;
  if (replace) {
    history.replaceState(null, '', h);
    dispatchEvent(new HashChangeEvent('hashchange'));
  } else location.hash = h;
}

// Runs an async loader whenever deps change; aborts the previous run.
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    setState((s) => ({ data: s.data, loading: true }));
    load(ac.signal).then(
      (data) => { if (!ac.signal.aborted) setState({ data, loading: false }); },
      // The last good data stays on screen under the error's banner.
      (error) => { if (!ac.signal.aborted) setState((s) => ({ data: s.data, error, loading: false })); },
    );
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}
