/**
 * The CLI's reads across incidents (indicator sightings, trends, STIX), the audit chain's
 * verification and single-asset commands, against the real services behind the gateway; each
 * with a refusal the server makes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test as base } from '@beacon/testkit';
import { startCliStack, type CliStack } from './support/cli.js';

const test = base.extend('cli', { scope: 'file' }, async ({ infra }, { onCleanup }): Promise<CliStack> => {
  const cli = await startCliStack(infra);
  onCleanup(() => cli.stop());
  return cli;
});

describe('beacon indicators, trends, incidents stix and audit verify', () => {
  test('find a reported indicator, count incidents, export one as STIX and verify the audit chain', async ({
    cli,
  }) => {
    const analyst = await cli.token('agency_analyst', { agency: 'cert-omega' });
    const report = {
      title: 'Phishing wave against a regional bank',
      tlp: 'TLP_GREEN',
      classification: { rsitClass: 'fraud', rsitType: 'phishing' },
      sectors: ['financial-services'],
      jurisdictions: ['FR'],
      observables: [{ type: 'domain', value: 'bank-login-omega.example' }],
      awareAt: new Date(Date.now() - 600_000).toISOString(),
    };
    const submitted = await cli.beacon(
      ['reports', 'submit', '--file', await cli.file('report.json', JSON.stringify(report)), '--json'],
      { token: analyst },
    );
    expect(submitted.code).toBe(0);
    const inc = (JSON.parse(submitted.stdout) as { results: { incidentId: string }[] }).results[0]!
      .incidentId;
    const cc = await cli.token('coordinator');

    const found = await cli.beacon(['indicators', 'lookup', 'domain', 'bank-login-omega[.]example'], {
      token: cc,
    });
    expect(found).toMatchObject({ code: 0, stderr: '' });
    expect(found.stdout).toMatch(
      /^domain bank-login-omega\.example: 1 sighting\nSEEN AT\s+INCIDENT\s+REPORT\s+TLP\n/,
    );
    expect(found.stdout).toMatch(new RegExp(`\\n\\S+\\s+${inc}\\s+rep_\\w+\\s+GREEN\\n`));
    const unseen = await cli.beacon(['indicators', 'lookup', 'ipv4', '192.0.2.99'], { token: cc });
    expect(unseen.stdout).toBe('ipv4 192.0.2.99: not seen in any incident you may see\n');
    const badType = await cli.beacon(['indicators', 'lookup', 'planet', 'mars'], { token: cc });
    expect(badType.code).toBe(1);
    expect(badType.stderr).toMatch(
      /^error 400 Invalid Argument[^\n]*\n {2}observable\S*: unknown observable type "planet"/,
    );

    const trends = await cli.beacon(['trends', '--by', 'sector', '--per', 'week'], { token: cc });
    expect(trends).toMatchObject({ code: 0, stderr: '' });
    expect(trends.stdout).toMatch(
      /^PERIOD\s+SECTOR\s+INCIDENTS\n\d{4}-\d\d-\d\d\s+financial-services\s+1\n$/,
    );
    const tooLong = await cli.beacon(
      ['trends', '--from', '2020-01-01T00:00:00Z', '--to', '2026-01-01T00:00:00Z'],
      {
        token: cc,
      },
    );
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toMatch(/^error 400 Invalid Argument/);
    expect((await cli.beacon(['trends', '--by', 'colour'], { token: cc })).code).toBe(2);

    const stix = await cli.beacon(['incidents', 'stix', inc, '--out', 'stix/bundle.json'], { token: cc });
    expect(stix).toEqual({ code: 0, stdout: '', stderr: 'STIX bundle written to stix/bundle.json\n' });
    const bundle = JSON.parse(await readFile(join(cli.dir, 'stix/bundle.json'), 'utf8')) as {
      type: string;
      objects: { type: string }[];
    };
    expect(bundle.type).toBe('bundle');
    expect(bundle.objects.map((o) => o.type)).toContain('indicator');
    const missing = await cli.beacon(['incidents', 'stix', 'inc_nothinghere'], { token: cc });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error 404 Not Found/);

    const verified = await cli.beacon(['audit', 'verify', '--json'], { token: cc });
    expect(verified.code).toBe(0);
    const result = JSON.parse(verified.stdout) as { ok: boolean; ends: unknown[] };
    expect(result.ok).toBe(true);
    await writeFile(join(cli.dir, 'ends.json'), verified.stdout);
    const again = await cli.beacon(['audit', 'verify', '--checkpoint', 'ends.json'], { token: cc });
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toMatch(/^audit chain intact: \d+ records in \d+ chains; head [0-9a-f]{64}\n$/);
    const victims = await cli.beacon(['audit', 'verify', '--victims'], { token: cc });
    expect(victims.stdout).toMatch(/^audit chain intact: /);
    const refused = await cli.beacon(['audit', 'verify'], { token: analyst });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error 403 Permission Denied/);
  });
});

describe('beacon assets get and delete, dependencies delete', () => {
  test("read one asset with its dependencies, and remove them, as far as the caller's operator goes", async ({
    cli,
  }) => {
    const cc = await cli.token('coordinator');
    const csv = [
      'id,name,operator_id,sector,jurisdiction,lat,lon,population_served,criticality,services,tlp',
      'grid-9,Grid nine,op-grid9,energy,DE-BY,48.1,11.5,100000,5,electricity,green',
      'clinic-9,Clinic nine,op-clinic9,healthcare-and-public-health,DE-BY,48.2,11.6,20000,4,emergency-care,green',
    ].join('\n');
    const deps = [
      'dependent_id,provider_id,kind,time_to_impact_hours,degradation,backup_hours',
      'clinic-9,grid-9,power,0,1,72',
    ].join('\n');
    for (const [name, text] of [
      ['assets.csv', csv],
      ['deps.csv', deps],
    ] as const) {
      const imported = await cli.beacon(['assets', 'import', '--file', await cli.file(name, text)], {
        token: cc,
      });
      expect(imported.code).toBe(0);
    }
    const clinic = await cli.beacon(['assets', 'get', 'clinic-9'], { token: cc });
    expect(clinic).toMatchObject({ code: 0, stderr: '' });
    expect(clinic.stdout).toMatch(/\noperator: +op-clinic9\n/);
    expect(clinic.stdout).toMatch(
      /\ndepends on:\n {2}PROVIDER\s+KIND\s+TIME TO IMPACT\s+DEGRADATION\s+BACKUP\n {2}grid-9\s+power\s+0 h\s+1\s+72 h\n/,
    );

    // The grid's admin may not touch the clinic's dependency, nor see the clinic.
    const gridAdmin = await cli.token('agency_admin', { agency: 'op-grid9' });
    const foreign = await cli.beacon(['dependencies', 'delete', 'clinic-9', 'grid-9', 'power'], {
      token: gridAdmin,
    });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/^error 404 Not Found/);
    const removed = await cli.beacon(['dependencies', 'delete', 'clinic-9', 'grid-9', 'power'], {
      token: cc,
    });
    expect(removed).toEqual({
      code: 0,
      stdout: 'clinic-9 no longer depends on grid-9 for power\n',
      stderr: '',
    });
    expect((await cli.beacon(['assets', 'get', 'clinic-9'], { token: cc })).stdout).toContain(
      'depends on: (nothing you may see)',
    );

    const deleted = await cli.beacon(['assets', 'delete', 'grid-9'], { token: gridAdmin });
    expect(deleted).toEqual({
      code: 0,
      stdout: 'grid-9 removed, with 0 dependencies naming it\n',
      stderr: '',
    });
    const gone = await cli.beacon(['assets', 'get', 'grid-9'], { token: cc });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^error 404 Not Found/);
    const notTheirs = await cli.beacon(['assets', 'delete', 'clinic-9'], { token: gridAdmin });
    expect(notTheirs.code).toBe(1);
    expect(notTheirs.stderr).toMatch(/^error 404 Not Found/);
  });
});
