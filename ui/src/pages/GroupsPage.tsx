// Groups: named filter expressions that scope the map and the traces.
import { useState } from 'preact/hooks';
import { createGroup, deleteGroup, groups, updateGroup } from '../api';
import { setParams, useLoad } from '../state';
import { Empty, ErrorBox, Spinner } from '../components/Common';
import { link } from '../route';
import type { Group } from '../types';

export function GroupsPage(props: { params: Record<string, string> }) {
  const { data, error, loading, reload } = useLoad((s) => groups(s), []);
  const editing = props.params.edit;
  const list = data || [];
  const current = editing === 'new' ? { GroupName: '', FilterExpression: '' } : list.find((g) => g.GroupName === editing);
  return (
    <div class="page groups-page">
      <div class="toolbar">
        <h1>Groups</h1>
        <button onClick={() => setParams({ edit: 'new' })} data-testid="new-group">create group</button>
        {loading && <Spinner />}
      </div>
      <p class="hint">A group is a filter expression with a name: the map and the traces can be scoped to it.</p>
      {error && <ErrorBox error={error} what="GetGroups" />}
      {current && <GroupForm key={editing} group={current} isNew={editing === 'new'} onDone={() => { setParams({ edit: '' }); reload(); }} />}
      {data && list.filter((g) => g.GroupName !== 'Default').length === 0 && <Empty>No groups yet: create one to scope the map and traces to a filter expression.</Empty>}
      {list.length > 0 && (
        <table class="groups" data-testid="groups-table">
          <thead><tr><th>name</th><th>filter expression</th><th>insights</th><th /></tr></thead>
          <tbody>
            {list.map((g) => (
              <tr data-group={g.GroupName}>
                <td><b>{g.GroupName}</b></td>
                <td class="mono">{g.FilterExpression || ''}</td>
                <td>{g.InsightsConfiguration?.InsightsEnabled ? 'on' : 'off'}</td>
                <td class="nowrap">
                  <a class="button ghost" href={link('map', { group: g.GroupName })}>map</a>
                  <a class="button ghost" href={link('traces', { group: g.GroupName })}>traces</a>
                  {g.GroupName !== 'Default' && <button class="ghost" onClick={() => setParams({ edit: g.GroupName })}>edit</button>}
                  {g.GroupName !== 'Default' && <DeleteButton name={g.GroupName} onDone={reload} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function DeleteButton(props: { name: string; onDone: () => void }) {
  const [err, setErr] = useState<Error>();
  return (
    <>
      <button class="ghost danger" onClick={async () => {
        if (!confirm(`Delete group ${props.name}?`)) return;
        try { await deleteGroup(props.name); props.onDone(); } catch (e) { setErr(e as Error); }
      }}>delete</button>
      {err && <ErrorBox error={err} />}
    </>
  );
}

function GroupForm(props: { group: Group; isNew: boolean; onDone: () => void }) {
  const [g, setG] = useState<Group>({ ...props.group });
  const [err, setErr] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(undefined);
    try {
      const body: Group = { GroupName: g.GroupName, FilterExpression: g.FilterExpression || undefined, InsightsConfiguration: g.InsightsConfiguration };
      if (props.isNew) await createGroup(body); else await updateGroup(body);
      props.onDone();
    } catch (x) {
      setErr(x as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card form" onSubmit={submit} data-testid="group-form">
      <h2>{props.isNew ? 'New group' : `Edit ${g.GroupName}`}</h2>
      <div class="grid">
        <label><span>name (1–32 letters, digits, dashes)</span>
          <input name="GroupName" value={g.GroupName} disabled={!props.isNew} onInput={(e) => setG({ ...g, GroupName: (e.target as HTMLInputElement).value })} /></label>
        <label class="wide"><span>filter expression</span>
          <input name="FilterExpression" class="mono" value={g.FilterExpression || ''} placeholder='service("checkout") { fault }'
            onInput={(e) => setG({ ...g, FilterExpression: (e.target as HTMLInputElement).value })} /></label>
        <label class="check"><input type="checkbox" name="InsightsEnabled" checked={!!g.InsightsConfiguration?.InsightsEnabled}
          onChange={(e) => setG({ ...g, InsightsConfiguration: { ...g.InsightsConfiguration, InsightsEnabled: (e.target as HTMLInputElement).checked } })} /> insights</label>
      </div>
      {err && <ErrorBox error={err} what={props.isNew ? 'CreateGroup' : 'UpdateGroup'} />}
      <div class="actions">
        <button type="submit" disabled={busy}>{props.isNew ? 'create' : 'save'}</button>
        <button type="button" class="ghost" onClick={() => setParams({ edit: '' })}>cancel</button>
      </div>
    </form>
  );
}
