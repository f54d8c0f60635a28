// Keep policies (tail sampling, docs/keep.md): the ordered list, edited as
// a whole and saved with PutKeepPolicies; the server's refusal is shown
// beside the field it names, a bad expression with its caret.
import { useEffect, useState } from 'preact/hooks';
import { getKeepPolicies, putKeepPolicies } from '../api';
import { useLoad } from '../state';
import { ErrorBox, Spinner } from '../components/Common';
import { errorPosition } from '../filtererror';
import { fmtPercent } from '../format';
import { move, nextName, refusal, type KeepPolicies, type KeepPolicy } from '../keeppolicies';

export function KeepPage(props: { readOnly: boolean }) {
  const { data, error, loading, reload } = useLoad((s) => getKeepPolicies(s), []);
  const [draft, setDraft] = useState<KeepPolicies>();
  const [err, setErr] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  // The server's list replaces the draft when it loads, unless one is being edited.
  useEffect(() => { if (data && !draft) setDraft(clone(data)); }, [data]);
  const ro = props.readOnly;
  const list = draft?.Policies || [];
  const changed = !!draft && !!data && JSON.stringify(strip(draft)) !== JSON.stringify(strip(data));
  const counts = new Map((data?.Decisions || []).map((c) => [c.Policy, c]));
  const why = err ? refusal(err.message) : undefined;
  const edit = (i: number, p: Partial<KeepPolicy>) => {
    setSaved(false);
    setDraft({ ...draft!, Policies: list.map((q, j) => (j === i ? { ...q, ...p } : q)) });
  };
  const setList = (ps: KeepPolicy[]) => { setSaved(false); setDraft({ ...draft!, Policies: ps }); };
  const save = async (e: Event) => {
    e.preventDefault();
    if (!draft) return;
    setBusy(true);
    setErr(undefined);
    try {
      const out = await putKeepPolicies(strip(draft));
      setDraft(clone(out));
      setSaved(true);
      reload();
    } catch (x) {
      setErr(x as Error);
    } finally {
      setBusy(false);
    }
  };
  const counter = (name: string) => {
    const c = counts.get(name);
    return c ? <span title="traces kept / dropped by this policy since the server started">{c.Kept} / {c.Dropped}</span> : '—';
  };
  return (
    <div class="page keep-page">
      <div class="toolbar">
        <h1>Keep policies</h1>
        {loading && <Spinner />}
      </div>
      <p class="hint">Decided on each whole trace once it has been quiet for a second: the first policy whose filter expression
        matches keeps that share of its traces, the default keeps the share of the rest. A dropped trace still counts in the
        service map and statistics; its documents and summary go. Set SDK sampling rules to trace every request and let these
        decide what is kept.</p>
      {error && <ErrorBox error={error} what="GetKeepPolicies" stale={!!data} />}
      {draft && (
        <form class="card form" onSubmit={save} data-testid="keep-form">
          <table class="rules keep" data-testid="keep-table">
            <thead><tr><th>#</th><th>name</th><th>filter expression</th><th>keep rate (0–1)</th>
              <th title="traces kept / dropped since the server started">kept / dropped</th><th /></tr></thead>
            <tbody>
              {list.map((p, i) => {
                const bad = why?.index === i ? why : undefined;
                const pos = bad?.field === 'FilterExpression' ? errorPosition(bad.text, p.FilterExpression) : undefined;
                return (
                  <tr data-policy={p.Name} data-index={i} class={bad ? 'bad' : ''}>
                    <td class="num">{i + 1}</td>
                    <td><input name="Name" value={p.Name} disabled={ro} aria-invalid={bad?.field === 'Name'}
                      onInput={(e) => edit(i, { Name: (e.target as HTMLInputElement).value })} /></td>
                    <td class="wide">
                      <input name="FilterExpression" class={`mono${bad?.field === 'FilterExpression' ? ' bad' : ''}`} spellcheck={false}
                        value={p.FilterExpression} disabled={ro} placeholder='fault OR responsetime > 2' aria-invalid={bad?.field === 'FilterExpression'}
                        onInput={(e) => edit(i, { FilterExpression: (e.target as HTMLInputElement).value })} />
                      {bad && (
                        <div class="filter-error" role="alert" data-testid="policy-error">
                          {pos != null && <pre class="caret">{p.FilterExpression}{'\n'}{' '.repeat(pos)}^</pre>}
                          <span>{bad.field}: {bad.text}</span>
                        </div>
                      )}
                    </td>
                    <td><input name="KeepRate" type="number" step="any" min="0" max="1" value={Number.isNaN(p.KeepRate) ? '' : String(p.KeepRate)} disabled={ro}
                      title={fmtPercent(p.KeepRate, 2)}
                      onInput={(e) => { const v = (e.target as HTMLInputElement).value; edit(i, { KeepRate: v === '' ? NaN : Number(v) }); }} /></td>
                    <td class="num" data-testid="policy-counts">{counter(p.Name)}</td>
                    <td class="nowrap">
                      {!ro && <>
                        <button type="button" class="ghost" title="evaluate earlier" disabled={i === 0} onClick={() => setList(move(list, i, -1))}>↑</button>
                        <button type="button" class="ghost" title="evaluate later" disabled={i === list.length - 1} onClick={() => setList(move(list, i, 1))}>↓</button>
                        <button type="button" class="ghost danger" onClick={() => setList(list.filter((_, j) => j !== i))}>delete</button>
                      </>}
                    </td>
                  </tr>
                );
              })}
              <tr data-policy="Default">
                <td />
                <td><b>Default</b></td>
                <td class="hint">every trace no policy above matches</td>
                <td><input name="DefaultKeepRate" type="number" step="any" min="0" max="1" disabled={ro}
                  value={Number.isNaN(draft.DefaultKeepRate) ? '' : String(draft.DefaultKeepRate)} aria-invalid={why?.field === 'DefaultKeepRate'}
                  onInput={(e) => { const v = (e.target as HTMLInputElement).value; setSaved(false); setDraft({ ...draft, DefaultKeepRate: v === '' ? NaN : Number(v) }); }} />
                  {why?.field === 'DefaultKeepRate' && <div class="filter-error" role="alert" data-testid="policy-error">{why.text}</div>}</td>
                <td class="num" data-testid="policy-counts">{counter('Default')}</td>
                <td />
              </tr>
            </tbody>
          </table>
          {err && why?.index == null && why?.field == null && <ErrorBox error={err} what="PutKeepPolicies" />}
          {!ro && (
            <div class="actions">
              <button type="button" class="ghost" data-testid="add-policy"
                onClick={() => setList([...list, { Name: nextName(list), FilterExpression: '', KeepRate: 1 }])}>add policy</button>
              <button type="submit" disabled={busy || !changed} data-testid="save-policies">save</button>
              <button type="button" class="ghost" disabled={!changed} onClick={() => { setErr(undefined); setDraft(data ? clone(data) : draft); }}>discard changes</button>
              {saved && !changed && <span class="hint" data-testid="saved">saved: in force for traces summarised from now on</span>}
            </div>
          )}
          {ro && <p class="hint">Your role can read the policies; changing them needs an admin key.</p>}
        </form>
      )}
    </div>
  );
}

function clone(p: KeepPolicies): KeepPolicies {
  return { Policies: p.Policies.map((q) => ({ ...q })), DefaultKeepRate: p.DefaultKeepRate };
}

// strip is what PutKeepPolicies takes: the list and the default, no counts.
function strip(p: KeepPolicies): KeepPolicies {
  return { Policies: p.Policies.map(({ Name, FilterExpression, KeepRate }) => ({ Name, FilterExpression, KeepRate })), DefaultKeepRate: p.DefaultKeepRate };
}
