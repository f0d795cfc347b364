import { describe, expect } from 'vitest';
// Test helpers are not part of the gateway's exports, so they are reached by path.
import { reportJson } from '@beacon/gateway/testing';
import { test as base } from '@beacon/testkit';
import { createCli } from './cli-fixture.js';

const test = base.extend('cli', ({ infra, names, mongoClient }, { onCleanup }) =>
  createCli(infra, names, mongoClient, onCleanup),
);

interface SubmitJson {
  total: number;
  opened: number;
  attached: number;
  failed: number;
  results: { where: string; outcome: string; reportId?: string; incidentId?: string }[];
}

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
