/**
 * Loads a generated region into a running Beacon through the gateway's REST door:
 * `node packages/demo/dist/src/seed.js` with BEACON_URL and BEACON_TOKEN (a RED-cleared coordinator's: nobody
 * registers an asset labelled above its clearance, so a lower one's rows are refused) set, and
 * optionally DEMO_ASSETS (default 400) and DEMO_SEED. Deterministic, so running it again
 * rewrites the same assets and dependencies.
 */
import { generateRegion } from './region.js';

const url = process.env['BEACON_URL'] ?? 'http://127.0.0.1:8080';
const token = process.env['BEACON_TOKEN'];
if (!token) throw new Error('BEACON_TOKEN must hold a coordinator token');
const region = generateRegion({
  seed: Number(process.env['DEMO_SEED'] ?? 2026),
  assets: Number(process.env['DEMO_ASSETS'] ?? 400),
});
const rows = [
  ...region.assets.map((asset) => ({ asset: { ...asset, tlp: `TLP_${asset.tlp.replace('+', '_')}` } })),
  ...region.dependencies.map((dependency) => ({ dependency })),
];
let refused = 0;
for (let i = 0; i < rows.length; i += 500) {
  const response = await fetch(`${url}/v1/registry:import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rows: rows.slice(i, i + 500), firstRow: i + 1 }),
  });
  const body = (await response.json()) as { errors?: unknown[] };
  if (!response.ok) throw new Error(`import answered ${response.status}: ${JSON.stringify(body)}`);
  refused += body.errors?.length ?? 0;
}
console.log(
  JSON.stringify({ assets: region.assets.length, dependencies: region.dependencies.length, refused }),
);
