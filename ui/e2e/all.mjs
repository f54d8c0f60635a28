// `npm run e2e`: every browser test. run.mjs starts with its tests that
// time the page (the render budgets), with nothing beside them; when it
// says they are done, security.mjs then aggregates.mjs run beside the rest
// of it, each with its own server and browser: the browser tests wait on
// renders and answers more than they compute (docs/performance.md,
// "`make test`'s own time"). Each script's output is printed whole when it
// ends; the exit status is 1 if any failed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { TIMED_DONE, repo } from './server.mjs';

// run starts a script; onLine sees each line of its standard output.
function run(script, onLine = () => {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const p = spawn(process.execPath, [join(repo, 'ui/e2e', script)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let partial = '';
    p.stdout.on('data', (d) => {
      out.push(d);
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop();
      lines.forEach(onLine);
    });
    p.stderr.on('data', (d) => out.push(d));
    p.on('close', (code, signal) => {
      process.stdout.write(`-- ${script} (${((Date.now() - started) / 1000).toFixed(1)} s, ${signal || 'exit ' + code})\n` + Buffer.concat(out).toString());
      resolve(code === 0);
    });
  });
}

let timedDone;
const timed = new Promise((resolve) => { timedDone = resolve; });
const main = run('run.mjs', (line) => { if (line === TIMED_DONE) timedDone(); });
main.then(timedDone); // a run that ends early (a failed set-up) lets the others go
const others = timed.then(async () => {
  const security = await run('security.mjs');
  const aggregates = await run('aggregates.mjs');
  return security && aggregates;
});
const ok = (await main) && (await others);
console.log(ok ? 'e2e: every script passed' : 'e2e: a script failed');
process.exit(ok ? 0 : 1);
