import { describe, expect } from 'vitest';
import { test as base } from '@beacon/testkit';
import { createCli, incidentJson } from './cli-fixture.js';

const test = base.extend('cli', async ({ infra, names, mongoClient }, { onCleanup }) => {
  const cli = await createCli(infra, names, mongoClient, onCleanup);
  return {
    stack: cli.stack,
    incidentFile: await cli.file('incident.json', JSON.stringify(incidentJson('cd'.repeat(32)))),
    /** `beacon …` with the token given. */
    beacon: (token: string, argv: string[]) => cli.beacon(argv, { env: { BEACON_TOKEN: token } }),
  };
});

describe('beacon incidents assign, unassign and severity', () => {
  test('a coordinator engages and disengages an agency and judges severity, at a version; an analyst is refused and the engaged agency reads the incident only while engaged', async ({
    cli,
  }) => {
    const coordinator = await cli.stack.token({ roles: ['coordinator'] });
    const analyst = await cli.stack.token({ roles: ['agency_analyst'], agencyId: 'cert-bayern' });
    const opened = await cli.beacon(coordinator, ['incidents', 'open', '--file', cli.incidentFile, '--json']);
    expect(opened).toMatchObject({ code: 0, stderr: '' });
    const { incident } = JSON.parse(opened.stdout) as { incident: { id: string; version: string | number } };
    const id = incident.id;

    // An analyst may not engage its own agency: only coordinators change an incident.
    const refused = await cli.beacon(analyst, ['incidents', 'assign', id, 'cert-bayern']);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^error 403 [^:]+: only coordinators may do this/);
    expect((await cli.beacon(analyst, ['incidents', 'show', id])).stderr).toMatch(/^error 404 /);

    const assigned = await cli.beacon(coordinator, [
      'incidents',
      'assign',
      id,
      'cert-bayern',
      '--version',
      String(incident.version),
    ]);
    expect(assigned).toMatchObject({ code: 0, stderr: '' });
    expect(assigned.stdout).toMatch(
      new RegExp(`^cert-bayern engaged on ${id} \\(version \\d+\\)\\nengaged: cert-bayern\\n$`),
    );
    // Engaged, the agency reads the AMBER incident.
    expect((await cli.beacon(analyst, ['incidents', 'show', id])).code).toBe(0);

    // A version the coordinator did not see is refused, not applied.
    const stale = await cli.beacon(coordinator, [
      'incidents',
      'severity',
      id,
      '--set',
      'potentialImpact=high',
      '--version',
      '1',
    ]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^error 409 [^:]+: incident \S+ is at version \d+, not 1/);
    const judged = await cli.beacon(coordinator, [
      'incidents',
      'severity',
      id,
      '--set',
      'functionalImpact=denial-critical',
      '--set',
      'potentialImpact=very-high',
      '--json',
    ]);
    expect(judged.code).toBe(0);
    const after = (JSON.parse(judged.stdout) as { incident: Record<string, unknown> }).incident;
    expect(after['severityInputs']).toMatchObject({
      functionalImpact: 'denial-critical',
      potentialImpact: 'very-high',
    });
    expect(after['severityOrigins']).toMatchObject({
      functionalImpact: { source: 'SEVERITY_INPUT_SOURCE_COORDINATOR' },
    });
    expect(Number((after['severity'] as { level?: number | string }).level ?? 0)).toBeGreaterThan(0);
    expect(
      (await cli.beacon(analyst, ['incidents', 'severity', id, '--set', 'potentialImpact=low'])).stderr,
    ).toMatch(/^error 403 /);

    const unassigned = await cli.beacon(coordinator, ['incidents', 'unassign', id, 'cert-bayern']);
    expect(unassigned).toMatchObject({ code: 0, stderr: '' });
    expect(unassigned.stdout).toMatch(/\nengaged: \(none\)\n$/);
    // Disengaged, the agency no longer reads the AMBER incident.
    expect((await cli.beacon(analyst, ['incidents', 'show', id])).stderr).toMatch(/^error 404 /);
  });
});

describe('beacon whoami', () => {
  test('says who the token makes its holder, as Beacon reads it', async ({ cli }) => {
    const analyst = await cli.stack.token({ roles: ['agency_analyst'], agencyId: 'cert-bayern' });
    const shown = await cli.beacon(analyst, ['whoami']);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(/^roles: +agency_analyst$/m);
    expect(shown.stdout).toMatch(/^agency: +cert-bayern$/m);
    expect(shown.stdout).toMatch(/^clearance: +AMBER$/m);
    const coordinator = await cli.stack.token({ roles: ['coordinator'], clearance: 'RED' });
    const json = await cli.beacon(coordinator, ['whoami', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ roles: ['coordinator'], clearance: 'TLP_RED' });
    expect(JSON.parse(json.stdout)).not.toHaveProperty('agencyId');
  });
});
