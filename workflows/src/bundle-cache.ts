import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** Where bundles are kept between starts of the process; BEACON_WORKFLOW_BUNDLE_CACHE moves it. */
const cacheDir = () =>
  process.env['BEACON_WORKFLOW_BUNDLE_CACHE'] ?? join(tmpdir(), 'beacon-workflow-bundles');

/** Bundles of earlier code kept besides the newest (3 MB each). */
const KEPT_BUNDLES = 4;

/** Packages whose code (or whose version's code) goes into the bundle besides the workflows'. */
const BUNDLED_PACKAGES = [
  '@temporalio/workflow',
  '@temporalio/common',
  '@temporalio/interceptors-opentelemetry',
  '@beacon/domain',
  'ipaddr.js',
  'tr46',
  'punycode',
];

/**
 * The response workflows' bundle from a cache keyed by everything that goes into it: the built
 * workflow modules, @beacon/domain's built code, the versions of the other bundled packages and
 * whether it carries the tracing interceptors. Bundling takes 1.5 s or more of a restarting
 * worker's start; a restart with the same code finds its bundle here. A key covers content, so
 * a changed workflow can never be served from an older bundle. Falls back to `make` when the
 * cache cannot be read or written.
 */
export async function cachedBundle(
  workflowsDir: string,
  tracing: boolean,
  make: () => Promise<WorkflowBundleWithSourceMap>,
): Promise<WorkflowBundleWithSourceMap> {
  const key = bundleKey(workflowsDir, tracing);
  const file = join(cacheDir(), `response-${key}.js`);
  if (existsSync(file)) return { code: readFileSync(file, 'utf8') } as WorkflowBundleWithSourceMap;
  const bundle = await make();
  try {
    mkdirSync(cacheDir(), { recursive: true });
    writeFileSync(`${file}.${process.pid}.tmp`, bundle.code);
    renameSync(`${file}.${process.pid}.tmp`, file);
    prune(cacheDir(), KEPT_BUNDLES);
  } catch {
    // A read-only file system: every start bundles, as before.
  }
  return bundle;
}

function bundleKey(workflowsDir: string, tracing: boolean): string {
  const hash = createHash('sha256').update(`tracing=${tracing}\n`);
  hashTree(hash, workflowsDir);
  // Each package is looked for from the workflows and from every package found before it
  // (tr46 is @beacon/domain's, punycode is tr46's).
  const resolvers = [createRequire(join(workflowsDir, 'index.js'))];
  for (const name of BUNDLED_PACKAGES) {
    const manifest = resolvers.map((require) => packageManifest(require, name)).find(Boolean);
    if (!manifest) {
      hash.update(`${name}: not found\n`);
      continue;
    }
    resolvers.push(createRequire(manifest));
    hash.update(`${name}@${(JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version}\n`);
    // Beacon's own package changes without a version change: its code is hashed.
    if (name.startsWith('@beacon/')) hashTree(hash, join(dirname(manifest), 'dist', 'src'));
  }
  return hash.digest('hex').slice(0, 32);
}

function packageManifest(require: NodeJS.Require, name: string): string | undefined {
  // Its package.json may not be exported: then it is found above the entry point, asked for
  // as `name/` first so that `punycode` is the package, not Node's built-in of that name.
  for (const request of [`${name}/package.json`, `${name}/`, name]) {
    let found: string;
    try {
      found = require.resolve(request);
    } catch {
      continue;
    }
    if (!isAbsolute(found)) continue;
    if (request.endsWith('package.json')) return found;
    for (let dir = dirname(found); dirname(dir) !== dir; dir = dirname(dir)) {
      if (existsSync(join(dir, 'package.json'))) return join(dir, 'package.json');
    }
  }
  return undefined;
}

function hashTree(hash: ReturnType<typeof createHash>, dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) hashTree(hash, path);
    else if (entry.name.endsWith('.js')) hash.update(`${path}\n`).update(readFileSync(path));
  }
}

/** Removes all but the `keep` newest bundles. */
function prune(dir: string, keep: number): void {
  const bundles = readdirSync(dir)
    .filter((name) => /^response-[0-9a-f]+\.js$/.test(name))
    .map((name) => ({ path: join(dir, name), at: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const old of bundles.slice(keep)) rmSync(old.path, { force: true });
}
