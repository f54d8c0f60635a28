// Download a trace as JSON; import one from a file to view it (kept in
// sessionStorage and shown at #/traces/imported).
import { useState } from 'preact/hooks';
import { parseTraceFile, traceFile } from '../tracefile';
import { go } from '../state';
import type { Trace } from '../types';

export const IMPORTED = 'imported';
const KEY = 'roentgen.imported';

export function importedTrace(): Trace | undefined {
  const s = sessionStorage.getItem(KEY);
  return s ? parseTraceFile(s) : undefined;
}

export function DownloadTrace(props: { trace: Trace }) {
  const save = () => {
    const url = URL.createObjectURL(new Blob([traceFile(props.trace)], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${props.trace.Id}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return <button type="button" class="ghost" onClick={save} data-testid="download-trace">download JSON</button>;
}

export function ImportTrace() {
  const [err, setErr] = useState('');
  const pick = async (f: File | undefined) => {
    if (!f) return;
    try {
      const text = await f.text();
      const t = parseTraceFile(text);
      sessionStorage.setItem(KEY, traceFile(t));
      setErr('');
      go({ page: 'traces', id: IMPORTED, params: {} });
    } catch (e) {
      setErr((e as Error).message);
    }
  };
  return (
    <span class="import-trace">
      <label class="button ghost" title="open a trace saved as JSON (a download, or aws xray batch-get-traces output)">
        import trace…
        <input type="file" accept=".json,application/json" data-testid="import-trace" class="sr-only"
          onChange={(e) => pick((e.target as HTMLInputElement).files?.[0])} />
      </label>
      {err && <span class="filter-error" role="alert" data-testid="import-error">{err}</span>}
    </span>
  );
}
