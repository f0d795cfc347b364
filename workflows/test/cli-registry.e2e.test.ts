/**
 * The CLI's agency, subscription, feed-credential and support-organisation commands against the
 * real services behind the gateway: each does its job with readable and `--json` output, and
 * each refusal the server makes comes back as its problem, field violations included, with exit
 * code 1 (usage errors, caught before anything is sent, exit 2).
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test as base } from '@beacon/testkit';
import { startCliStack, type CliStack } from './support/cli.js';

const test = base.extend('cli', { scope: 'file' }, async ({ infra }, { onCleanup }): Promise<CliStack> => {
  const cli = await startCliStack(infra);
  onCleanup(() => cli.stop());
  return cli;
});

const CONTACTS = [
  '--contact',
  'duty-officer:Duty officer:duty@cert-alpha.example:+4989123456',
  '--contact',
  'deputy:Deputy:deputy@cert-alpha.example',
];

/** Registers cert-alpha (a CSIRT) and lka-alpha (police, from a file) as a coordinator. */
async function registerAgencies(cli: CliStack, cc: string) {
  const put = await cli.beacon(
    [
      'agencies',
      'put',
      '--id',
      'cert-alpha',
      '--name',
      'CERT Alpha',
      '--kind',
      'csirt',
      '--jurisdictions',
      'DE-BY',
      '--sectors',
      'energy,water-and-wastewater',
      '--clearance',
      'red',
      ...CONTACTS,
    ],
    { token: cc },
  );
  expect(put).toMatchObject({ code: 0, stderr: '' });
  expect(put.stdout).toContain('registered cert-alpha (version 1)');
  expect(put.stdout).toContain('kind:          csirt');
  expect(put.stdout).toContain('0  duty-officer  Duty officer  duty@cert-alpha.example  +4989123456');
  expect(put.stdout).toContain('1  deputy        Deputy  deputy@cert-alpha.example');

  const file = await cli.file(
    'lka.json',
    JSON.stringify({
      agency: {
        id: 'lka-alpha',
        name: 'LKA Alpha',
        kind: 'AGENCY_KIND_LAW_ENFORCEMENT',
        jurisdictions: ['DE-BY'],
        sectors: ['energy'],
        clearance: 'TLP_AMBER',
        contacts: [{ role: 'duty-officer', name: 'Kripo', email: 'kripo@lka-alpha.example' }],
      },
      expectedVersion: 0,
    }),
  );
  const fromFile = await cli.beacon(['agencies', 'put', '--file', file, '--json'], { token: cc });
  expect(fromFile.code).toBe(0);
  expect(JSON.parse(fromFile.stdout)).toMatchObject({
    agency: { id: 'lka-alpha', kind: 'AGENCY_KIND_LAW_ENFORCEMENT', version: 1 },
  });
}

/** A CSIRT for Bavarian energy, registered with flags as a coordinator would. */
async function registerCsirt(cli: CliStack, id: string) {
  const put = await cli.beacon(
    [
      'agencies',
      'put',
      '--id',
      id,
      '--name',
      id,
      '--kind',
      'csirt',
      '--jurisdictions',
      'DE-BY',
      '--sectors',
      'energy',
      '--clearance',
      'red',
      '--contact',
      `duty-officer:Duty officer:duty@${id}.example`,
    ],
    { token: await cli.token('coordinator') },
  );
  expect(put).toMatchObject({ code: 0, stderr: '' });
}

describe('beacon agencies', () => {
  test('registers, lists, shows and updates agencies; the server’s refusals come back with their fields', async ({
    cli,
  }) => {
    const cc = await cli.token('coordinator');
    await registerAgencies(cli, cc);

    const list = await cli.beacon(['agencies', 'list'], { token: cc });
    expect(list.code).toBe(0);
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+KIND\s+CLEARANCE\s+JURISDICTIONS\s+SECTORS\s+CONTACTS\s+VERSION\s+NAME$/);
    // Other tests of this file register agencies of their own.
    const ours = rows.filter((r) => /^(cert|lka)-alpha /.test(r));
    expect(ours.map((r) => r.split(/\s+/).slice(0, 3))).toEqual([
      ['cert-alpha', 'csirt', 'RED'],
      ['lka-alpha', 'law-enforcement', 'AMBER'],
    ]);
    const listed = JSON.parse((await cli.beacon(['agencies', 'list', '--json'], { token: cc })).stdout) as {
      agencies: { id: string }[];
    };
    expect(listed.agencies.map((a) => a.id)).toEqual(expect.arrayContaining(['cert-alpha', 'lka-alpha']));

    // A bad record: every field the server refuses, one line each.
    const invalid = await cli.beacon(
      ['agencies', 'put', '--id', 'cert-beta', '--name', 'Beta', '--kind', 'csirt'],
      { token: cc, env: {} },
    );
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error 400 Invalid Argument/);
    expect(invalid.stderr).toMatch(/\n {2}agency\.clearance: /);
    expect(invalid.stderr).toMatch(/\n {2}agency\.contacts: needs at least one contact/);
    const json = await cli.beacon(
      ['agencies', 'put', '--id', 'cert-beta', '--name', 'Beta', '--kind', 'csirt', '--json'],
      { token: cc },
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toMatchObject({
      status: 400,
      violations: expect.arrayContaining([expect.objectContaining({ field: 'agency.clearance' })]) as unknown,
    });
    // Registering twice is refused, not a silent replacement.
    const again = await cli.beacon(['agencies', 'put', '--file', 'lka.json'], { token: cc });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error 409 /);

    // The agency's admin keeps its contacts and channels; --update changes only what it gives.
    const admin = await cli.token('agency_admin', { agency: 'cert-alpha' });
    const updated = await cli.beacon(
      ['agencies', 'put', '--id', 'cert-alpha', '--update', '--email-to', 'soc@cert-alpha.example'],
      { token: admin },
    );
    expect(updated).toMatchObject({ code: 0, stderr: '' });
    expect(updated.stdout).toContain('updated cert-alpha (version 2)');
    expect(updated.stdout).toContain('e-mail:   soc@cert-alpha.example');
    expect(updated.stdout).toContain('0  duty-officer  Duty officer');
    expect(updated.stdout).toContain('clearance:     RED');
    // Its remit and clearance are the coordination centre's vetting.
    const vetting = await cli.beacon(
      ['agencies', 'put', '--id', 'cert-alpha', '--update', '--clearance', 'clear'],
      {
        token: admin,
      },
    );
    expect(vetting.code).toBe(1);
    expect(vetting.stderr).toMatch(/^error 403 Permission Denied: agency\.clearance: vetting/);
    const got = JSON.parse(
      (await cli.beacon(['agencies', 'get', 'cert-alpha', '--json'], { token: admin })).stdout,
    ) as {
      agency: { version: number; clearance: string };
    };
    expect(got.agency).toMatchObject({ version: 2, clearance: 'TLP_RED' });

    // An analyst reads its own agency; another agency reads as one that does not exist.
    const analyst = await cli.token('agency_analyst', { agency: 'cert-alpha' });
    expect((await cli.beacon(['agencies', 'get', 'cert-alpha'], { token: analyst })).stdout).toContain(
      'name:          CERT Alpha',
    );
    const other = await cli.beacon(['agencies', 'get', 'lka-alpha'], { token: analyst });
    const nobody = await cli.beacon(['agencies', 'get', 'nobody'], { token: analyst });
    expect(other.code).toBe(1);
    expect(other.stderr).toBe(nobody.stderr.replace('nobody', 'lka-alpha'));
    expect(other.stderr).toMatch(/^error 404 Not Found/);
    const listing = await cli.beacon(['agencies', 'list'], { token: analyst });
    expect(listing.code).toBe(1);
    expect(listing.stderr).toMatch(/^error 403 Permission Denied/);

    const both = await cli.beacon(['agencies', 'put', '--id', 'cert-alpha', '--update', '--version', '2'], {
      token: cc,
    });
    expect(both).toMatchObject({ code: 2, stdout: '' });
    expect(both.stderr).toContain('give --version or --update, not both');
    const contact = await cli.beacon(['agencies', 'put', '--id', 'x', '--contact', 'boss:Boss'], {
      token: cc,
    });
    expect(contact.code).toBe(2);
    expect(contact.stderr).toContain(
      '--contact role must be one of duty-officer, deputy, head, national-spoc',
    );
  });

  test('subscribes an agency, lists and removes its subscriptions; a bad filter is named', async ({
    cli,
  }) => {
    await registerCsirt(cli, 'cert-beta');
    await registerCsirt(cli, 'cert-beta-2');
    const admin = await cli.token('agency_admin', { agency: 'cert-beta' });
    const subscribed = await cli.beacon(
      [
        'agencies',
        'subscribe',
        'cert-beta',
        'energy-de',
        '--sectors',
        'energy',
        '--jurisdictions',
        'DE',
        '--min-level',
        '2',
        '--reach',
        'named',
        '--event-types',
        'incident.*,impact.assessed',
      ],
      { token: admin },
    );
    expect(subscribed).toMatchObject({ code: 0, stderr: '' });
    expect(subscribed.stdout).toContain('cert-beta subscribed as energy-de');
    expect(subscribed.stdout).toMatch(
      /energy-de\s+incident\.\*,impact\.assessed\s+\*\s+energy\s+DE\s+2\s+named\s+\*/,
    );

    const listed = await cli.beacon(['agencies', 'subscriptions', 'cert-beta', '--json'], { token: admin });
    expect(JSON.parse(listed.stdout)).toEqual({
      subscriptions: [
        expect.objectContaining({
          id: 'energy-de',
          agencyId: 'cert-beta',
          sectors: ['energy'],
          jurisdictions: ['DE'],
          minNcissLevel: 2,
          reach: 'SUBSCRIPTION_REACH_NAMED',
        }),
      ],
    });

    const bad = await cli.beacon(['agencies', 'subscribe', 'cert-beta', 'farms', '--sectors', 'farming'], {
      token: admin,
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error 400 Invalid Argument/);
    expect(bad.stderr).toMatch(/\n {2}subscription\.sectors\[0\]: /);
    // Another agency's subscriptions read as absent to this agency's admin.
    const foreign = await cli.beacon(['agencies', 'subscribe', 'cert-beta-2', 'x'], { token: admin });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/^error 404 Not Found: no agency cert-beta-2/);
    const level = await cli.beacon(['agencies', 'subscribe', 'cert-beta', 'x', '--min-level', '9'], {
      token: admin,
    });
    expect(level.code).toBe(2);
    expect(level.stderr).toContain('--min-level must be a whole number 0 to 5');

    const removed = await cli.beacon(['agencies', 'unsubscribe', 'cert-beta', 'energy-de'], { token: admin });
    expect(removed).toEqual({ code: 0, stdout: 'cert-beta: energy-de removed\n', stderr: '' });
    expect((await cli.beacon(['agencies', 'subscriptions', 'cert-beta'], { token: admin })).stdout).toBe(
      'no subscriptions\n',
    );
    const twice = await cli.beacon(['agencies', 'unsubscribe', 'cert-beta', 'energy-de'], { token: admin });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^error 404 Not Found: no subscription energy-de/);
  });

  test('writes feed credentials to a file only its owner reads, and never prints them', async ({ cli }) => {
    await registerCsirt(cli, 'cert-gamma');
    const admin = await cli.token('agency_admin', { agency: 'cert-gamma' });
    // A file left readable by others is replaced, not rewritten in place.
    await writeFile(join(cli.dir, 'cert-gamma.creds'), 'old', { mode: 0o644 });
    const issued = await cli.beacon(
      ['agencies', 'credentials', 'cert-gamma', '--out', 'cert-gamma.creds', '--ttl-hours', '2'],
      { token: admin },
    );
    expect(issued).toMatchObject({ code: 0, stderr: '' });
    expect(issued.stdout).toMatch(/^wrote cert-gamma\.creds \(mode 0600\), valid until \d{4}-/);
    expect(issued.stdout).toContain('inbox prefix _INBOX.cert-gamma;');
    expect(issued.stdout).toContain('filtered to beacon.feed.cert-gamma.>');
    const path = join(cli.dir, 'cert-gamma.creds');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const creds = await readFile(path, 'utf8');
    expect(creds).toContain('-----BEGIN NATS USER JWT-----');
    expect(creds).toContain('-----BEGIN USER NKEY SEED-----');
    const seed = /\n(SU[A-Z0-9]+)\n/.exec(creds)?.[1];
    expect(seed).toBeDefined();
    expect(issued.stdout).not.toContain(seed);
    const json = JSON.parse(
      (
        await cli.beacon(['agencies', 'credentials', 'cert-gamma', '--out', 'again.creds', '--json'], {
          token: admin,
        })
      ).stdout,
    ) as Record<string, unknown>;
    expect(json).toMatchObject({ inboxPrefix: '_INBOX.cert-gamma', credsFile: join(cli.dir, 'again.creds') });
    expect(json).not.toHaveProperty('creds');

    // An analyst may not issue them: nothing is written.
    const analyst = await cli.token('agency_analyst', { agency: 'cert-gamma' });
    const refused = await cli.beacon(['agencies', 'credentials', 'cert-gamma', '--out', 'analyst.creds'], {
      token: analyst,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error 403 Permission Denied/);
    await expect(stat(join(cli.dir, 'analyst.creds'))).rejects.toThrow('ENOENT');
    const missing = await cli.beacon(['agencies', 'credentials', 'cert-gamma'], { token: admin });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--out is required');
  });

  test('lists deliveries to an agency about an incident, and names a malformed incident id', async ({
    cli,
  }) => {
    await registerCsirt(cli, 'cert-delta');
    const analyst = await cli.token('agency_analyst', { agency: 'cert-delta' });
    const none = await cli.beacon(['agencies', 'deliveries', 'cert-delta', 'inc_unknown1'], {
      token: analyst,
    });
    expect(none).toEqual({ code: 0, stdout: 'no deliveries you may see\n', stderr: '' });
    const bad = await cli.beacon(['agencies', 'deliveries', 'cert-delta', 'incident-7'], { token: analyst });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error 400 Invalid Argument[^\n]*\n {2}incident_id: is not an incident id/);
  });
});

describe('beacon support-orgs', () => {
  test('registers, lists, shows and updates support organisations; vetting stays the centre’s', async ({
    cli,
  }) => {
    const cc = await cli.token('coordinator');
    const put = await cli.beacon(
      [
        'support-orgs',
        'put',
        '--id',
        'hilfe-alpha',
        '--name',
        'Hilfe Alpha',
        '--jurisdictions',
        'DE',
        '--languages',
        'de,en',
        '--needs',
        'financial-loss,psychological-distress',
        '--capacity',
        '10',
        '--accepting',
        'yes',
      ],
      { token: cc },
    );
    expect(put).toMatchObject({ code: 0, stderr: '' });
    expect(put.stdout).toContain('registered hilfe-alpha (version 1)');
    expect(put.stdout).toContain('needs covered:  financial-loss,psychological-distress');

    const list = await cli.beacon(['support-orgs', 'list'], { token: cc });
    expect(list.stdout).toMatch(
      /hilfe-alpha\s+DE\s+de,en\s+financial-loss,psychological-distress\s+no\s+0\/10\s+yes\s+1\s+Hilfe Alpha/,
    );
    const got = JSON.parse(
      (await cli.beacon(['support-orgs', 'get', 'hilfe-alpha', '--json'], { token: cc })).stdout,
    ) as {
      organisation: Record<string, unknown>;
    };
    expect(got.organisation).toMatchObject({ id: 'hilfe-alpha', capacity: 10, accepting: true, version: 1 });

    // Its admin says it is full for now; its capacity is the centre's to judge.
    const admin = await cli.token('agency_admin', { agency: 'hilfe-alpha' });
    const paused = await cli.beacon(
      ['support-orgs', 'put', '--id', 'hilfe-alpha', '--update', '--accepting', 'no'],
      {
        token: admin,
      },
    );
    expect(paused).toMatchObject({ code: 0, stderr: '' });
    expect(paused.stdout).toContain('updated hilfe-alpha (version 2)');
    expect(paused.stdout).toContain('accepting:      no');
    const vetting = await cli.beacon(
      ['support-orgs', 'put', '--id', 'hilfe-alpha', '--update', '--capacity', '99'],
      {
        token: admin,
      },
    );
    expect(vetting.code).toBe(1);
    expect(vetting.stderr).toMatch(/^error 403 Permission Denied: .*capacity/);

    const invalid = await cli.beacon(
      [
        'support-orgs',
        'put',
        '--id',
        'hilfe-beta',
        '--name',
        'Beta',
        '--jurisdictions',
        'DE',
        '--languages',
        'klingon',
      ],
      { token: cc },
    );
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error 400 Invalid Argument/);
    expect(invalid.stderr).toMatch(/\n {2}organisation\.languages\[0\]: /);
    expect(invalid.stderr).toMatch(/\n {2}organisation\.needs_covered: /);
    const need = await cli.beacon(['support-orgs', 'put', '--id', 'x', '--needs', 'flying'], { token: cc });
    expect(need.code).toBe(2);
    expect(need.stderr).toContain('--needs must be one of financial-loss, identity-theft');
    const unknown = await cli.beacon(['support-orgs', 'get', 'nobody'], { token: cc });
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'beacon: no support organisation nobody\n' });
  });

  test("lists an organisation's referrals to its officers only", async ({ cli }) => {
    const officer = await cli.token('victim_officer', { agency: 'hilfe-gamma' });
    const inbox = await cli.beacon(['support-orgs', 'referrals', 'hilfe-gamma', '--state', 'offered'], {
      token: officer,
    });
    expect(inbox).toEqual({ code: 0, stdout: 'no referrals\n', stderr: '' });
    const cc = await cli.token('coordinator');
    const refused = await cli.beacon(['support-orgs', 'referrals', 'hilfe-gamma'], { token: cc });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error 403 Permission Denied/);
  });
});
