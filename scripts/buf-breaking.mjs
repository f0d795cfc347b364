// `buf breaking` against the contracts as they were before their latest change: uncommitted
// edits are checked against HEAD, otherwise the newest commit that touched them is checked
// against its parent. BUF_BREAKING_AGAINST (any buf input) overrides the choice.
import { execFileSync } from 'node:child_process';

const git = (...args) => execFileSync('git', args, { encoding: 'utf8' }).trim();
const paths = ['proto', 'buf.yaml'];

function against() {
  if (process.env.BUF_BREAKING_AGAINST) return process.env.BUF_BREAKING_AGAINST;
  if (git('status', '--porcelain', '--', ...paths) !== '') return '.git#ref=HEAD';
  const last = git('log', '-n', '1', '--format=%H', '--', ...paths);
  if (!last) return undefined;
  try {
    git('rev-parse', '--verify', '--quiet', `${last}^`);
  } catch {
    return undefined; // the contracts were born in the first commit: nothing to break
  }
  const parentHasContracts = git('ls-tree', '--name-only', `${last}^`, '--', 'buf.yaml') !== '';
  if (!parentHasContracts) return undefined;
  // buf clones the repository 50 commits deep unless told: deep enough to reach the parent,
  // however many commits have come since the contracts last changed.
  const depth = Number(git('rev-list', '--count', `${last}^..HEAD`)) + 1;
  return `.git#ref=${last}^,depth=${depth}`;
}

const base = against();
if (!base) {
  console.log('buf breaking: no earlier version of the contracts to compare with');
} else {
  try {
    execFileSync('buf', ['breaking', '--against', base], { stdio: 'inherit' });
  } catch {
    console.error(`buf breaking: the contracts break compatibility with ${base} (see above)`);
    process.exit(1);
  }
  console.log(`buf breaking: no breaking change against ${base}`);
}
