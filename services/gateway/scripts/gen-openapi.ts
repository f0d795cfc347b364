// Regenerates src/gen/openapi.json from the contracts in proto/ and the route table. Run by
// `pnpm proto:gen`; CI regenerates it and fails when the committed copy differs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOpenApi, type DescriptorSet } from '../src/openapi.js';
import { ROUTES } from '../src/routes.js';
import { VERSION } from '../src/version.js';

const [, , output = 'services/gateway/src/gen/openapi.json'] = process.argv;
const scratch = mkdtempSync(join(tmpdir(), 'beacon-image-'));
try {
  const image = join(scratch, 'image.json');
  execFileSync('buf', ['build', '-o', image], { stdio: 'inherit' });
  const descriptors = JSON.parse(readFileSync(image, 'utf8')) as DescriptorSet;
  writeFileSync(output, `${JSON.stringify(buildOpenApi(descriptors, ROUTES, VERSION), null, 2)}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
