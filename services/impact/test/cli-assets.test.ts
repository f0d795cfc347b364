import { describe, expect } from 'vitest';
import { run } from '@beacon/cli';
import { test as base } from '@beacon/testkit';
import { startTestStack, type TestStack } from './harness.js';

interface Cli {
  readonly stack: TestStack;
  beacon(token: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

const test = base.extend('cli', async ({ infra, names }, { onCleanup }): Promise<Cli> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  return {
    stack,
    beacon: async (token, argv) => {
      let stdout = '';
      let stderr = '';
      const code = await run(argv, {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: { BEACON_URL: stack.http, BEACON_TOKEN: token },
        isTTY: false,
      });
      return { code, stdout, stderr };
    },
  };
});

describe('beacon assets and dependencies one at a time, and assessments by id', () => {
  test('an operator’s admin puts and updates its own assets and their dependency, lists what it may see, and is refused another operator’s; a coordinator reads an assessment back', async ({
    cli,
  }) => {
    const admin = await cli.stack.token({ roles: ['agency_admin'], agencyId: 'op-grid' });
    const put = (id: string, extra: string[] = []) =>
      cli.beacon(admin, [
        'assets',
        'put',
        '--id',
        id,
        '--name',
        `Asset ${id}`,
        '--operator',
        'op-grid',
        '--sector',
        'energy',
        '--jurisdiction',
        'DE-BY',
        '--population',
        '100000',
        '--criticality',
        '4',
        '--services',
        'electricity',
        '--tlp',
        'green',
        ...extra,
      ]);
    const created = await put('substation-1', ['--lat', '48.1', '--lon', '11.5']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(/^created substation-1 \(version 1\)\n/);
    expect(created.stdout).toMatch(/location:\s+48\.1, 11\.5/);
    expect((await put('plant-1')).code).toBe(0);
    // Creating again is refused: version 0 means "new".
    const twice = await put('plant-1');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^error 409 [^:]+: asset plant-1 exists/);

    // --update reads the asset and changes only what it names.
    const updated = await cli.beacon(admin, [
      'assets',
      'put',
      '--id',
      'plant-1',
      '--criticality',
      '5',
      '--update',
    ]);
    expect(updated).toMatchObject({ code: 0, stderr: '' });
    expect(updated.stdout).toMatch(/^updated plant-1 \(version 2\)\n/);
    expect(updated.stdout).toMatch(/criticality:\s+5/);
    expect(updated.stdout).toMatch(/population served:\s+100000/);

    const dependency = await cli.beacon(admin, [
      'dependencies',
      'put',
      'substation-1',
      'plant-1',
      'power',
      '--time-to-impact',
      '2',
      '--degradation',
      '0.5',
      '--backup',
      '4',
      '--json',
    ]);
    expect(dependency.code).toBe(0);
    expect(JSON.parse(dependency.stdout)).toEqual({
      dependency: {
        dependentId: 'substation-1',
        providerId: 'plant-1',
        kind: 'power',
        timeToImpactHours: 2,
        degradation: 0.5,
        backupHours: 4,
      },
    });
    const shown = await cli.beacon(admin, ['assets', 'get', 'substation-1']);
    expect(shown.stdout).toMatch(/plant-1\s+power\s+2 h\s+0\.5\s+4 h/);

    // Another operator's admin: its own asset only, and it cannot touch op-grid's.
    const other = await cli.stack.token({ roles: ['agency_admin'], agencyId: 'op-water' });
    const foreign = await cli.beacon(other, [
      'assets',
      'put',
      '--id',
      'pump-1',
      '--name',
      'Pump 1',
      '--operator',
      'op-grid',
      '--sector',
      'energy',
      '--jurisdiction',
      'DE-BY',
      '--criticality',
      '2',
    ]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/^error 403 /);
    // Another operator's asset is, to it, an asset that does not exist.
    const foreignDependency = await cli.beacon(other, [
      'dependencies',
      'put',
      'substation-1',
      'plant-1',
      'water',
    ]);
    expect(foreignDependency.code).toBe(1);
    expect(foreignDependency.stderr).toMatch(/^error 400 [^:]+: unknown asset substation-1\n$/);
    const otherList = await cli.beacon(other, ['assets', 'list']);
    expect(otherList).toEqual({ code: 0, stdout: 'no assets you may see\n', stderr: '' });

    const listed = await cli.beacon(admin, ['assets', 'list', '--page-size', '1']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(listed.stdout).toMatch(
      /\nplant-1\s+Asset plant-1\s+op-grid\s+energy\s+DE-BY\s+100000\s+5\s+GREEN/,
    );
    expect(listed.stderr).toMatch(/^more assets: --page-token \S+, or --all for every page\n$/);
    const all = JSON.parse((await cli.beacon(admin, ['assets', 'list', '--all', '--json'])).stdout) as {
      assets: { id: string }[];
    };
    expect(all.assets.map((a) => a.id)).toEqual(['plant-1', 'substation-1']);

    // Assessments cross operators: the admin may neither run nor read one; a coordinator may.
    const coordinator = await cli.stack.token({ roles: ['coordinator'], clearance: 'RED' });
    const assessed = await cli.beacon(coordinator, ['impact', 'assess', '--asset', 'plant-1', '--json']);
    expect(assessed.code).toBe(0);
    const { id } = JSON.parse(assessed.stdout) as { id: string };
    const read = await cli.beacon(coordinator, ['impact', 'get', id]);
    expect(read).toMatchObject({ code: 0, stderr: '' });
    expect(read.stdout).toMatch(new RegExp(`^assessment ${id}: 2 assets lose service, 150000 people`));
    expect(read.stdout).toMatch(/substation-1\s+6 h 50%\s+plant-1 → substation-1/);
    const refused = await cli.beacon(admin, ['impact', 'get', id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error 403 [^:]+: assessments are for the coordination centre/);
    const missing = `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`;
    expect((await cli.beacon(coordinator, ['impact', 'get', missing])).stderr).toMatch(
      new RegExp(`^error 404 [^:]+: no assessment ${missing}`),
    );
  });
});
