import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { run } from '@beacon/cli';
import { test as base } from '@beacon/testkit';
import { startTestStack, type TestStack } from './harness.js';

interface Cli {
  readonly stack: TestStack;
  readonly dir: string;
  beacon(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  file(name: string, text: string): Promise<string>;
}

const test = base.extend('cli', async ({ infra, names }, { onCleanup }): Promise<Cli> => {
  const stack = await startTestStack(infra, names);
  const dir = await mkdtemp(join(tmpdir(), 'beacon-impact-cli-'));
  onCleanup(async () => {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const token = await stack.token({ roles: ['coordinator'], clearance: 'RED' });
  return {
    stack,
    dir,
    beacon: async (argv) => {
      let stdout = '';
      let stderr = '';
      const code = await run(argv, {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: { BEACON_URL: stack.http, BEACON_TOKEN: token },
        isTTY: false,
        cwd: dir,
      });
      return { code, stdout, stderr };
    },
    file: async (name, text) => {
      await writeFile(join(dir, name), text);
      return name;
    },
  };
});

const ASSETS_CSV = [
  'id,name,operator_id,sector,jurisdiction,lat,lon,population_served,criticality,services,tlp',
  'grid,Regional grid,op-grid,energy,DE-BY,48.1,11.5,100000,5,electricity,green',
  'water,"Waterworks ""Nord""",op-water,water-and-wastewater,DE-BY,48.2,11.6,50000,4,drinking-water,green',
  'hospital,Klinikum,op-health,healthcare-and-public-health,DE-BY,48.15,11.55,20000,5,emergency-care,amber',
  'moon-base,Moon base,op-grid,space,DE-BY,0,0,1,1,,green',
  '',
].join('\n');

const DEPENDENCIES_CSV = [
  'dependent_id,provider_id,kind,time_to_impact_hours,degradation,backup_hours',
  'water,grid,power,2,1,0',
  'hospital,grid,power,0,1,72',
  'hospital,water,water,6,0.5,0',
  'hospital,hospital,power,1,1,0',
  'hospital,grid,power,soon,1,0',
].join('\n');

describe('the registry through the gateway', () => {
  test('the CLI imports CSV with a progress report and names each refused row by line and field; REST assesses; export round-trips', async ({
    cli,
  }) => {
    const assets = await cli.beacon(['assets', 'import', '--file', await cli.file('assets.csv', ASSETS_CSV)]);
    expect(assets.code).toBe(1);
    expect(assets.stdout).toContain('4 rows: 3 assets and 0 dependencies written, 1 rows refused');
    expect(assets.stdout).toContain('assets.csv:5: asset.sector: is not a CISA sector id');
    expect(assets.stderr).toContain('rows: 4/4 (100%), 1 failed');

    const deps = await cli.beacon([
      'assets',
      'import',
      '--file',
      await cli.file('deps.csv', DEPENDENCIES_CSV),
    ]);
    expect(deps.code).toBe(1);
    expect(deps.stdout).toContain(
      '3 assets'.replace('3 assets', '0 assets and 3 dependencies written, 2 rows refused'),
    );
    expect(deps.stdout).toContain('deps.csv:5: dependency.provider_id: an asset cannot depend on itself');
    expect(deps.stdout).toContain('deps.csv:6: dependency.time_to_impact_hours: "soon" is not a number');

    // REST, in the proto3 JSON mapping
    const token = await cli.stack.token({ roles: ['coordinator'], clearance: 'RED' });
    const response = await fetch(`${cli.stack.http}/v1/assessments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ affectedAssets: [{ assetId: 'grid' }], horizonHours: 24 }),
    });
    expect(response.status).toBe(201);
    const { assessment } = (await response.json()) as {
      assessment: {
        impactedAssets: number;
        populationAffected: string;
        topImpacts: { assetId: string; firstImpactHours: number; maxLoss: number }[];
      };
    };
    // within a day the hospital has half its service through the water works, its generators the rest
    expect(assessment.impactedAssets).toBe(3);
    expect(assessment.populationAffected).toBe('160000');
    expect(assessment.topImpacts.find((i) => i.assetId === 'hospital')).toMatchObject({
      firstImpactHours: 8,
      maxLoss: 0.5,
    });

    const bad = await fetch(`${cli.stack.http}/v1/assessments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ affectedAssets: [{ assetId: 'grid', loss: 3 }] }),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');

    const assess = await cli.beacon([
      'impact',
      'assess',
      '--asset',
      'grid',
      '--asset',
      'water:0.5',
      '--horizon',
      '100',
    ]);
    expect(assess.code).toBe(0);
    // water half down at once (hospital: a quarter from hour 6), all of it from hour 2 through the grid
    expect(assess.stdout).toMatch(/3 assets lose service, 170000 people/);
    expect(assess.stdout).toMatch(/hospital\s+6 h 100%\s+grid → hospital/);

    const exported = await cli.beacon(['assets', 'export', '--out', 'registry.jsonl']);
    expect(exported.code).toBe(0);
    const lines = (await readFile(join(cli.dir, 'registry.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(6);
    const again = await cli.beacon(['assets', 'import', '--file', 'registry.jsonl']);
    expect(again.stdout).toContain('6 rows: 3 assets and 3 dependencies written, 0 rows refused');
    expect(again.code).toBe(0);
  });
});
