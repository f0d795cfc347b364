import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
  }
}

/** The checkout this code runs from. */
export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/** Per-clone tools, data and logs (git-ignored); `infra/local/install.sh` fills `bin/`. */
export const infraDir = resolve(process.env['BEACON_INFRA_DIR'] ?? join(repoRoot, '.infra'));

/** Path of a tool installed by `make install`; fails with the command that installs it. */
export function installedBinary(name: string): string {
  const path = join(infraDir, 'bin', name);
  if (!existsSync(path)) {
    throw new Error(`${name} is not installed at ${path}; run \`make install\` first`);
  }
  return path;
}
