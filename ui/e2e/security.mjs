// Browser security tests in real headless Chromium against the real binary:
// a page on another origin cannot change anything (with and without access
// keys), a rebound DNS name is refused, and the console's login works: log
// in, read, be refused an edit as a `read` key, log out.
import { spawn, execFileSync } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { repo, sleep } from './server.mjs';

const KEYS = { admin: ['ADMINKEY0001', 'admin-secret-0123456789'], read: ['READKEY00001', 'read-secret-0123456789a'] };
const basic = ([id, secret]) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function startRoentgen(withKeys) {
  const dir = mkdtempSync(join(tmpdir(), 'roentgen-sec-'));
  const [http, udp, tcp] = [await freePort(), await freePort(), await freePort()];
  const args = ['--data-dir', join(dir, 'data'), '--http', `127.0.0.1:${http}`, '--bind', `127.0.0.1:${udp}`, '--bind-tcp', `127.0.0.1:${tcp}`,
    '--otlp-grpc', '', '--otlp-http', '', '--log-level', 'warn'];
  if (withKeys) {
    writeFileSync(join(dir, 'keys'), `${KEYS.admin.join(' ')} admin\n${KEYS.read.join(' ')} read\n`);
    args.push('--access-keys', join(dir, 'keys'));
  }
  const proc = spawn(join(repo, 'bin/roentgen'), args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((r) => proc.on('exit', r));
  const base = `http://127.0.0.1:${http}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(base + '/health')).ok) break; } catch { /* not up yet */ }
    if (i > 100 || proc.exitCode != null) throw new Error('roentgen did not start');
    await sleep(100);
  }
  const auth = withKeys ? { Authorization: basic(KEYS.admin) } : {};
  // The API as a non-browser client (no Origin) with the admin key.
  const api = async (path, body) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...auth }, body: JSON.stringify(body) });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`${path}: ${res.status} ${json.message || ''}`);
    return json;
  };
  return {
    base, port: http, api,
    async stop() {
      if (proc.exitCode == null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The attacker's page: every way a page can make a browser send a write
// without the server's consent (CORS-safelisted fetch, a text/plain form,
// a beacon).
function attackPage(target) {
  return `<!doctype html><body><iframe name="sink"></iframe>
<form id="f" method="POST" enctype="text/plain" action="${target}/CreateGroup" target="sink">
<input name='{"GroupName":"pwned","FilterExpression":"service(\\"x\\")","pad":"' value='"}'></form>
<script>
window.attack = async () => {
  const send = (path, body) => fetch('${target}' + path, { method: 'POST', mode: 'no-cors', credentials: 'include',
    headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(body) }).catch(() => {});
  await send('/DeleteGroup', { GroupName: 'victim' });
  await send('/UpdateSamplingRule', { SamplingRuleUpdate: { RuleName: 'Default', FixedRate: 0, ReservoirSize: 0 } });
  navigator.sendBeacon('${target}/DeleteSamplingRule', JSON.stringify({ RuleName: 'keep-me' }));
  await new Promise((r) => { document.querySelector('iframe').onload = r; document.getElementById('f').submit(); setTimeout(r, 3000); });
  return 'sent';
};
</script></body>`;
}

async function seed(s) {
  await s.api('/CreateGroup', { GroupName: 'victim', FilterExpression: 'service("a")' });
  await s.api('/CreateGroup', { GroupName: 'control', FilterExpression: 'service("b")' });
  await s.api('/CreateSamplingRule', { SamplingRule: { RuleName: 'keep-me', Priority: 5, FixedRate: 0.5, ReservoirSize: 1, ServiceName: '*', ServiceType: '*', Host: '*', HTTPMethod: '*', URLPath: '*', ResourceARN: '*', Version: 1 } });
}

async function unchanged(s) {
  const groups = (await s.api('/Groups', {})).Groups.map((g) => g.GroupName);
  const rules = (await s.api('/GetSamplingRules', {})).SamplingRuleRecords.map((r) => r.SamplingRule);
  const def = rules.find((r) => r.RuleName === 'Default');
  assert(groups.includes('victim'), `the victim group was deleted: ${groups}`);
  assert(!groups.includes('pwned'), 'a form created a group');
  assert(def.FixedRate === 0.05 && def.ReservoirSize === 1, `the Default rule changed: ${JSON.stringify(def)}`);
  assert(rules.some((r) => r.RuleName === 'keep-me'), 'a beacon deleted a rule');
}

function assert(cond, msg) { if (!cond) throw new Error(msg); }

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

for (const withKeys of [false, true]) {
  test(`a cross-origin page cannot change anything (${withKeys ? 'with' : 'without'} keys)`, async (browser) => {
    const s = await startRoentgen(withKeys);
    const evilPort = await freePort();
    const evil = createHttpServer((req, res) => { res.setHeader('Content-Type', 'text/html'); res.end(attackPage(s.base)); });
    await new Promise((r) => evil.listen(evilPort, '127.0.0.1', r));
    const ctx = await browser.newContext();
    try {
      await seed(s);
      const page = await ctx.newPage();
      if (withKeys) {
        // The victim is logged in to the console as admin in this browser.
        await page.goto(s.base + '/');
        await page.fill('input[name=AccessKeyId]', KEYS.admin[0]);
        await page.fill('input[name=SecretAccessKey]', KEYS.admin[1]);
        await page.click('button[type=submit]');
        await page.waitForSelector('[data-testid=who]');
      }
      // Positive control: the same request from the console's own origin
      // goes through, so the browser really sends what the attack sends.
      await page.goto(s.base + '/');
      const status = await page.evaluate(async () => (await fetch('/DeleteGroup', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ GroupName: 'control' }) })).status);
      assert(status === 200, `same-origin DeleteGroup answered ${status}`);
      // The attack, from http://localhost:<port>: another site.
      const attacker = await ctx.newPage();
      await attacker.goto(`http://localhost:${evilPort}/`);
      assert(await attacker.evaluate(() => window.attack()) === 'sent', 'the attack did not run');
      await sleep(300);
      await unchanged(s);
      // DNS rebinding: a name the attacker controls, resolved to the server.
      const rebound = await attacker.goto(`http://rebind.test:${s.port}/console/info`);
      assert(rebound.status() === 421, `a rebound Host was answered ${rebound.status()}`);
      const write = await attacker.evaluate(async () => (await fetch('/DeleteGroup', { method: 'POST', body: JSON.stringify({ GroupName: 'victim' }) })).status);
      assert(write === 421, `a write through a rebound Host was answered ${write}`);
      await unchanged(s);
    } finally {
      await ctx.close();
      evil.close();
      await s.stop();
    }
  });
}

test('console login: log in, read, refused an edit as read, log out', async (browser) => {
  const s = await startRoentgen(true);
  const ctx = await browser.newContext();
  try {
    await seed(s);
    const page = await ctx.newPage();
    page.on('dialog', (d) => d.accept());
    await page.goto(s.base + '/#/groups');
    await page.waitForSelector('[data-testid=login-form]');
    await page.fill('input[name=AccessKeyId]', KEYS.read[0]);
    await page.fill('input[name=SecretAccessKey]', 'not-the-secret-0123456');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=login-error]');
    await page.fill('input[name=SecretAccessKey]', KEYS.read[1]);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=who]');
    assert((await page.textContent('[data-testid=who]')).includes('READKEY00001 (read)'), 'who is logged in is not shown');
    // Reads everything.
    await page.waitForSelector('[data-group=victim]');
    assert(!(await page.isVisible('[data-testid=new-group]')), 'a read key is offered to create groups');
    // Keep policies: shown, not editable.
    await page.goto(s.base + '/#/keep');
    await page.waitForSelector('[data-testid=keep-table]');
    assert(!(await page.isVisible('[data-testid=add-policy]')) && !(await page.isVisible('[data-testid=save-policies]')), 'a read key is offered to edit keep policies');
    assert(await page.isDisabled('input[name=DefaultKeepRate]'), 'a read key can type a default keep rate');
    await page.goto(s.base + '/#/groups');
    await page.waitForSelector('[data-group=victim]');
    // The secret is nowhere the page can reach.
    const stored = await page.evaluate(() => JSON.stringify({ ls: { ...localStorage }, ss: { ...sessionStorage }, cookie: document.cookie, url: location.href }));
    assert(!stored.includes(KEYS.read[1]) && !stored.includes('roentgen_session'), `secret or session reachable by scripts: ${stored}`);
    const cookies = await ctx.cookies();
    const sc = cookies.find((c) => c.name === 'roentgen_session');
    assert(sc && sc.httpOnly && sc.sameSite === 'Strict' && sc.expires > 0, `session cookie: ${JSON.stringify(cookies)}`);
    // An edit, by URL, is refused by the server and the console says so.
    await page.goto(s.base + '/#/groups?edit=new');
    await page.fill('[data-testid=group-form] input[name=GroupName]', 'sneaky');
    await page.fill('[data-testid=group-form] input[name=FilterExpression]', 'service("x")');
    await page.click('[data-testid=group-form] button[type=submit]');
    await page.waitForSelector('[data-testid=group-form] [data-testid=error-box]');
    const err = await page.textContent('[data-testid=group-form] [data-testid=error-box]');
    assert(err.includes('AccessDeniedException'), `error shown: ${err}`);
    assert(!(await s.api('/Groups', {})).Groups.some((g) => g.GroupName === 'sneaky'), 'the group was created');
    // Log out: back to the login form, and the old cookie reads nothing.
    await page.click('[data-testid=logout]');
    await page.waitForSelector('[data-testid=login-form]');
    const after = await fetch(s.base + '/Groups', { method: 'POST', headers: { Cookie: `roentgen_session=${sc.value}` } });
    assert(after.status === 403, `the session still reads after logout: ${after.status}`);
  } finally {
    await ctx.close();
    await s.stop();
  }
});

if (!existsSync(join(repo, 'bin/roentgen'))) {
  execFileSync('go', ['build', '-o', 'bin/roentgen', './cmd/roentgen'], { cwd: repo, stdio: 'inherit' });
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP rebind.test 127.0.0.1'],
});
let failed = 0;
for (const t of tests) {
  const started = Date.now();
  try {
    await Promise.race([t.fn(browser), sleep(60000).then(() => { throw new Error('timed out after 60s'); })]);
    console.log(`ok    ${t.name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL  ${t.name}: ${e.message.split('\n')[0]}`);
  }
}
await browser.close();
console.log(failed ? `e2e security: ${failed} failed` : `e2e security: all ${tests.length} tests passed`);
process.exit(failed ? 1 : 0);
