import { describe, expect } from 'vitest';
// Test helpers are not part of the gateway's exports, so they are reached by path.
import { reportJson } from '@beacon/gateway/testing';
import { test as base } from '@beacon/testkit';
import { createCli, incidentJson } from './cli-fixture.js';

const test = base.extend('cli', ({ infra, names, mongoClient }, { onCleanup }) =>
  createCli(infra, names, mongoClient, onCleanup),
);

describe('beacon incidents', () => {
  test('opens, lists, shows and transitions an incident', async ({ cli }) => {
    const env = { BEACON_TOKEN: await cli.coordinatorToken() };
    const file = await cli.file('incident.json', JSON.stringify(incidentJson('ab'.repeat(32))));
    const opened = await cli.beacon(['incidents', 'open', '--file', file], { env });
    expect(opened).toMatchObject({ code: 0, stderr: '' });
    const id = /^id: +(inc_\S+)$/m.exec(opened.stdout)?.[1];
    expect(id).toBeDefined();
    expect(opened.stdout).toMatch(/^status: +REPORTED$/m);
    expect(opened.stdout).toMatch(/^tlp: +AMBER$/m);
    expect(opened.stdout).toMatch(/^ {2}sha256 +(ab){32}$/m);
    // The same file again opens nothing new.
    const reopened = await cli.beacon(['incidents', 'open', '--file', file], { env });
    expect(reopened.stdout).toBe(opened.stdout);

    const listed = await cli.beacon(['incidents', 'list'], { env });
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^ID +STATUS +TLP +NCISS +SECTORS +JURISDICTIONS +VERSION +TITLE$/);
    expect(rows.slice(1)).toEqual([
      expect.stringMatching(
        new RegExp(`^${id} +REPORTED +AMBER +\\d \\w+ +water-and-wastewater +DE +1 +Ransomware`),
      ),
    ]);

    const moved = await cli.beacon(
      ['incidents', 'transition', id!, '--to', 'active', '--version', '1', '--reason', 'confirmed'],
      { env },
    );
    expect(moved).toEqual({ code: 0, stdout: `${id} is now ACTIVE (version 2)\n`, stderr: '' });

    const stale = await cli.beacon(['incidents', 'transition', id!, '--to', 'CONTAINED', '--version', '1'], {
      env,
    });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(
      /^error 409 Aborted: incident \S+ is at version 2, not 1; reload and retry\n$/,
    );

    // Decided from a status it no longer has: refused, whatever the version.
    const moot = await cli.beacon(
      ['incidents', 'transition', id!, '--to', 'RESOLVED', '--version', '0', '--expect-status', 'triage'],
      { env },
    );
    expect(moot.code).toBe(1);
    expect(moot.stderr).toMatch(/: incident \S+ is active now, not triage; read it again\n$/);

    const shown = await cli.beacon(['incidents', 'show', id!], { env });
    expect(shown.stdout).toMatch(/^status: +ACTIVE$/m);
    expect(shown.stdout).toMatch(/^version: +2$/m);
    const active = await cli.beacon(['incidents', 'list', '--status', 'ACTIVE', '--json'], { env });
    expect((JSON.parse(active.stdout) as { incidents: { id: string }[] }).incidents.map((i) => i.id)).toEqual(
      [id],
    );
    const reported = await cli.beacon(['incidents', 'list', '--status', 'REPORTED'], { env });
    expect(reported.stdout).toBe('no incidents\n');

    const missing = await cli.beacon(['incidents', 'show', 'inc_nothere'], { env });
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error 404 Not Found: incident inc_nothere not found\n',
    });
    const usage = await cli.beacon(['incidents', 'transition', id!, '--to', 'ACTIVE'], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--version is required/);
  });

  test('lists by --filter and --order-by, with sectors, jurisdictions and level; a bad filter names its position', async ({
    cli,
  }) => {
    const env = { BEACON_TOKEN: await cli.coordinatorToken() };
    const baseline = {
      functionalImpact: 'none',
      observedActivity: 'none',
      location: 'unknown',
      actor: 'unknown',
      informationImpact: 'none',
      recoverability: 'regular',
      crossSectorDependency: 'none',
      potentialImpact: 'none',
    };
    const severe = {
      ...baseline,
      functionalImpact: 'denial-critical',
      observedActivity: 'effect',
      location: 'safety-systems',
      recoverability: 'not-recoverable',
      crossSectorDependency: 'high',
      potentialImpact: 'very-high',
    };
    const ids: Record<string, string> = {};
    for (const [name, title, sectors, jurisdictions, severityInputs] of [
      ['pipeline', 'Pipeline ransomware', ['energy'], ['DE-BY'], baseline],
      ['modem', 'Satellite modem wiper', ['communications', 'energy'], ['DE', 'UA'], severe],
      ['bank', 'Bank phishing', ['financial-services'], ['FR'], severe],
    ] as const) {
      const file = await cli.file(
        `${name}.json`,
        JSON.stringify({
          title,
          tlp: 'TLP_GREEN',
          classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
          sectors,
          jurisdictions,
          severityInputs,
          awareAt: new Date(Date.now() - 3_600_000).toISOString(),
        }),
      );
      const opened = await cli.beacon(['--json', 'incidents', 'open', '--file', file], { env });
      expect(opened).toMatchObject({ code: 0, stderr: '' });
      ids[name] = (JSON.parse(opened.stdout) as { incident: { id: string } }).incident.id;
    }

    const listed = await cli.beacon(
      [
        'incidents',
        'list',
        '--filter',
        'sectors:"energy" AND jurisdictions:"DE"',
        '--order-by',
        'nciss_level desc, opened_at',
      ],
      { env },
    );
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const rows = listed.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^ID +STATUS +TLP +NCISS +SECTORS +JURISDICTIONS +VERSION +TITLE$/);
    // The severe one first; a country's filter finds its subdivision (DE-BY) too.
    expect(rows.slice(1)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${ids['modem']} +REPORTED +GREEN +[45] \\w+ +communications,energy +DE,UA +1 +Satellite`,
        ),
      ),
      expect.stringMatching(
        new RegExp(`^${ids['pipeline']} +REPORTED +GREEN +0 baseline +energy +DE-BY +1 +Pipeline`),
      ),
    ]);
    const json = await cli.beacon(
      ['--json', 'incidents', 'list', '--filter', 'nciss_level >= 4 OR title:"RANSOM"'],
      {
        env,
      },
    );
    expect((JSON.parse(json.stdout) as { incidents: { id: string }[] }).incidents.map((i) => i.id)).toEqual([
      ids['bank'],
      ids['modem'],
      ids['pipeline'],
    ]);

    const bad = await cli.beacon(['incidents', 'list', '--filter', 'sectors:"energy" AND'], { env });
    expect(bad).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error 400 Invalid Argument: invalid request\n' +
        '  filter: position 21: expected a field name, "(" or NOT, found the end of the filter [INVALID_FILTER]\n',
    });
    const help = await cli.beacon(['incidents', 'list', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--filter 'EXPR'");
    expect(help.stdout).toContain('a country holds its subdivisions: "DE" matches DE-BY');
  });

  test('merges one incident into another, once however often it is asked', async ({ cli }) => {
    const env = { BEACON_TOKEN: await cli.coordinatorToken() };
    const open = async (name: string, tlp: string, awareAt: string, value: string) => {
      const file = await cli.file(
        `${name}.json`,
        JSON.stringify({
          title: `Incident ${name}`,
          tlp,
          classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
          sectors: ['energy'],
          jurisdictions: ['DE'],
          observables: [{ type: 'domain', value }],
          severityInputs: {
            functionalImpact: 'none',
            observedActivity: 'none',
            location: 'unknown',
            actor: 'unknown',
            informationImpact: 'none',
            recoverability: 'regular',
            crossSectorDependency: 'none',
            potentialImpact: 'none',
          },
          awareAt,
        }),
      );
      const opened = await cli.beacon(['incidents', 'open', '--file', file], { env });
      expect(opened).toMatchObject({ code: 0, stderr: '' });
      return /^id: +(inc_\S+)$/m.exec(opened.stdout)![1]!;
    };
    const earlier = new Date(Date.now() - 26 * 3_600_000).toISOString();
    const survivor = await open(
      'survivor',
      'TLP_GREEN',
      new Date(Date.now() - 3_600_000).toISOString(),
      'a.example',
    );
    const merged = await open('merged', 'TLP_AMBER', earlier, 'b.example');

    // An awareness time that is neither incident's is refused, naming the field.
    const invented = await cli.beacon(
      ['incidents', 'merge', survivor, '--merged', merged, '--aware-at', '1991-01-01T00:00:00Z'],
      { env },
    );
    expect(invented.code).toBe(1);
    expect(invented.stderr).toMatch(/aware_at/);

    const argv = ['incidents', 'merge', survivor, '--merged', merged, '--aware-at', earlier];
    const done = await cli.beacon(argv, { env });
    expect(done).toEqual({
      code: 0,
      stdout: `${merged} merged into ${survivor} (TLP AMBER, 0 reports, version 2)\n`,
      stderr: '',
    });
    // Asked again: the same answer, nothing changed.
    expect(await cli.beacon(argv, { env })).toEqual(done);
    const shown = await cli.beacon(['incidents', 'show', merged], { env });
    expect(shown.stdout).toMatch(/^status: +CLOSED$/m);
    expect(shown.stdout).toMatch(new RegExp(`^merged into: +${survivor}$`, 'm'));
    const kept = await cli.beacon(['incidents', 'show', survivor], { env });
    expect(kept.stdout).toMatch(new RegExp(`^aware at: +${earlier.replace(/[.]/g, '[.]')}$`, 'm'));

    const usage = await cli.beacon(['incidents', 'merge', survivor, '--aware-at', earlier], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--merged is required/);
  });

  test('revises an incident, and shows possible relations only to a coordinator cleared for both', async ({
    cli,
  }) => {
    const token = async (roles: string, clearance: string, agency?: string) => {
      const argv = [
        'token',
        '--roles',
        roles,
        '--clearance',
        clearance,
        '--subject',
        `${roles}-${clearance}`,
      ];
      const minted = await cli.beacon(agency ? [...argv, '--agency', agency] : argv);
      expect(minted).toMatchObject({ code: 0, stderr: '' });
      return minted.stdout.trim();
    };
    const red = { BEACON_TOKEN: await token('coordinator', 'RED') };
    const amber = { BEACON_TOKEN: await token('coordinator', 'AMBER') };
    const analyst = { BEACON_TOKEN: await token('agency_analyst', 'GREEN', 'cert-a') };
    const indicator = [{ type: 'domain', value: 'hidden-c2.example' }];

    // A RED-cleared coordinator's incident with an indicator, revised up to RED.
    const opened = await cli.beacon(
      [
        'reports',
        'submit',
        '--file',
        await cli.file('red.json', JSON.stringify(reportJson({ observables: indicator }))),
      ],
      { env: red },
    );
    expect(opened.code).toBe(0);
    const [hidden] = await listIds(red);
    const revised = await cli.beacon(
      ['incidents', 'revise', hidden!, '--tlp', 'red', '--reason', 'source asked'],
      {
        env: red,
      },
    );
    expect(revised).toMatchObject({ code: 0, stderr: '' });
    expect(revised.stdout).toMatch(new RegExp(`^${hidden} is TLP RED, aware at `));
    // Nothing to revise is a usage error, before any call.
    const nothing = await cli.beacon(['incidents', 'revise', hidden!, '--reason', 'x'], { env: red });
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/--tlp, --aware-at or both/);

    // An agency's probe with the same indicator opens its own incident and is related to the hidden one.
    const probe = await cli.beacon(
      [
        'reports',
        'submit',
        '--file',
        await cli.file('probe.json', JSON.stringify(reportJson({ observables: indicator }))),
      ],
      { env: analyst },
    );
    expect(probe.code).toBe(0);
    const own = (await listIds(analyst)).filter((id) => id !== hidden);
    expect(own).toHaveLength(1);

    const shown = await cli.beacon(['incidents', 'relations', hidden!], { env: red });
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(
      new RegExp(`^${own[0]}  TLP RED  found .* shares domain:hidden-c2\\.example$`, 'm'),
    );
    // A coordinator not cleared for RED, and the agency itself, see no relation at all.
    for (const env of [amber, analyst]) {
      expect(await cli.beacon(['incidents', 'relations', own[0]!], { env })).toEqual({
        code: 0,
        stdout: 'no possible relations you may see\n',
        stderr: '',
      });
    }

    async function listIds(env: Record<string, string>): Promise<string[]> {
      const listed = await cli.beacon(['--json', 'incidents', 'list'], { env });
      expect(listed.code).toBe(0);
      return (
        (JSON.parse(listed.stdout) as { incidents?: { id: string }[] }).incidents?.map((i) => i.id) ?? []
      );
    }
  });
});
