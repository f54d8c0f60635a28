// Starts the real roentgen binary on free ports with a temporary data dir
// and feeds it: the demo workload, recorded SDK fixtures and the traces the
// browser tests look for.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const repo = new URL('../../', import.meta.url).pathname;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-e2e-'));
  const [http, udp, tcp] = [await freePort(), await freePort(), await freePort()];
  const bin = join(repo, 'bin/roentgen');
  const proc = spawn(bin, ['demo', '--data-dir', dataDir, '--http', `127.0.0.1:${http}`, '--bind', `127.0.0.1:${udp}`, '--bind-tcp', `127.0.0.1:${tcp}`, '--otlp-grpc', '', '--otlp-http', '', '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const base = `http://127.0.0.1:${http}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(base + '/health')).ok) break; } catch { /* not up yet */ }
    if (i > 100 || proc.exitCode != null) throw new Error(`roentgen did not start (${bin})`);
    await sleep(100);
  }
  return {
    base, udp: `127.0.0.1:${udp}`, dataDir,
    async stop() {
      if (proc.exitCode == null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// run.mjs prints this line when its tests that time the page are done
// (all.mjs starts the other browser tests then).
export const TIMED_DONE = 'e2e: the timed tests are done';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const hex = (n) => randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
export const traceId = (epoch) => `1-${Math.floor(epoch).toString(16).padStart(8, '0')}-${hex(24)}`;

export async function api(base, path, body) {
  const res = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${path}: ${res.status} ${json.message || ''}`);
  return json;
}

export async function putSegments(base, docs) {
  for (let i = 0; i < docs.length; i += 50) {
    const out = await api(base, '/TraceSegments', { TraceSegmentDocuments: docs.slice(i, i + 50).map((d) => JSON.stringify(d)) });
    if (out.UnprocessedTraceSegments?.length) throw new Error('segments rejected: ' + JSON.stringify(out.UnprocessedTraceSegments.slice(0, 3)));
  }
}

// Replays the datagrams recorded from the official SDKs, moved to the
// present (trace id epochs and times shifted by one offset per recording).
export async function feedFixtures(udpAddr) {
  const root = join(repo, 'internal/fixtures/testdata');
  const files = [];
  (function walk(d) {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p); else if (n.endsWith('.datagram')) files.push(p);
    }
  })(root);
  const parsed = files.map((f) => {
    const raw = readFileSync(f, 'utf8');
    const nl = raw.indexOf('\n');
    try { return { header: raw.slice(0, nl), doc: JSON.parse(raw.slice(nl + 1)) }; } catch { return undefined; }
  }).filter(Boolean);
  const minStart = Math.min(...parsed.map((p) => p.doc.start_time).filter(Number.isFinite));
  const shift = Math.floor(Date.now() / 1000 - 120 - minStart);
  const move = (d) => {
    if (typeof d.start_time === 'number') d.start_time += shift;
    if (typeof d.end_time === 'number') d.end_time += shift;
    (d.subsegments || []).forEach(move);
  };
  const sock = createSocket('udp4');
  const [host, port] = udpAddr.split(':');
  let sent = 0;
  for (const p of parsed) {
    const d = p.doc;
    if (typeof d.trace_id === 'string') {
      const m = /^1-([0-9a-f]{8})-(.*)$/.exec(d.trace_id);
      if (m) d.trace_id = `1-${(parseInt(m[1], 16) + shift).toString(16).padStart(8, '0')}-${m[2]}`;
    }
    move(d);
    await new Promise((r) => sock.send(p.header + '\n' + JSON.stringify(d), +port, host, r));
    sent++;
  }
  sock.close();
  return sent;
}
