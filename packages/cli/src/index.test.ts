import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESS_SCOPES } from '@beacon/domain';
import { createAuthenticator, createDevIssuer, type DevIssuer } from '@beacon/platform';
import { formatProblem, incidentDetails, incidentTable } from './format.js';
import { run } from './index.js';
import { createProgress, renderBar } from './progress.js';

/** Runs the CLI in-process, collecting what it writes. */
async function beacon(argv: string[], env: Record<string, string | undefined> = {}, cwd?: string) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
    ...(cwd ? { cwd } : {}),
  });
  return { code, stdout, stderr };
}

describe('the command line', () => {
  it('prints help with exit code 0, and usage errors with exit code 2', async () => {
    expect(await beacon(['--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^usage: beacon/) as string,
    });
    const help = await beacon(['incidents', 'transition', '-h']);
    expect(help).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('--to STATUS --version N') as string,
    });

    const cases: [string[], RegExp][] = [
      [[], /^usage: beacon/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['incidents'], /incidents needs a subcommand/],
      [['incidents', 'list', '--bogus'], /Unknown option '--bogus'/],
      [['incidents', 'list', '--page-size', 'ten', '--token', 't'], /--page-size must be a whole number/],
      [['incidents', 'list', '--status', 'DONE', '--token', 't'], /--status must be one of REPORTED/],
      [['incidents', 'show', '--token', 't'], /missing <id>/],
      [['incidents', 'show', 'a', 'b', '--token', 't'], /unexpected argument "b"/],
      [['incidents', 'transition', 'inc_1', '--version', '1', '--token', 't'], /--to is required/],
      [
        [
          'incidents',
          'transition',
          'inc_1',
          '--to',
          'active',
          '--version',
          '0',
          '--expect-status',
          'done',
          '--token',
          't',
        ],
        /--expect-status must be one of REPORTED/,
      ],
      [['incidents', 'list'], /no token: pass --token or set BEACON_TOKEN/],
      [['incidents', 'list', '--token', 't', '--url', 'ftp://x'], /must be http or https/],
      [['reports', 'submit', '--token', 't'], /--file is required/],
      [['reports', 'submit', '--file', '/nonexistent/r.jsonl', '--token', 't'], /cannot read .*ENOENT/],
      [['token'], /--roles is required/],
      [['token', '--roles', 'coordinator,wizard'], /unknown role "wizard"/],
      [['token', '--roles', 'agency_analyst'], /agency roles need --agency/],
      [['token', '--roles', 'coordinator', '--clearance', 'PURPLE'], /--clearance must be a TLP label/],
    ];
    for (const [argv, message] of cases) {
      const result = await beacon(argv);
      expect({ argv, code: result.code }).toEqual({ argv, code: 2 });
      expect(result.stderr).toMatch(message);
    }
  });

  it('finds the command among global flags given before it', async () => {
    const result = await beacon(['--url', 'http://127.0.0.1:1', '--json', 'incidents', 'show']);
    expect(result.stderr).toMatch(/missing <id>/);
  });
});

describe('beacon token', () => {
  let dir: string;
  let issuer: DevIssuer;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'beacon-cli-'));
    issuer = await createDevIssuer({ issuer: 'https://dev.beacon.test', audience: 'beacon' });
    file = join(dir, 'dev-issuer.json');
    const { privateJwk } = issuer;
    await writeFile(file, JSON.stringify({ issuer: issuer.issuer, audience: issuer.audience, privateJwk }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('mints a token the platform verifies, with the claims asked for', async () => {
    const argv = ['token', '--roles', 'agency_analyst,auditor', '--agency', 'cert-de', '--clearance', 'red'];
    const result = await beacon(argv, { BEACON_DEV_ISSUER_FILE: file, USER: 'alice' });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const principal = await createAuthenticator({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwks: { keys: issuer.jwks },
    }).authenticate(`Bearer ${result.stdout.trim()}`);
    expect(principal).toEqual({
      subject: 'cli:alice',
      roles: ['agency_analyst', 'auditor'],
      agencyId: 'cert-de',
      clearance: 'RED',
      scopes: [],
    });
  });

  it('mints hours, not months: at most 12 h, the most the services accept', async () => {
    const env = { BEACON_DEV_ISSUER_FILE: file };
    const longest = await beacon(['token', '--roles', 'coordinator', '--ttl', String(12 * 3600)], env);
    expect(longest).toMatchObject({ code: 0, stderr: '' });
    const auth = createAuthenticator({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwks: { keys: issuer.jwks },
    });
    await expect(auth.authenticate(`Bearer ${longest.stdout.trim()}`)).resolves.toMatchObject({
      roles: ['coordinator'],
    });
    for (const ttl of [String(12 * 3600 + 1), String(366 * 24 * 3600)]) {
      const refused = await beacon(['token', '--roles', 'coordinator', '--ttl', ttl], env);
      expect(refused).toMatchObject({ code: 2, stdout: '' });
      expect(refused.stderr).toMatch(/--ttl must be a whole number 1 to 43200/);
    }
  });

  it('mints a service identity only alone and only for the internal network', async () => {
    const env = { BEACON_DEV_ISSUER_FILE: file };
    const minted = await beacon(['token', '--roles', 'service', '--subject', 'workflows'], env);
    expect(minted).toMatchObject({ code: 0, stderr: '' });
    const config = { issuer: issuer.issuer, audience: issuer.audience, jwks: { keys: issuer.jwks } };
    const bearer = `Bearer ${minted.stdout.trim()}`;
    await expect(createAuthenticator(config, { door: 'internal' }).authenticate(bearer)).resolves.toEqual({
      subject: 'workflows',
      roles: ['service'],
      agencyId: undefined,
      clearance: 'AMBER',
      // The process's own scopes, no more.
      scopes: PROCESS_SCOPES.workflows,
    });
    await expect(createAuthenticator(config, { door: 'public' }).authenticate(bearer)).rejects.toThrow(
      'the bearer token is not valid',
    );
    const mixed = await beacon(['token', '--roles', 'service,coordinator'], env);
    expect(mixed).toMatchObject({ code: 2, stdout: '' });
    expect(mixed.stderr).toMatch(/--roles service stands alone/);
    const nobody = await beacon(['token', '--roles', 'service', '--subject', 'root'], env);
    expect(nobody).toMatchObject({ code: 2, stdout: '' });
    expect(nobody.stderr).toMatch(/a service identity is one Beacon process: --subject workflows, impact/);
  });

  it('refuses to mint anything with BEACON_ENV=production, and names a wrong BEACON_ENV', async () => {
    for (const roles of ['service', 'coordinator']) {
      const refused = await beacon(['token', '--roles', roles], {
        BEACON_DEV_ISSUER_FILE: file,
        BEACON_ENV: 'production',
      });
      expect(refused).toMatchObject({ code: 2, stdout: '' });
      expect(refused.stderr).toMatch(
        /beacon token is a development tool, refused with BEACON_ENV=production/,
      );
    }
    const wrong = await beacon(['token', '--roles', 'coordinator'], {
      BEACON_DEV_ISSUER_FILE: file,
      BEACON_ENV: 'prod',
    });
    expect(wrong).toMatchObject({ code: 2, stdout: '' });
    expect(wrong.stderr).toMatch(/BEACON_ENV must be development or production/);
    // Development, named or by default, mints.
    const dev = await beacon(['token', '--roles', 'coordinator'], {
      BEACON_DEV_ISSUER_FILE: file,
      BEACON_ENV: 'development',
    });
    expect(dev).toMatchObject({ code: 0, stderr: '' });
  });

  it('looks for the issuer file under the working directory, and explains its absence', async () => {
    const missing = await beacon(['token', '--roles', 'coordinator'], {}, join(dir, 'elsewhere'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /no development issuer at .*\.infra\/dev\/dev-issuer\.json: run `make up`/,
    );
    await writeFile(join(dir, 'x'), 'not json');
    const garbled = await beacon(['token', '--roles', 'coordinator', '--issuer-file', join(dir, 'x')]);
    expect(garbled).toMatchObject({ code: 1, stderr: expect.stringMatching(/x is not JSON/) as string });
    await writeFile(join(dir, 'x'), '{"issuer": "i"}');
    const invalid = await beacon(['token', '--roles', 'coordinator', '--issuer-file', join(dir, 'x')]);
    expect(invalid).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/is not a dev issuer file/) as string,
    });
  });
});

describe('output', () => {
  it('prints problems with one line per violation, without repeating them in the detail', () => {
    const violations = [
      {
        field: 'observables[0]',
        description: 'not a dotted-quad IPv4 address',
        reason: 'INVALID_OBSERVABLE',
      },
      { field: 'title', description: 'must not be empty' },
    ];
    expect(
      formatProblem({
        title: 'Invalid Argument',
        status: 400,
        detail: 'observables[0]: not a dotted-quad IPv4 address; title: must not be empty',
        violations,
      }),
    ).toEqual([
      'error 400 Invalid Argument: 2 invalid field(s)',
      '  observables[0]: not a dotted-quad IPv4 address [INVALID_OBSERVABLE]',
      '  title: must not be empty',
    ]);
    expect(
      formatProblem({
        title: 'Invalid Argument',
        status: 400,
        detail: 'invalid request: title: must not be empty',
        violations: violations.slice(1),
      }),
    ).toEqual(['error 400 Invalid Argument: invalid request', '  title: must not be empty']);
    expect(formatProblem({ title: 'Not Found', status: 404, detail: 'incident inc_x not found' })).toEqual([
      'error 404 Not Found: incident inc_x not found',
    ]);
    expect(formatProblem({ title: 'Unreachable', status: 0, detail: 'cannot reach' })).toEqual([
      'error: cannot reach',
    ]);
  });

  it('lists incidents as an aligned table with level, sectors and jurisdictions, long cells cut to fit', () => {
    const text = incidentTable([
      {
        id: 'inc_1',
        status: 'INCIDENT_STATUS_ACTIVE',
        tlp: 'TLP_AMBER_STRICT',
        severity: { level: 3, levelName: 'high', score: 61 },
        sectors: ['energy', 'communications', 'water-and-wastewater'],
        jurisdictions: ['DE-BY', 'UA'],
        version: '4',
        title: 'x'.repeat(80),
      },
      { id: 'inc_22', status: 'INCIDENT_STATUS_REPORTED', tlp: 'TLP_GREEN', title: 'short' },
    ]);
    expect(text.split('\n')).toEqual([
      'ID      STATUS    TLP           NCISS   SECTORS                           JURISDICTIONS  VERSION  TITLE',
      `inc_1   ACTIVE    AMBER+STRICT  3 high  energy,communications,water-and…  DE-BY,UA       4        ${'x'.repeat(49)}…`,
      'inc_22  REPORTED  GREEN         0       -                                 -              0        short',
      '',
    ]);
  });

  it('shows each observable canonical, with the defanged text the reporter wrote beside it', () => {
    const text = incidentDetails({
      id: 'inc_1',
      observables: [
        {
          type: 'url',
          value: 'https://evil.example.com/login',
          reported: 'hxxps://evil[.]example[.]com/login',
        },
        { type: 'ipv4', value: '192.0.2.1' },
      ],
    });
    expect(text).toContain(
      '  url           https://evil.example.com/login  (reported as hxxps://evil[.]example[.]com/login)\n',
    );
    expect(text).toContain('  ipv4          192.0.2.1\n');
  });

  it('shows each severity input with who set it, and the proposals not applied', () => {
    const text = incidentDetails({
      id: 'inc_1',
      severityInputs: { functionalImpact: 'denial-critical', actor: 'unknown', potentialImpact: 'very-high' },
      severityOrigins: {
        functionalImpact: {
          source: 'SEVERITY_INPUT_SOURCE_REPORTER',
          agencyId: 'oblenergo-a',
          reportId: 'rep_1',
        },
        potentialImpact: { source: 'SEVERITY_INPUT_SOURCE_IMPACT' },
      },
      severityProposals: [
        {
          reportId: 'rep_2',
          reporterAgencyId: 'oblenergo-b',
          severityInputs: { functionalImpact: '', actor: 'nation-state' },
        },
      ],
    });
    expect(text.split('\n').slice(-7)).toEqual([
      'severity inputs:',
      '  functionalImpact      denial-critical  reporter oblenergo-a (report rep_1)',
      '  actor                 unknown          baseline',
      "  potentialImpact       very-high        impact's cascade",
      'severity proposals (not applied):',
      '  oblenergo-b (report rep_2): actor nation-state',
      '',
    ]);
  });

  it('draws a bar on a terminal, throttled, and a line every tenth elsewhere', () => {
    expect(renderBar(3, 12, 1)).toBe(`[${'█'.repeat(8)}${'░'.repeat(22)}] 3/12  25%  1 failed`);

    let now = 0;
    let tty = '';
    const bar = createProgress({
      total: 4,
      out: { write: (s: string) => (tty += s) },
      tty: true,
      now: () => now,
    });
    bar.tick(false);
    bar.tick(false); // within the redraw interval: not drawn
    now += 100;
    bar.tick(true);
    bar.tick(false); // the last one is always drawn
    bar.finish();
    expect(tty.split('\r\x1b[2K')).toEqual([
      '',
      `reports ${renderBar(1, 4, 0)}`,
      `reports ${renderBar(3, 4, 1)}`,
      `reports ${renderBar(4, 4, 1)}\n`,
    ]);

    let log = '';
    const lines = createProgress({ total: 25, out: { write: (s: string) => (log += s) }, tty: false });
    for (let i = 0; i < 25; i++) lines.tick(i === 0);
    lines.finish();
    const printed = log.trimEnd().split('\n');
    expect(printed).toHaveLength(10);
    expect(printed[0]).toBe('reports: 3/25 (12%), 1 failed');
    expect(printed.at(-1)).toBe('reports: 25/25 (100%), 1 failed');
  });
});
