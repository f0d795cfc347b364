// `pnpm bench [suite…]`: runs the benchmark suites in test/bench (all when none is named),
// each in its own process against servers it starts itself.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const available = readdirSync('test/bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((s) => !available.includes(s));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
for (const suite of wanted.length > 0 ? wanted : available) {
  execFileSync('tsx', ['--conditions=source', `test/bench/${suite}.bench.ts`], { stdio: 'inherit' });
}
