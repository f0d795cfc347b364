/**
 * The CLI's response commands against the real services and the response workflows: a
 * coordinator follows an incident's response, an agency acknowledges, the coordinator escalates,
 * engages and removes agencies, changes severity, records a ransom payment and the reports filed,
 * and resolves. Each command's refusal comes back as the server's problem with exit code 1.
 */
import { describe, expect } from 'vitest';
import { scoreSeverity, type NcissInputs, NCISS_BASELINE } from '@beacon/domain';
import { test as base } from '@beacon/testkit';
import { startCliStack, type CliStack } from './support/cli.js';

const test = base.extend('cli', { scope: 'file' }, async ({ infra }, { onCleanup }): Promise<CliStack> => {
  const cli = await startCliStack(infra);
  onCleanup(() => cli.stop());
  return cli;
});

/** NCISS level 2 (Medium): NIS2 applies in an EU member state. */
const MEDIUM: NcissInputs = {
  ...NCISS_BASELINE,
  functionalImpact: 'significant-non-critical',
  observedActivity: 'effect',
  location: 'business-network-management',
  actor: 'organised-crime',
  informationImpact: 'suspected',
  recoverability: 'supplemented',
  potentialImpact: 'medium',
};

async function register(cli: CliStack, cc: string, id: string, kind: string, jurisdiction: string) {
  const put = await cli.beacon(
    [
      'agencies',
      'put',
      '--id',
      id,
      '--name',
      id,
      '--kind',
      kind,
      '--jurisdictions',
      jurisdiction,
      '--sectors',
      'water-and-wastewater',
      '--clearance',
      'red',
      '--contact',
      `duty-officer:Duty officer:duty@${id}.example`,
      '--contact',
      `deputy:Deputy:deputy@${id}.example`,
    ],
    { token: cc },
  );
  expect(put).toMatchObject({ code: 0, stderr: '' });
}

interface StatusJson {
  phase: string;
  ncissLevel: number;
  ransomPaidAt?: string;
  engagements: { agencyId: string; state: string; via?: string; round?: number; contactRank?: number }[];
  obligations: { id: string; state: string; mustFileBeforeResolving?: boolean }[];
  resolveBlockers?: string[];
}

const statusOf = (stdout: string) => (JSON.parse(stdout) as { status: StatusJson }).status;

describe('beacon responses', () => {
  test('follows a response from opening to resolution, command by command, each refusal shown', async ({
    cli,
  }) => {
    expect(scoreSeverity(MEDIUM).level).toBe(2);
    const cc = await cli.token('coordinator');
    await register(cli, cc, 'cert-hessen', 'csirt', 'DE-HE');
    await register(cli, cc, 'polizei-hessen', 'law-enforcement', 'DE-HE');
    await register(cli, cc, 'cert-nord', 'csirt', 'DE-SH');
    const incident = await cli.file(
      'incident.json',
      JSON.stringify({
        title: 'Ransomware at a Hessian water works',
        tlp: 'TLP_AMBER',
        classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
        sectors: ['water-and-wastewater'],
        jurisdictions: ['DE-HE'],
        severityInputs: MEDIUM,
        awareAt: new Date(Date.now() - 3_600_000).toISOString(),
      }),
    );
    const opened = await cli.beacon(['incidents', 'open', '--file', incident, '--json'], { token: cc });
    expect(opened.code).toBe(0);
    const inc = (JSON.parse(opened.stdout) as { incident: { id: string } }).incident.id;

    // Wait until both Hessian agencies have been asked; the text view says where it stands.
    const waited = await cli.beacon(
      [
        'responses',
        'wait',
        inc,
        '--notified',
        'cert-hessen',
        '--notified',
        'polizei-hessen',
        '--timeout',
        '60',
      ],
      { token: cc },
    );
    expect(waited).toMatchObject({ code: 0, stderr: '' });
    expect(waited.stdout).toMatch(new RegExp(`^incident: +${inc}  Ransomware at a Hessian water works\n`));
    expect(waited.stdout).toMatch(/\n {2}cert-hessen\s+notified\s+0 duty-officer\s+1\s+1\s+-\s+-\n/);
    expect(waited.stdout).toMatch(/\n {2}polizei-hessen\s+notified\s+0 duty-officer/);
    expect(waited.stdout).toMatch(/\n {2}NIS2 {4}EU member state\(s\) DE/);
    expect(waited.stdout).toMatch(
      /\n {2}nis2-early-warning \*\s+\d{4}-\S+\s+open\s+-\s+-\s+NIS2 early warning/,
    );
    expect(waited.stdout).toContain('may not be resolved yet:\n  NIS2 early warning (24 h) is not filed');
    const gaveUp = await cli.beacon(['responses', 'wait', inc, '--phase', 'closed', '--timeout', '1'], {
      token: cc,
    });
    expect(gaveUp.code).toBe(1);
    expect(gaveUp.stderr).toMatch(
      new RegExp(
        `^beacon: gave up after 1 s waiting for phase closed on ${inc}; it is active, engagements: `,
      ),
    );

    const timeline = await cli.beacon(['responses', 'timeline', inc], { token: cc });
    expect(timeline.code).toBe(0);
    expect(timeline.stdout).toMatch(/^#\s+AT\s+KIND\s+AGENCY\s+DETAIL\n1\s+\S+\s+triage\s/);
    expect(timeline.stdout).toMatch(
      /\n\d+\s+\S+\s+notified\s+cert-hessen\s+notified duty-officer \(rank 0\)/,
    );
    const json = async (...args: string[]) => {
      const run = await cli.beacon(['responses', 'timeline', inc, ...args, '--json'], { token: cc });
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as {
        entries: { kind: string; sequence: number }[];
        nextPageToken?: string;
      };
    };
    const entries = (await json()).entries;
    expect(entries.map((e) => e.kind)).toContain('engagement');
    // A page at a time, by kind, by time: the same entries as the whole.
    const page1 = await json('--page-size', '2');
    expect(page1.entries.map((e) => e.sequence)).toEqual([1, 2]);
    const page2 = await json('--page-size', '2', '--page-token', page1.nextPageToken!);
    expect(page2.entries.map((e) => e.sequence)).toEqual(entries.slice(2, 4).map((e) => e.sequence));
    const byKind = await json('--kind', 'engagement,notified', '--all');
    expect(byKind.entries.map((e) => e.sequence)).toEqual(
      entries.filter((e) => ['engagement', 'notified'].includes(e.kind)).map((e) => e.sequence),
    );
    // An empty page has no entries field at all (proto3 JSON).
    expect((await json('--since', '2100-01-01T00:00:00Z')).entries).toBeUndefined();
    expect((await json('--until', '2000-01-01T00:00:00Z')).entries).toBeUndefined();
    const badSize = await cli.beacon(['responses', 'timeline', inc, '--page-size', '5000'], { token: cc });
    expect(badSize.code).not.toBe(0);
    expect(badSize.stderr).toMatch(/page-size/);

    // The police acknowledge with a token naming their agency; another agency may not for them.
    const police = await cli.token('agency_analyst', { agency: 'polizei-hessen' });
    const cert = await cli.token('agency_analyst', { agency: 'cert-hessen' });
    const foreign = await cli.beacon(['responses', 'acknowledge', inc, '--agency', 'polizei-hessen'], {
      token: cert,
    });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(
      /^error 403 Permission Denied: an agency acknowledges only its own engagements/,
    );
    const acked = await cli.beacon(['responses', 'acknowledge', inc, '--note', 'Kripo on it'], {
      token: police,
    });
    expect(acked).toMatchObject({ code: 0, stderr: '' });
    expect(acked.stdout).toMatch(new RegExp(`^polizei-hessen acknowledged its engagement on ${inc}\n`));
    const answered = await cli.beacon(['responses', 'wait', inc, '--acknowledged', 'polizei-hessen'], {
      token: cc,
    });
    expect(answered.stdout).toMatch(
      /\n {2}polizei-hessen\s+acknowledged\s+0 duty-officer\s+1\s+1\s+\S+ \(\d+ s\)\s+rest\n/,
    );
    // An engaged agency reads the response; one not engaged finds none, as for no incident.
    const reading = await cli.beacon(['responses', 'get', inc], { token: police });
    expect(reading).toMatchObject({ code: 0, stderr: '' });
    expect(reading.stdout).toMatch(/\n {2}polizei-hessen\s+acknowledged\s/);
    const nord = await cli.token('agency_analyst', { agency: 'cert-nord' });
    const hidden = await cli.beacon(['responses', 'timeline', inc], { token: nord });
    const nothing = await cli.beacon(['responses', 'timeline', 'inc_nothinghere'], { token: nord });
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toMatch(/^error 404 Not Found/);
    expect(hidden.stderr).toBe(nothing.stderr.replace('inc_nothinghere', inc));

    // The CSIRT does not answer: the coordinator moves it to its deputy now.
    const escalated = await cli.beacon(['responses', 'escalate', inc, '--agency', 'cert-hessen'], {
      token: cc,
    });
    expect(escalated).toMatchObject({ code: 0, stderr: '' });
    expect(escalated.stdout).toMatch(new RegExp(`^escalated cert-hessen on ${inc}\n`));
    const settled = await cli.beacon(['responses', 'wait', inc, '--notified', 'cert-hessen', '--json'], {
      token: cc,
    });
    expect(settled.code).toBe(0);
    const notAgain = await cli.beacon(['responses', 'escalate', inc, '--agency', 'polizei-hessen'], {
      token: cc,
    });
    expect(notAgain.code).toBe(1);
    expect(notAgain.stderr).toMatch(/^error 400 [^:]+: the engagement of polizei-hessen is acknowledged/);
    await expect
      .poll(
        async () =>
          statusOf(
            (await cli.beacon(['responses', 'get', inc, '--json'], { token: cc })).stdout,
          ).engagements.find((e) => e.agencyId === 'cert-hessen')?.contactRank,
        { timeout: 30_000, interval: 250 },
      )
      .toBe(1);

    // Another agency joins the response, and leaves it.
    const added = await cli.beacon(
      ['responses', 'add-agency', inc, 'cert-nord', '--reason', 'the pumps are theirs'],
      {
        token: cc,
      },
    );
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toMatch(new RegExp(`^cert-nord engaged on ${inc}\n`));
    expect(added.stdout).toMatch(/\n {2}cert-nord\s+(engaging|notified)\s/);
    const twice = await cli.beacon(['responses', 'add-agency', inc, 'cert-nord'], { token: cc });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^error 400 [^:]+: agency cert-nord is already engaged/);
    const unknown = await cli.beacon(['responses', 'add-agency', inc, 'cert-nowhere'], { token: cc });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error 404 Not Found: no agency cert-nowhere in the registry/);
    const removed = await cli.beacon(
      ['responses', 'remove-agency', inc, 'cert-nord', '--reason', 'not theirs'],
      {
        token: cc,
      },
    );
    expect(removed).toMatchObject({ code: 0, stderr: '' });
    expect(removed.stdout).toMatch(/\n {2}cert-nord\s+removed\s/);
    const gone = await cli.beacon(['responses', 'remove-agency', inc, 'cert-nord'], { token: cc });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^error 400 [^:]+: the engagement of cert-nord is removed/);

    // Severity: from the incident's inputs, the ones named change.
    const raised = await cli.beacon(
      [
        'responses',
        'change-severity',
        inc,
        '--set',
        'functionalImpact=denial-critical',
        '--set',
        'potential_impact=very-high',
        '--set',
        'recoverability=not-recoverable',
      ],
      { token: cc },
    );
    expect(raised).toMatchObject({ code: 0, stderr: '' });
    const level = Number(/is now at NCISS level (\d)/.exec(raised.stdout)?.[1]);
    expect(level).toBeGreaterThan(2);
    const badInput = await cli.beacon(
      ['responses', 'change-severity', inc, '--set', 'potentialImpact=huge'],
      {
        token: cc,
      },
    );
    expect(badInput.code).toBe(2);
    expect(badInput.stderr).toContain(
      '--set potentialImpact must be one of none, low, medium, high, very-high',
    );
    const noResponse = await cli.beacon(
      ['responses', 'change-severity', 'inc_nothinghere', '--set', 'actor=insider'],
      { token: cc },
    );
    expect(noResponse.code).toBe(1);
    expect(noResponse.stderr).toMatch(/^error 404 Not Found/);

    // A ransom was paid an hour ago, not tomorrow.
    const future = await cli.beacon(
      ['responses', 'ransom-payment', inc, '--paid-at', new Date(Date.now() + 86_400_000).toISOString()],
      { token: cc },
    );
    expect(future.code).toBe(1);
    expect(future.stderr).toMatch(/^error 400 [^:]+: paidAtMs must not be in the future/);
    const paidAt = new Date(Date.now() - 3_600_000).toISOString();
    const paid = await cli.beacon(['responses', 'ransom-payment', inc, '--paid-at', paidAt], { token: cc });
    expect(paid).toMatchObject({ code: 0, stderr: '' });
    const shown = /\nransom paid at: +(\S+)\n/.exec(paid.stdout)?.[1];
    expect(Date.parse(shown ?? '')).toBe(Date.parse(paidAt));
    const noTime = await cli.beacon(['responses', 'ransom-payment', inc, '--paid-at', 'yesterday'], {
      token: cc,
    });
    expect(noTime.code).toBe(2);

    // Resolving waits for the reports that must come first, and says which.
    const early = await cli.beacon(['responses', 'resolve', inc, '--summary', 'restored from backups'], {
      token: cc,
    });
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('NIS2 early warning (24 h) is not filed');
    const badReport = await cli.beacon(
      ['responses', 'file-report', inc, '--obligation', 'nis2-gossip', '--reference', 'x'],
      { token: cc },
    );
    expect(badReport.code).toBe(1);
    expect(badReport.stderr).toMatch(
      /^error 400 Invalid Argument[^\n]*\n {2}obligation: is not a reporting obligation/,
    );
    const status = statusOf((await cli.beacon(['responses', 'get', inc, '--json'], { token: cc })).stdout);
    const first = status.obligations.filter((o) => o.mustFileBeforeResolving);
    expect(first.map((o) => o.id)).toEqual(
      expect.arrayContaining(['nis2-early-warning', 'nis2-incident-notification']),
    );
    for (const o of first) {
      const filed = await cli.beacon(
        ['responses', 'file-report', inc, '--obligation', o.id, '--reference', `BSI-${o.id}`],
        {
          token: cc,
        },
      );
      expect(filed).toMatchObject({ code: 0, stderr: '' });
      expect(filed.stdout).toMatch(
        new RegExp(`^${o.id} recorded as filed on ${inc} \\(reference BSI-${o.id}\\)\n`),
      );
      expect(filed.stdout).toMatch(
        new RegExp(`\n {2}${o.id} \\*\\s+\\S+\\s+filed\\s+\\S+\\s+BSI-${o.id}\\s`),
      );
    }
    const resolved = await cli.beacon(['responses', 'resolve', inc, '--summary', 'restored from backups'], {
      token: cc,
    });
    expect(resolved).toMatchObject({ code: 0, stderr: '' });
    expect(resolved.stdout).toMatch(new RegExp(`^${inc} resolved\n`));
    const done = await cli.beacon(['responses', 'wait', inc, '--phase', 'resolved', '--json'], { token: cc });
    expect(done.code).toBe(0);
    const final = statusOf(done.stdout);
    expect(final.phase).toBe('RESPONSE_PHASE_RESOLVED');
    expect(Date.parse(final.ransomPaidAt ?? '')).toBe(Date.parse(paidAt));

    const missing = await cli.beacon(['responses', 'get', 'inc_nothinghere'], { token: cc });
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(/^error 404 Not Found: incident inc_nothinghere not found/);
  });
});
