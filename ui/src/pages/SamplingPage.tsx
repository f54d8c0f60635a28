// Sampling rules: list, create, edit and delete, with the server's
// validation messages shown on the form.
import { useState } from 'preact/hooks';
import { createSamplingRule, deleteSamplingRule, samplingRules, samplingStatistics, updateSamplingRule } from '../api';
import { setParams, useLoad } from '../state';
import { Empty, ErrorBox, Spinner } from '../components/Common';
import { fmtPercent, fmtTime } from '../format';
import type { SamplingRule } from '../types';

const BLANK: SamplingRule = {
  RuleName: '', ResourceARN: '*', Priority: 1000, FixedRate: 0.05, ReservoirSize: 1, ServiceName: '*', ServiceType: '*',
  Host: '*', HTTPMethod: '*', URLPath: '*', Version: 1, Attributes: {},
};

export function SamplingPage(props: { params: Record<string, string> }) {
  const { data, error, loading, reload } = useLoad((s) => samplingRules(s), []);
  const stats = useLoad((s) => samplingStatistics(s), [data]);
  const editing = props.params.edit;
  const list = [...(data || [])].sort((a, b) => a.SamplingRule.Priority - b.SamplingRule.Priority || a.SamplingRule.RuleName.localeCompare(b.SamplingRule.RuleName));
  const current = editing === 'new' ? BLANK : list.find((r) => r.SamplingRule.RuleName === editing)?.SamplingRule;
  return (
    <div class="page sampling-page">
      <div class="toolbar">
        <h1>Sampling rules</h1>
        <button onClick={() => setParams({ edit: 'new' })} data-testid="new-rule">create rule</button>
        {loading && <Spinner />}
      </div>
      <p class="hint">SDKs fetch these rules through the daemon port and report how many requests each rule matched. Rules are evaluated by ascending priority; <b>Default</b> catches the rest.</p>
      {error && <ErrorBox error={error} what="GetSamplingRules" />}
      {current && <RuleForm key={editing} rule={current} isNew={editing === 'new'} onDone={() => { setParams({ edit: '' }); reload(); }} />}
      {data && list.length === 0 && <Empty>No sampling rules yet: create one, or let SDKs use the Default rule.</Empty>}
      {list.length > 0 && (
        <table class="rules" data-testid="rules-table">
          <thead><tr><th>name</th><th>priority</th><th>reservoir</th><th>rate</th><th>service</th><th>type</th><th>host</th><th>method</th><th>path</th><th title="requests / sampled / borrowed that SDKs reported in the last minute">last minute</th><th>modified</th><th /></tr></thead>
          <tbody>
            {list.map(({ SamplingRule: r, ModifiedAt }) => (
              <tr data-rule={r.RuleName}>
                <td><b>{r.RuleName}</b></td><td class="num">{r.Priority}</td><td class="num">{r.ReservoirSize}/s</td>
                <td class="num">{fmtPercent(r.FixedRate, 2)}</td><td>{r.ServiceName}</td><td>{r.ServiceType}</td><td>{r.Host}</td>
                <td>{r.HTTPMethod}</td><td>{r.URLPath}</td>
                <td class="nowrap num">{(() => { const x = stats.data?.get(r.RuleName); return x ? `${x.requests} / ${x.sampled} / ${x.borrowed}` : '—'; })()}</td>
                <td class="nowrap">{ModifiedAt ? fmtTime(ModifiedAt, false) : '—'}</td>
                <td class="nowrap">
                  <button class="ghost" onClick={() => setParams({ edit: r.RuleName })}>edit</button>
                  {r.RuleName !== 'Default' && <DeleteButton name={r.RuleName} onDone={reload} />}
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
        if (!confirm(`Delete sampling rule ${props.name}?`)) return;
        try { await deleteSamplingRule(props.name); props.onDone(); } catch (e) { setErr(e as Error); }
      }}>delete</button>
      {err && <ErrorBox error={err} />}
    </>
  );
}

function RuleForm(props: { rule: SamplingRule; isNew: boolean; onDone: () => void }) {
  const [r, setR] = useState<SamplingRule>({ ...props.rule, Attributes: { ...(props.rule.Attributes || {}) } });
  const [attrs, setAttrs] = useState(Object.entries(props.rule.Attributes || {}).map(([k, v]) => `${k}=${v}`).join('\n'));
  const [err, setErr] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const isDefault = r.RuleName === 'Default' && !props.isNew;
  const field = (k: keyof SamplingRule, label: string, type: 'text' | 'number' = 'text', extra: Record<string, string> = {}) => (
    <label>
      <span>{label}</span>
      <input name={k} type={type} value={String(r[k] ?? '')} disabled={(k === 'RuleName' && !props.isNew) || (isDefault && k !== 'FixedRate' && k !== 'ReservoirSize')} {...extra}
        onInput={(e) => { const v = (e.target as HTMLInputElement).value; setR({ ...r, [k]: type === 'number' ? (v === '' ? NaN : Number(v)) : v }); }} />
    </label>
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(undefined);
    const attributes: Record<string, string> = {};
    for (const line of attrs.split('\n').map((l) => l.trim()).filter(Boolean)) {
      const i = line.indexOf('=');
      if (i > 0) attributes[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    try {
      if (props.isNew) await createSamplingRule({ ...r, Attributes: attributes });
      else if (isDefault) await updateSamplingRule({ RuleName: r.RuleName, FixedRate: r.FixedRate, ReservoirSize: r.ReservoirSize });
      else {
        const { RuleARN: _arn, Version: _v, ...rest } = r;
        await updateSamplingRule({ ...rest, Attributes: attributes });
      }
      props.onDone();
    } catch (x) {
      setErr(x as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card form" onSubmit={submit} data-testid="rule-form">
      <h2>{props.isNew ? 'New sampling rule' : `Edit ${r.RuleName}`}</h2>
      <div class="grid">
        {field('RuleName', 'name')}
        {field('Priority', 'priority (1–9999)', 'number')}
        {field('ReservoirSize', 'reservoir (traces/s)', 'number')}
        {field('FixedRate', 'fixed rate (0–1)', 'number', { step: 'any' })}
        {field('ServiceName', 'service name')}
        {field('ServiceType', 'service type')}
        {field('Host', 'host')}
        {field('HTTPMethod', 'HTTP method')}
        {field('URLPath', 'URL path')}
        {field('ResourceARN', 'resource ARN')}
        <label class="wide"><span>attributes (key=value per line)</span>
          <textarea name="Attributes" rows={2} value={attrs} disabled={isDefault} onInput={(e) => setAttrs((e.target as HTMLTextAreaElement).value)} /></label>
      </div>
      {err && <ErrorBox error={err} what={props.isNew ? 'CreateSamplingRule' : 'UpdateSamplingRule'} />}
      <div class="actions">
        <button type="submit" disabled={busy}>{props.isNew ? 'create' : 'save'}</button>
        <button type="button" class="ghost" onClick={() => setParams({ edit: '' })}>cancel</button>
      </div>
    </form>
  );
}
