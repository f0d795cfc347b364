import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '@beacon/cli';
import { describe, expect } from 'vitest';
import { test as base } from '@beacon/testkit';
import { startVictimsStack, type VictimsStack } from './harness.js';

interface Cli {
  readonly stack: VictimsStack;
  /** Runs `beacon …` in-process against the gateway as the holder of `token`. */
  beacon(token: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `beacon … --json`, checked to succeed, its output parsed. */
  json<T = Record<string, unknown>>(token: string, argv: string[]): Promise<T>;
  file(name: string, value: unknown): Promise<string>;
}

const test = base.extend('cli', async ({ infra, names }, { onCleanup }): Promise<Cli> => {
  const stack = await startVictimsStack(infra, names, { gateway: true });
  const dir = await mkdtemp(join(tmpdir(), 'beacon-victim-cases-cli-'));
  onCleanup(async () => {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const beacon: Cli['beacon'] = async (token, argv) => {
    let stdout = '';
    let stderr = '';
    const code = await run(argv, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { BEACON_URL: stack.http, BEACON_TOKEN: token },
      isTTY: false,
      cwd: dir,
    });
    return { code, stdout, stderr };
  };
  return {
    stack,
    beacon,
    async json(token, argv) {
      const result = await beacon(token, [...argv, '--json']);
      expect({ argv, code: result.code, stderr: result.stderr }).toEqual({ argv, code: 0, stderr: '' });
      return JSON.parse(result.stdout) as never;
    },
    async file(name, value) {
      await writeFile(join(dir, name), JSON.stringify(value));
      return name;
    },
  };
});

const NEW_CASE = {
  incidentIds: ['inc_campaign1'],
  jurisdiction: 'DE-BY',
  language: 'de',
  victim: {
    kind: 'VICTIM_KIND_PERSON',
    displayName: 'Jana Nováková',
    email: 'jana.novakova@example.org',
    preferredChannel: 'CONTACT_CHANNEL_EMAIL',
  },
  needs: [
    {
      financialLoss: {
        amountMinor: '185000',
        currency: 'EUR',
        paymentMethod: 'PAYMENT_METHOD_CARD',
        paidAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
      },
    },
  ],
  consents: [{ purpose: 'CONSENT_PURPOSE_CONTACT', granted: true, wordingVersion: 'v2026-01' }],
};

interface CaseOut {
  case: {
    id: string;
    status?: string;
    version?: number;
    victim?: Record<string, string>;
    referrals?: { id: string; organisationId: string; state: string }[];
    assessment?: { needs?: { kind: string }[]; urgent?: boolean };
    erased?: boolean;
  };
  reference?: string;
}

/** An officer of the organisation that opens the case, and the case, opened through the CLI. */
async function openCase(cli: Cli) {
  const officer = await cli.stack.token(['victim_officer'], 'vs-bayern');
  const file = await cli.file('case.json', NEW_CASE);
  const opened = await cli.json<CaseOut>(officer, ['victims', 'open', '--file', file]);
  return { officer, caseId: opened.case.id, opened };
}

describe('beacon victims: an officer works a case through the gateway', () => {
  test('opens a case once, reads it with the victim’s data, finds, lists and updates it; a coordinator and another organisation are refused', async ({
    cli,
  }) => {
    const { officer, caseId, opened } = await openCase(cli);
    expect(opened.case.status).toBe('CASE_STATUS_OPEN');
    expect(opened.reference).toMatch(/^VC-/);
    // The same file again is the same case: the command's idempotency key is the content's.
    const again = await cli.beacon(officer, ['victims', 'open', '--file', 'case.json']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`opened ${caseId}: give the victim the reference ${opened.reference}`);

    const shown = await cli.beacon(officer, ['victims', 'get', caseId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/victim:\s+Jana Nováková/);
    expect(shown.stdout).toMatch(/e-mail:\s+jana\.novakova@example\.org/);
    expect(shown.stdout).toMatch(/needs:\s+financial-loss/);

    // The coordinator's role never reads cases: refused as a problem, naming the status.
    const coordinator = await cli.stack.token(['coordinator']);
    const denied = await cli.beacon(coordinator, ['victims', 'get', caseId]);
    expect(denied).toMatchObject({ code: 1, stdout: '' });
    expect(denied.stderr).toMatch(
      /^error 403 [^:]+: victim cases are read and worked on only by victim officers/,
    );
    const deniedJson = await cli.beacon(coordinator, ['victims', 'get', caseId, '--json']);
    expect(JSON.parse(deniedJson.stderr)).toMatchObject({ status: 403, grpcStatus: 'PERMISSION_DENIED' });
    // Another organisation's officer learns nothing of the case: not found.
    const stranger = await cli.stack.token(['victim_officer'], 'vs-hessen');
    expect((await cli.beacon(stranger, ['victims', 'get', caseId])).stderr).toMatch(/^error 404 /);
    expect(await cli.json(stranger, ['victims', 'list'])).toEqual({});

    const listed = await cli.json<{ cases: { id: string }[] }>(officer, ['victims', 'list', '--all']);
    expect(listed.cases.map((c) => c.id)).toEqual([caseId]);
    const found = await cli.json<{ cases: { id: string }[] }>(officer, [
      'victims',
      'find',
      '--email',
      'Jana.Novakova@example.org',
    ]);
    expect(found.cases.map((c) => c.id)).toEqual([caseId]);
    expect(await cli.json(officer, ['victims', 'find', '--phone', '+4915100000000'])).toEqual({ cases: [] });

    // Flags change only what they name: the rest is read first and kept.
    const updated = await cli.beacon(officer, [
      'victims',
      'update',
      caseId,
      '--phone',
      '+49 151 2345 6789',
      '--notes',
      'prefers mornings',
    ]);
    expect(updated).toMatchObject({ code: 0, stderr: '' });
    const read = await cli.json<CaseOut>(officer, ['victims', 'get', caseId]);
    expect(read.case.victim).toMatchObject({
      displayName: 'Jana Nováková',
      email: 'jana.novakova@example.org',
      phone: '+4915123456789',
      notes: 'prefers mornings',
    });
    // A version the officer did not see is refused, not overwritten.
    const stale = await cli.beacon(officer, ['victims', 'update', caseId, '--notes', 'x', '--version', '1']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^error 409 [^:]+: the case is at version \d+, not 1/);
  });

  test('assesses needs, records consent, refers to a suggested organisation that accepts, follows up, discloses, and closes and erases as the owner', async ({
    cli,
  }) => {
    const coordinator = await cli.stack.token(['coordinator']);
    const registered = await cli.beacon(coordinator, [
      'support-orgs',
      'put',
      '--id',
      'wr-bayern',
      '--name',
      'Weisser Ring Bayern',
      '--jurisdictions',
      'DE-BY',
      '--languages',
      'de',
      '--needs',
      'financial-loss,psychological-distress',
      '--capacity',
      '10',
      '--accepting',
      'yes',
    ]);
    expect(registered.code).toBe(0);
    const { officer, caseId } = await openCase(cli);

    const needs = await cli.file('needs.json', {
      needs: [
        NEW_CASE.needs[0],
        { psychologicalDistress: { instrument: 'SCREENING_INSTRUMENT_PHQ4', score: 7 } },
      ],
    });
    const assessed = await cli.json<CaseOut>(officer, ['victims', 'assess', caseId, '--file', needs]);
    expect(assessed.case.assessment?.needs?.map((n) => n.kind).sort()).toEqual([
      'NEED_KIND_FINANCIAL_LOSS',
      'NEED_KIND_PSYCHOLOGICAL_DISTRESS',
    ]);

    // Without the victim's consent to share with support organisations, no referral.
    const early = await cli.beacon(officer, ['victims', 'refer', caseId, '--organisation', 'wr-bayern']);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/^error 4\d\d /);
    await cli.json(officer, [
      'victims',
      'consent',
      caseId,
      '--purpose',
      'share-support',
      '--grant',
      '--wording',
      'v1',
    ]);

    const suggested = await cli.json<{ suggestions: { organisationId: string }[] }>(officer, [
      'victims',
      'suggest',
      caseId,
    ]);
    expect(suggested.suggestions.map((s) => s.organisationId)).toEqual(['wr-bayern']);
    const referred = await cli.json<{ referrals: { id: string; state: string }[] }>(officer, [
      'victims',
      'refer',
      caseId,
      '--organisation',
      'wr-bayern',
    ]);
    expect(referred.referrals).toEqual([
      expect.objectContaining({ organisationId: 'wr-bayern', state: 'REFERRAL_STATE_OFFERED' }),
    ]);
    const referralId = referred.referrals[0]!.id;
    // Only the organisation referred to answers.
    const notTheirs = await cli.beacon(officer, ['victims', 'respond', caseId, referralId, '--accept']);
    expect(notTheirs.code).toBe(1);
    expect(notTheirs.stderr).toMatch(/^error 404 /);
    const helper = await cli.stack.token(['victim_officer'], 'wr-bayern');
    const accepted = await cli.beacon(helper, ['victims', 'respond', caseId, referralId, '--accept']);
    expect(accepted).toMatchObject({ code: 0, stderr: '' });
    expect(accepted.stdout).toContain(`${referralId} to wr-bayern: accepted`);
    // Accepting assigned the case to the helper's organisation: its officer reads it now.
    expect((await cli.json<CaseOut>(helper, ['victims', 'get', caseId])).case.status).toBe(
      'CASE_STATUS_IN_SUPPORT',
    );

    const followUp = await cli.json<{ followUp: { checkIns?: { id: string; state: string }[] } }>(helper, [
      'victims',
      'follow-up',
      caseId,
    ]);
    const due = followUp.followUp.checkIns?.find((c) => c.state === 'CHECK_IN_STATE_DUE');
    expect(due).toBeDefined();
    const checked = await cli.beacon(helper, [
      'victims',
      'check-in',
      caseId,
      due!.id,
      '--outcome',
      'reached-ok',
    ]);
    expect(checked).toMatchObject({ code: 0, stderr: '' });
    expect(checked.stdout).toMatch(new RegExp(`${due!.id} due \\S+: done, reached-ok`));

    // Disclosure to the police needs the victim's consent for it; then it hands over the details.
    const noConsent = await cli.beacon(officer, ['victims', 'disclose', caseId, '--agency', 'lka-bayern']);
    expect(noConsent.code).toBe(1);
    expect(noConsent.stderr).toMatch(/^error 4\d\d /);
    await cli.json(officer, [
      'victims',
      'consent',
      caseId,
      '--purpose',
      'share-law-enforcement',
      '--grant',
      '--wording',
      'v1',
    ]);
    const disclosed = await cli.beacon(officer, [
      'victims',
      'disclose',
      caseId,
      '--agency',
      'lka-bayern',
      '--legal-reference',
      'LKA-2026/0042',
    ]);
    expect(disclosed).toMatchObject({ code: 0, stderr: '' });
    expect(disclosed.stdout).toMatch(/victim:\s+Jana Nováková/);

    // Who did what: auditors only.
    const auditor = await cli.stack.token(['auditor']);
    const audit = await cli.json<{ records: { action: string; detail?: string }[] }>(auditor, [
      'victims',
      'audit',
      caseId,
      '--all',
    ]);
    expect(audit.records.map((r) => r.action)).toEqual(
      expect.arrayContaining(['read-personal-data', 'disclose-law-enforcement']),
    );
    expect(audit.records.find((r) => r.action === 'disclose-law-enforcement')?.detail).toContain(
      'LKA-2026/0042',
    );
    expect((await cli.beacon(officer, ['victims', 'audit', caseId])).stderr).toMatch(/^error 403 /);

    // Closing and erasing are the opening organisation's.
    const helperCloses = await cli.beacon(helper, ['victims', 'close', caseId, '--reason', 'resolved']);
    expect(helperCloses.stderr).toMatch(
      /^error 403 [^:]+: only victim officers of the organisation that opened/,
    );
    const closed = await cli.json<CaseOut>(officer, ['victims', 'close', caseId, '--reason', 'resolved']);
    expect(closed.case.status).toBe('CASE_STATUS_CLOSED');
    const erased = await cli.json<CaseOut>(officer, ['victims', 'erase', caseId, '--yes']);
    expect(erased.case.erased).toBe(true);
    const gone = await cli.beacon(officer, ['victims', 'get', caseId]);
    expect(gone.stdout).not.toContain('Jana');
  });
});
