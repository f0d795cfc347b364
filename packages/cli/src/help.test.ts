import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ROLES as TOKEN_ROLES } from '@beacon/platform';
import { parseReports } from './report-file.js';
import { run } from './index.js';

async function beacon(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  });
  return { code, stdout, stderr };
}

/** Every command `beacon --help` lists, as its words. */
async function commands(): Promise<string[][]> {
  const { stdout } = await beacon(['--help']);
  const listed = stdout.split('commands:\n')[1]!.split('\n\n')[0]!;
  return listed.split('\n').map((line) =>
    line
      .trim()
      .split(/\s{2,}/)[0]!
      .split(' '),
  );
}

/** The lines of a help text that hold one JSON object, parsed. */
function jsonLines(help: string): unknown[] {
  return help
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('{') && line.endsWith('}'))
    .map((line) => JSON.parse(line) as unknown);
}

describe('--help', () => {
  it('says for every command which roles may use it', async () => {
    const all = await commands();
    expect(all.length).toBeGreaterThan(30);
    for (const words of all) {
      const help = await beacon([...words, '--help']);
      expect({ words, code: help.code }).toEqual({ words, code: 0 });
      expect(help.stdout).toMatch(new RegExp(`^usage: beacon ${words.join(' ')} `));
      const roles = /\nroles: (.+)\n/.exec(help.stdout)?.[1];
      expect({ words, roles }).toEqual({ words, roles: expect.stringMatching(/\w/) as string });
      // Each role named is one a token may carry.
      const named = roles!
        .match(/\b[a-z]+(_[a-z]+)?\b/g)!
        .filter((w) => w.includes('_') || w === 'coordinator');
      for (const role of named) expect(TOKEN_ROLES).toContain(role);
    }
  });

  it('lists every role and what it may do under beacon token --help', async () => {
    const { stdout } = await beacon(['token', '--help']);
    for (const role of TOKEN_ROLES) expect(stdout).toMatch(new RegExp(`\\n {2}${role} +\\S`));
    expect(stdout).toContain('agency_admin    an analyst who also keeps its own agency up to date');
  });

  it('gives commands that read a file the format and an example that parses', async () => {
    const victims = (await beacon(['victims', 'import', '--help'])).stdout;
    expect(victims).toContain('one new case a line');
    const [newCase] = jsonLines(victims);
    expect(newCase).toMatchObject({ jurisdiction: 'DE-BY', victim: { kind: 'VICTIM_KIND_PERSON' } });

    const reports = (await beacon(['reports', 'submit', '--help'])).stdout;
    const [line] = reports.split('\n').filter((l) => l.trim().startsWith('{"title"'));
    expect(parseReports(line!.trim(), 'reports.jsonl')).toEqual([
      expect.objectContaining({ body: expect.objectContaining({ tlp: 'TLP_GREEN' }) as unknown }),
    ]);

    const assets = (await beacon(['assets', 'import', '--help'])).stdout;
    expect(assets).toContain(
      'id,name,operator_id,sector,jurisdiction,lat,lon,population_served,criticality,services,tlp',
    );
    expect(assets).toContain('dependent_id,provider_id,kind,time_to_impact_hours,degradation,backup_hours');
    expect(jsonLines(assets).map((row) => Object.keys(row as object))).toEqual([['asset'], ['dependency']]);

    for (const [words, field] of [
      [['incidents', 'open'], '"classification"'],
      [['agencies', 'put'], '"contacts"'],
      [['support-orgs', 'put'], '"needsCovered"'],
      [['responses', 'change-severity'], '"functionalImpact"'],
      [['incidents', 'severity'], '"functionalImpact"'],
      [['assets', 'put'], '"populationServed"'],
      [['victims', 'open'], '"incidentIds"'],
      [['victims', 'update'], '"preferredChannel"'],
      [['victims', 'assess'], '"psychologicalDistress"'],
    ] as const) {
      const help = (await beacon([...words, '--help'])).stdout;
      expect({ words, format: /the file holds one JSON object/i.test(help.replace(/\s+/g, ' ')) }).toEqual({
        words,
        format: true,
      });
      expect(help).toContain(field);
    }
  });
});

describe('usage errors of the registry and response commands', () => {
  it('are caught before anything is sent, with exit code 2 and the command to read', async () => {
    const t = ['--token', 't', '--url', 'http://127.0.0.1:9'];
    const cases: [string[], RegExp][] = [
      [['agencies'], /agencies needs a subcommand/],
      [['agencies', 'get', ...t], /missing <agency-id>/],
      [['agencies', 'put', ...t], /name the agency: --id, or "id" in --file/],
      [
        ['agencies', 'put', '--id', 'a', '--kind', 'spy', ...t],
        /--kind must be one of csirt, law-enforcement/,
      ],
      [['agencies', 'put', '--id', 'a', '--clearance', 'PURPLE', ...t], /--clearance must be a TLP label/],
      [['agencies', 'put', '--id', 'a', '--contact', 'duty-officer', ...t], /--contact must be ROLE:NAME/],
      [
        ['agencies', 'put', '--id', 'a', '--webhook-secret', 's:x', ...t],
        /--webhook-secret needs --webhook URL/,
      ],
      [['agencies', 'put', '--file', '/nonexistent/a.json', ...t], /cannot read .*ENOENT/],
      [['agencies', 'subscribe', 'a', ...t], /missing <subscription-id>/],
      [
        ['agencies', 'subscribe', 'a', 's', '--reach', 'far', ...t],
        /--reach must be one of named, named-and-reached/,
      ],
      [['agencies', 'unsubscribe', 'a', ...t], /missing <subscription-id>/],
      [
        ['agencies', 'credentials', 'a', '--out', 'x', '--ttl-hours', '0', ...t],
        /--ttl-hours must be a whole number/,
      ],
      [['agencies', 'deliveries', 'a', ...t], /missing <incident-id>/],
      [['support-orgs', 'put', '--name', 'x', ...t], /name the organisation/],
      [['support-orgs', 'put', '--id', 'x', '--accepting', 'maybe', ...t], /--accepting must be yes or no/],
      [
        ['support-orgs', 'referrals', 'x', '--state', 'lost', ...t],
        /--state must be one of awaiting-consent/,
      ],
      [['support-orgs', 'get', ...t], /missing <organisation-id>/],
      [['responses', 'get', ...t], /missing <incident-id>/],
      [['responses', 'timeline', 'a', 'b', ...t], /unexpected argument "b"/],
      [['responses', 'wait', 'inc_1', '--phase', 'over', ...t], /--phase must be one of triage, active/],
      [['responses', 'wait', 'inc_1', '--timeout', '0', ...t], /--timeout must be a whole number/],
      [['responses', 'acknowledge', 'inc_1', ...t], /--agency is required: your token names no agency/],
      [['responses', 'add-agency', 'inc_1', ...t], /missing <agency-id>/],
      [['responses', 'remove-agency', 'inc_1', ...t], /missing <agency-id>/],
      [['responses', 'change-severity', 'inc_1', ...t], /give --file, --set NAME=VALUE, or both/],
      [['responses', 'change-severity', 'inc_1', '--set', 'mood=grim', ...t], /NAME one of functionalImpact/],
      [['responses', 'file-report', 'inc_1', '--reference', 'r', ...t], /--obligation is required/],
      [['responses', 'file-report', 'inc_1', '--obligation', 'o', ...t], /--reference is required/],
      [['responses', 'ransom-payment', 'inc_1', ...t], /--paid-at is required/],
      [['responses', 'resolve', 'inc_1', ...t], /--summary is required/],
      [['responses', 'escalate', 'inc_1'], /no token: pass --token or set BEACON_TOKEN/],
      [['trends', '--per', 'month', ...t], /--per must be one of day, week/],
      [['trends', '--from', 'last spring', ...t], /--from must be a time/],
      [['indicators', 'lookup', 'domain', ...t], /missing <value>/],
      [['incidents', 'stix', ...t], /missing <id>/],
      [['audit', 'verify', '--checkpoint', '/nonexistent/ends.json', ...t], /cannot read .*ENOENT/],
      [['assets', 'get', ...t], /missing <asset-id>/],
      [['assets', 'delete', 'a', 'b', ...t], /unexpected argument "b"/],
      [['dependencies', 'delete', 'a', 'b', ...t], /missing <kind>/],
      [
        ['dependencies', 'put', 'a', 'b', 'power', '--degradation', '0', ...t],
        /--degradation must be a number above 0 to 1/,
      ],
      [['assets', 'put', '--name', 'x', ...t], /name the asset: --id, or "id" in --file/],
      [['assets', 'put', '--id', 'a', '--lat', '1', ...t], /give --lat and --lon together/],
      [
        ['assets', 'put', '--id', 'a', '--criticality', '9', ...t],
        /--criticality must be a whole number 1 to 5/,
      ],
      [['assets', 'list', '--page-size', '0', ...t], /--page-size must be a whole number 1 to 500/],
      [['impact', 'get', ...t], /missing <assessment-id>/],
      [['incidents', 'assign', 'inc_1', ...t], /missing <agency-id>/],
      [['incidents', 'severity', 'inc_1', ...t], /give --file, --set NAME=VALUE, or both/],
      [['agencies', 'acknowledge', 'inc_1', ...t], /--agency is required: your token names no agency/],
      [['victims', 'open', ...t], /--file is required/],
      [['victims', 'find', ...t], /give --email or --phone/],
      [['victims', 'find', '--email', 'a@b', '--phone', '1', ...t], /give --email or --phone/],
      [['victims', 'update', 'vc_1', ...t], /give --file or a flag to change/],
      [
        ['victims', 'update', 'vc_1', '--channel', 'pigeon', ...t],
        /--channel must be one of email, phone, sms/,
      ],
      [['victims', 'assess', 'vc_1', ...t], /--file is required/],
      [['victims', 'consent', 'vc_1', '--purpose', 'gossip', ...t], /--purpose must be one of contact/],
      [['victims', 'consent', 'vc_1', '--purpose', 'contact', ...t], /give --grant or --withdraw/],
      [['victims', 'refer', 'vc_1', '--needs', 'money', ...t], /--needs must be one of financial-loss/],
      [['victims', 'respond', 'vc_1', 'ref-1', ...t], /give --accept or --decline/],
      [
        ['victims', 'respond', 'vc_1', 'ref-1', '--decline', 'bored', ...t],
        /--decline must be one of no-capacity/,
      ],
      [
        ['victims', 'check-in', 'vc_1', 'ci-1', '--outcome', 'maybe', ...t],
        /--outcome must be one of reached-ok/,
      ],
      [['victims', 'disclose', 'vc_1', ...t], /--agency is required/],
      [['victims', 'close', 'vc_1', ...t], /--reason is required/],
      [['victims', 'erase', 'vc_1', ...t], /erasure cannot be undone: confirm with --yes/],
      [['victims', 'audit', ...t], /missing <case-id>/],
    ];
    for (const [argv, message] of cases) {
      const result = await beacon(argv);
      expect({ argv, code: result.code, stdout: result.stdout }).toEqual({ argv, code: 2, stdout: '' });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/\(see `beacon [a-z -]+--help`\)\n$/);
    }
  });

  it("acknowledges for the token's own agency when --agency is not given", async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: { incidentId: 'inc_1', phase: 'RESPONSE_PHASE_ACTIVE' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const claims = Buffer.from(JSON.stringify({ agency_id: 'cert-bayern' })).toString('base64url');
      const result = await beacon(
        ['responses', 'acknowledge', 'inc_1', '--url', `http://127.0.0.1:${port}`],
        {
          BEACON_TOKEN: `e30.${claims}.sig`,
        },
      );
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^cert-bayern acknowledged its engagement on inc_1\n/);
      expect(seen).toEqual(['POST /v1/responses/inc_1/agencies/cert-bayern:acknowledge']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
