// Fails when generated files differ from what the contracts make: packages/proto/src/gen (from
// `buf generate`, the descriptor set for reflection and the request fields' rules table) and the
// gateway's route table and OpenAPI document. All are committed, so a hand edit or a forgotten regeneration must not land.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const committed = 'packages/proto/src/gen';
const scratch = mkdtempSync(join(tmpdir(), 'beacon-gen-'));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

try {
  execFileSync('buf', ['generate', '--output', scratch], { stdio: 'inherit' });
  execFileSync('node', ['scripts/gen-descriptor-set.mjs', scratch], { stdio: 'inherit' });
  // From source: the document takes Beacon's vocabularies from packages/domain, built or not.
  const rest = 'services/gateway/src/gen';
  const freshRest = join(scratch, 'rest');
  execFileSync(
    'tsx',
    [
      '--conditions=source',
      'services/gateway/scripts/gen-rest.ts',
      freshRest,
      join(scratch, committed, 'field-rules.ts'),
    ],
    { stdio: 'inherit' },
  );
  const fresh = join(scratch, committed);
  const want = new Map(files(fresh).map((f) => [relative(fresh, f), readFileSync(f, 'utf8')]));
  const have = new Map(files(committed).map((f) => [relative(committed, f), readFileSync(f, 'utf8')]));
  const problems = [
    ...[...want.keys()].filter((f) => !have.has(f)).map((f) => `missing: ${f}`),
    ...[...have.keys()].filter((f) => !want.has(f)).map((f) => `not generated from proto/: ${f}`),
    ...[...want].filter(([f, text]) => have.has(f) && have.get(f) !== text).map(([f]) => `differs: ${f}`),
  ];
  if (problems.length > 0) {
    console.error(`${committed} is out of date with proto/ (run \`pnpm proto:gen\` and commit):`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log(`${committed}: ${want.size} files, identical to a fresh \`buf generate\``);

  for (const file of ['routes.ts', 'openapi.json']) {
    if (readFileSync(join(freshRest, file), 'utf8') !== readFileSync(join(rest, file), 'utf8')) {
      console.error(`${rest}/${file} is out of date with proto/ (run \`pnpm proto:gen\` and commit)`);
      process.exit(1);
    }
    console.log(`${rest}/${file}: identical to a fresh generation`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
