// Fails the build when the console's assets exceed the budget (300 kB
// gzipped in total), so a heavy dependency cannot slip in unnoticed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const budget = 300 * 1024;
const root = new URL('../../internal/console/dist/ui/', import.meta.url).pathname;
let total = 0;
const rows = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { walk(p); continue; }
    const gz = gzipSync(readFileSync(p), { level: 9 }).length;
    total += gz;
    rows.push([p.slice(root.length), gz]);
  }
})(root);
for (const [name, gz] of rows) console.log(`${(gz / 1024).toFixed(1).padStart(8)} kB gz  ${name}`);
console.log(`${(total / 1024).toFixed(1).padStart(8)} kB gz  total (budget ${budget / 1024} kB)`);
if (total > budget) {
  console.error('console assets exceed the gzipped size budget');
  process.exit(1);
}
