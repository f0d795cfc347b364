import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import type { Role } from '@beacon/platform';
import { victimsV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import {
  consent,
  newCase,
  organisation,
  startVictimsStack,
  victimsCaller,
  type VictimsCall,
  type VictimsStack,
} from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<VictimsStack> => {
  const stack = await startVictimsStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

const { NeedKind, ConsentPurpose } = victimsV1;
const CODE_NAMES = Object.fromEntries(Object.entries(status).map(([name, code]) => [code, name]));

/** Who calls: every role, and victim officers of three organisations. */
const CALLERS = {
  owner: [['victim_officer'], 'vs-bayern'],
  referred: [['victim_officer'], 'money-help'],
  otherOrg: [['victim_officer'], 'vs-hessen'],
  analyst: [['agency_analyst'], 'vs-bayern'],
  admin: [['agency_admin'], 'vs-bayern'],
  coordinator: [['coordinator'], undefined],
  auditor: [['auditor'], undefined],
  /** The response worker's service identity (`workflows`, with its scopes). */
  service: [['service'], undefined],
  /** An operator's key-rotation job: another service identity, with only its own scope. */
  keyRotation: [['service'], undefined],
} satisfies Record<string, [Role[], string | undefined]>;
type Who = keyof typeof CALLERS;

async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    return CODE_NAMES[(error as ServiceError).code] ?? String(error);
  }
}

describe('who may do what with victim cases', () => {
  test('the access matrix, role × organisation: every allowance and every denial, and no leak of existence across organisations', async ({
    stack: t,
  }) => {
    const as: Record<Who, VictimsCall> = {} as never;
    for (const [who, [roles, agency]] of Object.entries(CALLERS))
      as[who as Who] = await t.call(roles, agency);
    as.keyRotation = victimsCaller(t.client, await t.token(['service'], undefined, 'key-rotation'));
    await as.coordinator('putSupportOrganisation', {
      organisation: organisation('money-help', { needsCovered: [NeedKind.NEED_KIND_FINANCIAL_LOSS] }),
      expectedVersion: 0,
    });
    // A case of vs-bayern, referred to and accepted by money-help.
    const { case: opened } = await as.owner('openCase', { case: newCase() });
    const caseId = opened!.id;
    await as.owner('makeReferral', { caseId, organisationId: 'money-help', needs: [] });
    await as.referred('respondToReferral', { caseId, referralId: 'ref-1', accept: true, declineReason: 0 });

    const reference = (await as.owner('getCase', { caseId })).case!.reference;
    const victim = { ...newCase().victim!, displayName: 'J. N.' };
    const perCase: Record<string, (c: VictimsCall) => Promise<unknown>> = {
      getCase: (c) => c('getCase', { caseId }),
      updateVictim: (c) => c('updateVictim', { caseId, victim, expectedVersion: 0 }),
      assessNeeds: (c) =>
        c('assessNeeds', { caseId, needs: newCase().needs, riskFlags: [], expectedVersion: 0 }),
      recordConsent: (c) =>
        c('recordConsent', { caseId, consent: consent(ConsentPurpose.CONSENT_PURPOSE_CONTACT) }),
      suggestReferrals: (c) => c('suggestReferrals', { caseId }),
      makeReferral: (c) => c('makeReferral', { caseId, organisationId: '', needs: [] }),
      // Allowed callers get past access and meet the missing consent.
      discloseToLawEnforcement: (c) =>
        c('discloseToLawEnforcement', { caseId, agencyId: 'lka-bayern', legalReference: '' }),
      getFollowUp: (c) => c('getFollowUp', { caseId }),
      recordCheckIn: (c) =>
        c('recordCheckIn', {
          caseId,
          checkInId: 'ci-1',
          outcome: victimsV1.CheckInOutcome.CHECK_IN_OUTCOME_REACHED_OK,
        }),
      listAuditRecords: (c) => c('listAuditRecords', { caseId, pageSize: 0, pageToken: '' }),
      closeCase: (c) => c('closeCase', { caseId, reason: victimsV1.CloseReason.CLOSE_REASON_RESOLVED }),
      eraseVictimData: (c) => c('eraseVictimData', { caseId }),
    };
    const general: Record<string, (c: VictimsCall) => Promise<unknown>> = {
      // Each organisation's own victim, someone else than the case's.
      openCase: (c) =>
        c('openCase', {
          case: newCase({ victim: { ...newCase().victim!, email: 'someone.else@example.org' } }),
        }),
      listCases: (c) =>
        c('listCases', {
          pageSize: 0,
          pageToken: '',
          incidentId: '',
          urgentOnly: false,
          includeClosed: true,
        }),
      findCases: (c) => c('findCases', { email: 'jana.novakova@example.org', phone: '' }),
      getVictimStats: (c) => c('getVictimStats', { incidentId: '', jurisdiction: '' }),
      listSupportOrganisations: (c) => c('listSupportOrganisations', {}),
      putSupportOrganisation: (c) =>
        c('putSupportOrganisation', {
          organisation: organisation(`new-${Math.random().toString(36).slice(2, 8)}`),
          expectedVersion: 0,
        }),
      listReferralsOfMoneyHelp: (c) => c('listReferrals', { organisationId: 'money-help', state: 0 }),
      rewrapKeys: (c) => c('rewrapKeys', { limit: 0 }),
      verifyAuditChain: (c) => c('verifyAuditChain', { checkpoint: [] }),
      lookupCaseStatus: (c) => c('lookupCaseStatus', { reference }),
    };

    // Closing and erasing change the case for everyone after: they go last, the owner last of all.
    const order: Who[] = [
      'referred',
      'otherOrg',
      'analyst',
      'admin',
      'coordinator',
      'auditor',
      'service',
      'keyRotation',
      'owner',
    ];
    const actual: Record<string, Record<string, string>> = {};
    for (const [name, run] of [...Object.entries(general), ...Object.entries(perCase)]) {
      actual[name] = {};
      for (const who of order) actual[name][who] = await outcome(run(as[who]));
    }

    const row = (
      owner: string,
      referred: string,
      otherOrg: string,
      analyst: string,
      admin: string,
      coordinator: string,
      auditor: string,
      service: string,
      keyRotation: string,
    ) => ({ owner, referred, otherOrg, analyst, admin, coordinator, auditor, service, keyRotation });
    const PD = 'PERMISSION_DENIED';
    const NF = 'NOT_FOUND';
    const FP = 'FAILED_PRECONDITION';
    expect(actual).toEqual({
      openCase: row('OK', 'OK', 'OK', PD, PD, PD, PD, PD, PD),
      listCases: row('OK', 'OK', 'OK', PD, PD, PD, PD, PD, PD),
      findCases: row('OK', 'OK', 'OK', PD, PD, PD, PD, PD, PD),
      getVictimStats: row('OK', 'OK', 'OK', PD, PD, 'OK', 'OK', PD, PD),
      listSupportOrganisations: row('OK', 'OK', 'OK', PD, 'OK', 'OK', PD, PD, PD),
      putSupportOrganisation: row(PD, PD, PD, PD, PD, 'OK', PD, PD, PD),
      listReferralsOfMoneyHelp: row(PD, 'OK', PD, PD, PD, PD, PD, PD, PD),
      rewrapKeys: row(PD, PD, PD, PD, PD, PD, PD, PD, 'OK'),
      verifyAuditChain: row(PD, PD, PD, PD, PD, 'OK', 'OK', PD, PD),
      lookupCaseStatus: row('OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK'),
      getCase: row('OK', 'OK', NF, PD, PD, PD, PD, PD, PD),
      updateVictim: row('OK', 'OK', NF, PD, PD, PD, PD, PD, PD),
      assessNeeds: row('OK', 'OK', NF, PD, PD, PD, PD, PD, PD),
      recordConsent: row('OK', 'OK', NF, PD, PD, PD, PD, PD, PD),
      suggestReferrals: row('OK', 'OK', NF, PD, PD, PD, PD, PD, PD),
      makeReferral: row('OK', 'OK', NF, PD, PD, PD, PD, PD, PD),
      discloseToLawEnforcement: row(FP, FP, NF, PD, PD, PD, PD, PD, PD),
      getFollowUp: row('OK', 'OK', NF, PD, PD, PD, PD, 'OK', PD),
      recordCheckIn: row('OK', 'OK', NF, PD, PD, PD, PD, 'OK', PD),
      listAuditRecords: row(PD, PD, PD, PD, PD, PD, 'OK', PD, PD),
      closeCase: row('OK', PD, NF, PD, PD, PD, PD, PD, PD),
      eraseVictimData: row('OK', PD, NF, PD, PD, PD, PD, PD, PD),
    });

    // Another organisation's officer learns nothing: its answers are those for a case that
    // does not exist, and its lists and searches come back empty.
    const missing = 'vc_00000000000000000000000000000000';
    const hidden = await outcomeWithMessage(as.otherOrg('getCase', { caseId }));
    const absent = await outcomeWithMessage(as.otherOrg('getCase', { caseId: missing }));
    expect(hidden).toEqual(['NOT_FOUND', `no case ${caseId}`]);
    expect(absent).toEqual(['NOT_FOUND', `no case ${missing}`]);
    const other = await t.call(['victim_officer'], 'vs-hessen');
    expect((await other('findCases', { email: 'jana.novakova@example.org', phone: '' })).cases).toEqual([]);
    expect(
      (
        await other('listCases', {
          pageSize: 0,
          pageToken: '',
          incidentId: '',
          urgentOnly: false,
          includeClosed: true,
        })
      ).cases.map((c) => c.ownerOrganisationId),
    ).toEqual(['vs-hessen']);
    // its organisation's one case: counted, and too few to show
    expect(await other('getVictimStats', { incidentId: '', jurisdiction: '' })).toMatchObject({
      cases: 0,
      casesSuppressed: true,
    });
    // The coordinator's counts include every organisation's cases, and no identity.
    const counts = await as.coordinator('getVictimStats', { incidentId: '', jurisdiction: '' });
    // four cases in all: under the threshold, so suppressed for the coordinator too
    expect(counts).toMatchObject({ cases: 0, casesSuppressed: true });
    expect(JSON.stringify(counts)).not.toMatch(/Jana|example\.org|\+49/);

    // No token, no service.
    const anonymous = new Metadata();
    const unauthenticated = await new Promise<ServiceError | null>((resolve) =>
      t.client.getCase({ caseId }, anonymous, (error) => resolve(error)),
    );
    expect(unauthenticated?.code).toBe(status.UNAUTHENTICATED);
    const wrongIssuer = victimsCaller(t.client, 'eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl');
    expect(await outcome(wrongIssuer('lookupCaseStatus', { reference: 'VC-0000-0000-0000-0000' }))).toBe(
      'UNAUTHENTICATED',
    );
  });
});

async function outcomeWithMessage(call: Promise<unknown>): Promise<[string, string]> {
  try {
    await call;
    return ['OK', ''];
  } catch (error) {
    const e = error as ServiceError;
    return [CODE_NAMES[e.code] ?? '?', e.details];
  }
}
