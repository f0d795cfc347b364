import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test as base } from '@beacon/testkit';
// Test helpers are not part of the gateway's exports, so they are reached by path.
import { reportJson, startTestStack, type TestStack } from '@beacon/gateway/testing';
import { run } from '../src/index.js';

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Cli {
  readonly stack: TestStack;
  /** A scratch directory, removed after the test. */
  readonly dir: string;
  /** Runs `beacon …` in-process against the stack, with BEACON_URL and the issuer file set. */
  beacon(argv: string[], options?: { env?: Record<string, string>; isTTY?: boolean }): Promise<Result>;
  /** `beacon token` for a coordinator, checked to succeed. */
  coordinatorToken(): Promise<string>;
  /** Writes a file in the scratch directory and returns its path. */
  file(name: string, text: string): Promise<string>;
}

const test = base.extend('cli', async ({ infra, names, mongoClient }, { onCleanup }): Promise<Cli> => {
  const stack = await startTestStack(infra, names);
  const dir = await mkdtemp(join(tmpdir(), 'beacon-cli-'));
  onCleanup(async () => {
    await stack.stop();
    await mongoClient.db(stack.dbName).dropDatabase();
    await rm(dir, { recursive: true, force: true });
  });
  const { issuer, audience, privateJwk } = stack.issuer;
  const issuerFile = join(dir, 'dev-issuer.json');
  await writeFile(issuerFile, JSON.stringify({ issuer, audience, privateJwk }));
  const baseEnv = { BEACON_URL: stack.http, BEACON_DEV_ISSUER_FILE: issuerFile, USER: 'tester' };

  const beacon: Cli['beacon'] = async (argv, options = {}) => {
    let stdout = '';
    let stderr = '';
    const code = await run(argv, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { ...baseEnv, ...options.env },
      isTTY: options.isTTY ?? false,
    });
    return { code, stdout, stderr };
  };
  return {
    stack,
    dir,
    beacon,
    async coordinatorToken() {
      const minted = await beacon(['token', '--roles', 'coordinator', '--subject', 'cc-ops']);
      expect(minted).toMatchObject({ code: 0, stderr: '' });
      return minted.stdout.trim();
    },
    async file(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
  };
});

/** The JSON a JWT carries in its header and payload (no verification: the gateway does that). */
function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>);
  return { header: header!, payload: payload! };
}

interface SubmitJson {
  total: number;
  opened: number;
  attached: number;
  failed: number;
  results: { where: string; outcome: string; reportId?: string; incidentId?: string }[];
}

describe('beacon token', () => {
  test('mints a token with the claims asked for, which the gateway accepts', async ({ cli }) => {
    const minted = await cli.beacon([
      'token',
      '--roles',
      'coordinator,auditor',
      '--clearance',
      'amber+strict',
      '--ttl',
      '600',
      '--subject',
      'duty-officer',
    ]);
    expect(minted).toMatchObject({ code: 0, stderr: '' });
    expect(minted.stdout.trim().split('\n')).toHaveLength(1);
    const { header, payload } = decodeJwt(minted.stdout.trim());
    expect(header).toMatchObject({ alg: 'ES256', kid: cli.stack.issuer.privateJwk.kid });
    expect(payload).toMatchObject({
      sub: 'duty-officer',
      roles: ['coordinator', 'auditor'],
      tlp_clearance: 'AMBER+STRICT',
      iss: cli.stack.issuer.issuer,
      aud: cli.stack.issuer.audience,
    });
    expect(payload).not.toHaveProperty('agency_id');
    expect(Number(payload['exp']) - Number(payload['iat'])).toBe(600);

    const agency = decodeJwt(
      (await cli.beacon(['token', '--roles', 'agency_analyst', '--agency', 'cert-de'])).stdout.trim(),
    );
    expect(agency.payload).toMatchObject({ sub: 'cli:tester', agency_id: 'cert-de', tlp_clearance: 'AMBER' });

    const listed = await cli.beacon(['incidents', 'list', '--token', minted.stdout.trim()]);
    expect(listed).toEqual({ code: 0, stdout: 'no incidents\n', stderr: '' });
  });

  test('a bad token is refused by the gateway and printed as a problem', async ({ cli }) => {
    const refused = await cli.beacon(['incidents', 'list'], { env: { BEACON_TOKEN: 'not.a.jwt' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error 401 Unauthenticated: /);
  });
});

describe('beacon reports submit', () => {
  test('files JSON Lines once, correlating related reports; a re-run files nothing new', async ({
    cli,
    mongoClient,
  }) => {
    const token = await cli.coordinatorToken();
    const shared = { type: 'ipv4', value: '198.51.100.7' };
    // Line numbers are 1-based: lines 1, 4 and 9 share an address, 2 and 6 a domain (written
    // differently: the server's normalisation must group them), line 7 carries a bad address.
    const observables = (line: number) => {
      if ([1, 4, 9].includes(line)) return [shared, { type: 'url', value: `https://l${line}.example/` }];
      if (line === 2) return [{ type: 'domain', value: 'phish.example' }];
      if (line === 6) return [{ type: 'domain', value: 'PHISH.Example.' }];
      if (line === 7) return [{ type: 'ipv4', value: '300.1.1.1' }];
      return [{ type: 'url', value: `https://site-${line}.example/login` }];
    };
    const lines = Array.from({ length: 12 }, (_, i) =>
      JSON.stringify(reportJson({ title: `Report ${i + 1}`, observables: observables(i + 1) })),
    );
    const file = await cli.file('reports.jsonl', `${lines.join('\n')}\n`);
    const reports = mongoClient.db(cli.stack.dbName).collection('reports');
    const incidents = mongoClient.db(cli.stack.dbName).collection('incidents');

    const first = await cli.beacon(['reports', 'submit', '--file', file, '--concurrency', '4'], {
      env: { BEACON_TOKEN: token },
    });
    expect(first.code).toBe(1);
    expect(first.stdout).toBe(
      [
        '12 reports: 8 opened an incident, 3 attached to an existing incident, 1 failed',
        'failed:',
        '  line 7: error 400 Invalid Argument: invalid request',
        '    observables[0]: not a dotted-quad IPv4 address (no leading zeros) [INVALID_OBSERVABLE]',
        '',
      ].join('\n'),
    );
    // Not a terminal: a line every tenth of the batch, no redrawing.
    const progress = first.stderr.trimEnd().split('\n');
    expect(progress.length).toBeGreaterThanOrEqual(9);
    expect(progress.at(-1)).toBe('reports: 12/12 (100%), 1 failed');
    expect(first.stderr).not.toContain('\r');
    expect(await reports.countDocuments()).toBe(11);
    expect(await incidents.countDocuments()).toBe(8);

    const again = await cli.beacon(['--json', 'reports', 'submit', '--file', file], {
      env: { BEACON_TOKEN: token },
      isTTY: true,
    });
    expect(again.code).toBe(1);
    const summary = JSON.parse(again.stdout) as SubmitJson;
    expect(summary).toMatchObject({ total: 12, opened: 8, attached: 3, failed: 1 });
    expect(again.stderr).toContain('\r\x1b[2Kreports [');
    expect(again.stderr).toMatch(/12\/12 100% {2}1 failed\n$/);
    expect(await reports.countDocuments()).toBe(11);
    expect(await incidents.countDocuments()).toBe(8);
    // The replayed results are the first run's: the same reports, on the incidents they joined.
    const stored = await reports.find({}, { projection: { _id: 1 } }).toArray();
    const replayed = summary.results.filter((r) => r.outcome !== 'failed').map((r) => r.reportId);
    expect(new Set(replayed)).toEqual(new Set(stored.map((r) => String(r._id))));
    const byLine = new Map(summary.results.map((r) => [r.where, r]));
    const incidentOf = (line: number) => byLine.get(`line ${line}`)!.incidentId;
    expect(byLine.get('line 1')!.outcome).toBe('opened');
    expect([4, 9].map((l) => [byLine.get(`line ${l}`)!.outcome, incidentOf(l)])).toEqual([
      ['attached', incidentOf(1)],
      ['attached', incidentOf(1)],
    ]);
    expect([byLine.get('line 6')!.outcome, incidentOf(6)]).toEqual(['attached', incidentOf(2)]);

    const listed = await cli.beacon(['incidents', 'list', '--all', '--page-size', '3', '--json'], {
      env: { BEACON_TOKEN: token },
    });
    expect(listed.code).toBe(0);
    const all = (JSON.parse(listed.stdout) as { incidents: { id: string; reportIds: string[] }[] }).incidents;
    expect(all).toHaveLength(8);
    expect(all.find((i) => i.id === incidentOf(1))!.reportIds).toHaveLength(3);
  });

  test('files one object or an array too, and refuses an unusable file with exit code 2', async ({ cli }) => {
    const env = { BEACON_TOKEN: await cli.coordinatorToken() };
    const one = await cli.file('one.json', JSON.stringify(reportJson(), null, 2));
    const single = await cli.beacon(['reports', 'submit', '--file', one], { env });
    expect(single).toEqual({
      code: 0,
      stdout: '1 report: 1 opened an incident, 0 attached to an existing incident, 0 failed\n',
      stderr: '',
    });

    const array = await cli.file(
      'many.json',
      JSON.stringify([
        reportJson({ title: 'Same phishing kit, another bank' }),
        'not a report',
        reportJson({ observables: [{ type: 'email', value: 'ceo@bank.example' }] }),
      ]),
    );
    const mixed = await cli.beacon(['reports', 'submit', '--file', array], { env });
    expect(mixed.code).toBe(1);
    expect(mixed.stdout).toBe(
      [
        '3 reports: 1 opened an incident, 1 attached to an existing incident, 1 failed',
        'failed:',
        '  index 1: error: not a JSON object',
        '',
      ].join('\n'),
    );

    const broken = await cli.file('broken.json', '{"title": ');
    const refused = await cli.beacon(['reports', 'submit', '--file', broken], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/broken\.json is not JSON/);
  });
});

describe('beacon reports with severity inputs', () => {
  test('files a report with the reporter’s NCISS inputs; the incident opens at their level and says whose they are', async ({
    cli,
  }) => {
    const analyst = (
      await cli.beacon(['token', '--roles', 'agency_analyst', '--agency', 'oblenergo-a'])
    ).stdout.trim();
    const file = await cli.file(
      'grid.jsonl',
      JSON.stringify(
        reportJson({
          title: 'Substations switched off remotely',
          sectors: ['energy'],
          jurisdictions: ['UA'],
          observables: [{ type: 'ipv4', value: '198.51.100.23' }],
          severityInputs: {
            functionalImpact: 'denial-critical',
            observedActivity: 'effect',
            location: 'critical-systems',
            informationImpact: 'destruction-critical',
            actor: 'nation-state',
          },
        }),
      ) + '\n',
    );
    const filed = await cli.beacon(['reports', 'submit', '--file', file, '--json'], {
      env: { BEACON_TOKEN: analyst },
    });
    expect(filed.code).toBe(0);
    const { results } = JSON.parse(filed.stdout) as SubmitJson;
    expect(results).toEqual([expect.objectContaining({ outcome: 'opened' })]);
    const { reportId, incidentId } = results[0]!;

    const shown = await cli.beacon(['incidents', 'show', incidentId!], {
      env: { BEACON_TOKEN: await cli.coordinatorToken() },
    });
    expect(shown.code).toBe(0);
    // 0.18 + 0.10 + 0.10·6/7 + 0.14 + 0.08 = 0.5857: High.
    expect(shown.stdout).toMatch(/^severity: +3 high \(score 59\)$/m);
    expect(shown.stdout).toContain(
      `  functionalImpact      denial-critical       reporter oblenergo-a (report ${reportId})\n`,
    );
    expect(shown.stdout).toContain('  potentialImpact       none                  baseline\n');

    // A category off its scale is refused for that line, naming the input.
    const bad = await cli.file(
      'bad.jsonl',
      JSON.stringify(reportJson({ severityInputs: { location: 'the-moon' } })) + '\n',
    );
    const refused = await cli.beacon(['reports', 'submit', '--file', bad], {
      env: { BEACON_TOKEN: analyst },
    });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('severity_inputs.location: is not a known category');
  });
});

describe('beacon incidents', () => {
  test('opens, lists, shows and transitions an incident', async ({ cli }) => {
    const env = { BEACON_TOKEN: await cli.coordinatorToken() };
    const body = {
      title: 'Ransomware at a water utility',
      tlp: 'TLP_AMBER',
      classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
      sectors: ['water-and-wastewater'],
      jurisdictions: ['DE'],
      observables: [{ type: 'sha256', value: 'ab'.repeat(32) }],
      severityInputs: {
        functionalImpact: 'significant-critical',
        observedActivity: 'effect',
        location: 'critical-systems',
        actor: 'organised-crime',
        informationImpact: 'suspected',
        recoverability: 'extended',
        crossSectorDependency: 'medium',
        potentialImpact: 'high',
      },
      awareAt: new Date(Date.now() - 3_600_000).toISOString(),
    };
    const file = await cli.file('incident.json', JSON.stringify(body));
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
