import { status } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { commonV1, victimsV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { EnvelopeCipher, parseKeyEncryptionKeys } from '../src/adapters/crypto/envelope-cipher.js';
import type { SealedField } from '../src/app/ports.js';
import { packSealed, unpackSealed } from '../src/adapters/mongo/sealed-codec.js';
import {
  consent,
  failure,
  kek,
  newCase,
  organisation,
  startVictimsStack,
  type VictimsStack,
} from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<VictimsStack> => {
  const stack = await startVictimsStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

const { NeedKind, ReferralState, CaseStatus, ConsentPurpose, CheckInOutcome, CheckInState, RiskFlag } =
  victimsV1;

/** Money help for Germany, talking therapy for Bavaria, and two crisis lines. */
async function registry(t: VictimsStack) {
  const cc = await t.call(['coordinator']);
  for (const org of [
    organisation('money-help', {
      needsCovered: [NeedKind.NEED_KIND_FINANCIAL_LOSS, NeedKind.NEED_KIND_IDENTITY_THEFT],
    }),
    organisation('talk-bayern', {
      jurisdictions: ['DE-BY'],
      needsCovered: [NeedKind.NEED_KIND_PSYCHOLOGICAL_DISTRESS],
    }),
    organisation('crisis-line', {
      crisisCapable: true,
      needsCovered: [NeedKind.NEED_KIND_PSYCHOLOGICAL_DISTRESS],
      capacity: 5,
    }),
    organisation('crisis-line-2', { crisisCapable: true, needsCovered: [], capacity: 5, languages: ['en'] }),
  ]) {
    await cc('putSupportOrganisation', { organisation: org, expectedVersion: 0 });
  }
  return cc;
}

describe('victim cases over gRPC', () => {
  test('an officer opens a case idempotently, reads it back (audited) and the store holds no personal data in the clear', async ({
    stack: t,
    mongoClient,
  }) => {
    await registry(t);
    const officer = await t.call(['victim_officer'], 'vs-bayern');
    const key = { 'idempotency-key': 'hotline-2026-03-000042' };
    const opened = await officer('openCase', { case: newCase() }, key);
    expect(opened.reference).toMatch(/^VC(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
    expect(opened.case).toMatchObject({
      status: CaseStatus.CASE_STATUS_OPEN,
      ownerOrganisationId: 'vs-bayern',
      incidentIds: ['inc_campaign1'],
      version: 1,
    });
    expect(opened.uncoveredNeeds).toEqual([]);
    const caseId = opened.case!.id;

    // The same key and case: the same answer, nothing new. Another case under it: refused.
    const again = await officer('openCase', { case: newCase() }, key);
    expect([again.case!.id, again.reference]).toEqual([caseId, opened.reference]);
    const misuse = await failure(officer('openCase', { case: newCase({ jurisdiction: 'DE-HE' }) }, key));
    expect(misuse.code).toBe(status.FAILED_PRECONDITION);

    const { case: full } = await officer('getCase', { caseId });
    expect(full).toMatchObject({
      id: caseId,
      reference: opened.reference,
      victim: {
        displayName: 'Jana Nováková',
        email: 'jana.novakova@example.org',
        phone: '+4915123456789',
        preferredChannel: victimsV1.ContactChannel.CONTACT_CHANNEL_PHONE,
      },
      assignedOrganisationIds: ['vs-bayern'],
    });
    expect(full!.needs).toHaveLength(2);
    expect(full!.assessment!.needs.map((n) => [n.kind, n.priority, n.lossBand, n.recall])).toEqual([
      [
        NeedKind.NEED_KIND_FINANCIAL_LOSS,
        victimsV1.Priority.PRIORITY_HIGH,
        victimsV1.LossBand.LOSS_BAND_UNDER_10000,
        victimsV1.Recall.RECALL_POSSIBLE,
      ],
      [NeedKind.NEED_KIND_PSYCHOLOGICAL_DISTRESS, victimsV1.Priority.PRIORITY_HIGH, 0, 0],
    ]);
    expect(full!.checkIns.map((c) => c.id)).toEqual(['ci-1', 'ci-2', 'ci-3']);

    // At rest: ciphertext, keyed hashes, never the values.
    const doc = await mongoClient
      .db(t.db)
      .collection('cases')
      .findOne({ _id: caseId as never });
    const stored = JSON.stringify(doc);
    for (const pii of ['Nováková', 'novakova', '2345', 'hotline', opened.reference.slice(3)]) {
      expect(stored).not.toContain(pii);
    }
    // One string holding one sealed value of all of it.
    expect(typeof doc!['sealed']).toBe('string');
    expect(Object.keys(unpackSealed(doc!['sealed'] as string))).toEqual(['personal']);

    // The victim's reference tells anyone holding it the status, and nothing else.
    const portal = await t.call(['service']);
    const typed = opened.reference.slice(3).replaceAll('-', '').toLowerCase();
    expect(await portal('lookupCaseStatus', { reference: typed })).toEqual({
      status: CaseStatus.CASE_STATUS_OPEN,
    });
    const typo = typed.slice(0, 15) + (typed[15] === '0' ? '1' : '0');
    expect((await failure(portal('lookupCaseStatus', { reference: typo }))).code).toBe(
      status.INVALID_ARGUMENT,
    );
    expect((await failure(portal('lookupCaseStatus', { reference: 'VC-0000-0000-0000-0000' }))).code).toBe(
      status.NOT_FOUND,
    );

    // Every read of personal data is on the record, and the record holds none.
    const auditor = await t.call(['auditor']);
    const { records } = await auditor('listAuditRecords', { caseId, pageSize: 0, pageToken: '' });
    expect(records.map((r) => [r.action, r.actor, r.actorOrganisationId])).toEqual([
      ['open', 'vs-bayern-victim_officer', 'vs-bayern'],
      ['read-personal-data', 'vs-bayern-victim_officer', 'vs-bayern'],
    ]);
    // A page at a time, in the order written, each record placed in its writer's chain.
    const first = await auditor('listAuditRecords', { caseId, pageSize: 1, pageToken: '' });
    expect(first.records.map((r) => [r.action, r.seq])).toEqual([['open', 1]]);
    const second = await auditor('listAuditRecords', { caseId, pageSize: 1, pageToken: first.nextPageToken });
    expect(second.records.map((r) => [r.action, r.seq, r.chain])).toEqual([
      ['read-personal-data', 2, first.records[0]!.chain],
    ]);
    expect(second.nextPageToken).toBe('');
    const forged = await failure(
      auditor('listAuditRecords', { caseId, pageSize: 1, pageToken: '{"$gt":""}' }),
    );
    expect(forged.code).toBe(status.INVALID_ARGUMENT);
    const verified = await auditor('verifyAuditChain', { checkpoint: [] });
    expect(verified).toEqual({
      ok: true,
      // The open, the read, and the two failed status look-ups (a typo, an unknown reference).
      records: 4,
      brokenAt: 0,
      problem: '',
      chains: 1,
      brokenChain: '',
      ends: [
        {
          recordId: expect.stringContaining(first.records[0]!.chain) as unknown,
          hash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
        },
      ],
    });
    // The ends come back as a checkpoint; a made-up one is refused with the field named.
    expect(await auditor('verifyAuditChain', { checkpoint: verified.ends })).toMatchObject({ ok: true });
    const bad = await failure(
      auditor('verifyAuditChain', { checkpoint: [{ recordId: '{"$ne":1}', hash: 'x' }] }),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.fields).toEqual(['checkpoint[0].record_id', 'checkpoint[0].hash']);
  });

  test('referrals follow the rules, need consent, give the accepting organisation access and free places when closed', async ({
    stack: t,
    nats,
  }) => {
    const cc = await registry(t);
    const officer = await t.call(['victim_officer'], 'vs-bayern');
    const noSharing = newCase({ consents: [consent(ConsentPurpose.CONSENT_PURPOSE_CONTACT)] });
    const { case: opened } = await officer('openCase', { case: noSharing });
    const caseId = opened!.id;

    const suggested = await officer('suggestReferrals', { caseId });
    expect(suggested.suggestions.map((s) => [s.organisationId, s.needs, s.speaksLanguage])).toEqual([
      // One need each: the regional service is placed before the national one.
      ['talk-bayern', [NeedKind.NEED_KIND_PSYCHOLOGICAL_DISTRESS], true],
      ['money-help', [NeedKind.NEED_KIND_FINANCIAL_LOSS], true],
    ]);
    // Nothing is shared without the victim's consent.
    const refused = await failure(officer('makeReferral', { caseId, organisationId: '', needs: [] }));
    expect([refused.code, refused.message]).toEqual([
      status.FAILED_PRECONDITION,
      'the victim has not consented to sharing their case with support organisations: record their consent first',
    ]);
    await officer('recordConsent', {
      caseId,
      consent: consent(ConsentPurpose.CONSENT_PURPOSE_SHARE_SUPPORT),
    });
    const made = await officer('makeReferral', { caseId, organisationId: '', needs: [] });
    expect(made.referrals.map((r) => [r.id, r.organisationId, r.state])).toEqual([
      ['ref-1', 'talk-bayern', ReferralState.REFERRAL_STATE_OFFERED],
      ['ref-2', 'money-help', ReferralState.REFERRAL_STATE_OFFERED],
    ]);
    expect(made.case!.status).toBe(CaseStatus.CASE_STATUS_REFERRED);

    // The referred organisation sees the referral, not the person, until it accepts.
    const money = await t.call(['victim_officer'], 'money-help');
    const inbox = await money('listReferrals', { organisationId: 'money-help', state: 0 });
    expect(inbox.referrals.map((r) => [r.case!.id, r.referral!.id])).toEqual([[caseId, 'ref-2']]);
    expect((await failure(money('getCase', { caseId }))).code).toBe(status.NOT_FOUND);
    const accepted = await money('respondToReferral', {
      caseId,
      referralId: 'ref-2',
      accept: true,
      declineReason: 0,
    });
    expect(accepted.referral!.state).toBe(ReferralState.REFERRAL_STATE_ACCEPTED);
    expect((await money('getCase', { caseId })).case!.victim!.displayName).toBe('Jana Nováková');
    const talk = await t.call(['victim_officer'], 'talk-bayern');
    await talk('respondToReferral', {
      caseId,
      referralId: 'ref-1',
      accept: false,
      declineReason: victimsV1.DeclineReason.DECLINE_REASON_NO_CAPACITY,
    });
    const places = async () =>
      Object.fromEntries(
        (await cc('listSupportOrganisations', {})).organisations.map((o) => [o.id, o.activeReferrals]),
      );
    expect(await places()).toMatchObject({ 'money-help': 1, 'talk-bayern': 0 });

    // The follow-up workflow works with its service identity, and sees no personal data.
    const workflow = await t.call(['service']);
    const { followUp } = await workflow('getFollowUp', { caseId });
    expect(followUp).toMatchObject({
      caseId,
      urgent: false,
      contactAllowed: true,
      status: CaseStatus.CASE_STATUS_IN_SUPPORT,
    });
    expect(JSON.stringify(followUp)).not.toContain('Jana');
    // Listing the incident's cases, it learns which cases and when they are due: nothing of the
    // screening, the needs, the referrals or where the victim lives, all of which the officer sees.
    const listed = {
      pageSize: 0,
      pageToken: '',
      incidentId: 'inc_campaign1',
      urgentOnly: false,
      includeClosed: true,
    };
    const seen = (await workflow('listCases', listed)).cases.find((c) => c.id === caseId)!;
    expect(seen).toMatchObject({
      id: caseId,
      incidentIds: ['inc_campaign1'],
      status: CaseStatus.CASE_STATUS_IN_SUPPORT,
    });
    expect(seen).toMatchObject({
      assessment: undefined,
      referrals: [],
      jurisdiction: '',
      ownerOrganisationId: '',
    });
    const asOfficer = (await officer('listCases', { ...listed, incidentId: '' })).cases.find(
      (c) => c.id === caseId,
    )!;
    expect(asOfficer.assessment?.needs.length).toBeGreaterThan(0);
    expect(asOfficer.referrals.length).toBeGreaterThan(0);
    expect(asOfficer.jurisdiction).not.toBe('');
    const outcome = {
      caseId,
      checkInId: 'ci-1',
      outcome: CheckInOutcome.CHECK_IN_OUTCOME_REACHED_NEEDS_HELP,
    };
    const after = (await workflow('recordCheckIn', outcome)).followUp!;
    expect(after.reviewRequested).toBe(true);
    expect(after.checkIns[0]!.state).toBe(CheckInState.CHECK_IN_STATE_DONE);
    // A retry of the same outcome is fine; a different one is not.
    expect((await workflow('recordCheckIn', outcome)).followUp!.version).toBe(after.version);
    const other = await failure(
      workflow('recordCheckIn', { ...outcome, outcome: CheckInOutcome.CHECK_IN_OUTCOME_NO_ANSWER }),
    );
    expect(other.code).toBe(status.FAILED_PRECONDITION);

    // A need found later is an event of its own (those found at opening are in case-opened).
    const reassessed = await officer('assessNeeds', {
      caseId,
      needs: [
        ...newCase().needs,
        {
          detail: {
            $case: 'identityTheft',
            value: { documents: [victimsV1.IdentityDocument.IDENTITY_DOCUMENT_PASSPORT], misuseSeen: true },
          },
        },
      ],
      riskFlags: [],
      expectedVersion: 0,
    });
    expect(reassessed.case!.assessment!.needs.map((n) => n.kind)).toContain(
      NeedKind.NEED_KIND_IDENTITY_THEFT,
    );

    // Only the owner closes; closing frees the places its referrals held.
    expect(
      (await failure(money('closeCase', { caseId, reason: victimsV1.CloseReason.CLOSE_REASON_RESOLVED })))
        .code,
    ).toBe(status.PERMISSION_DENIED);
    const closed = await officer('closeCase', {
      caseId,
      reason: victimsV1.CloseReason.CLOSE_REASON_RESOLVED,
    });
    expect(closed.case!.status).toBe(CaseStatus.CASE_STATUS_CLOSED);
    expect(await places()).toMatchObject({ 'money-help': 0, 'talk-bayern': 0 });
    const { followUp: ended } = await workflow('getFollowUp', { caseId });
    expect(ended!.checkIns.filter((c) => c.state === CheckInState.CHECK_IN_STATE_DUE)).toEqual([]);
    expect(ended!.contactAllowed).toBe(false);

    const events = await t.events(nats, 6);
    expect(events.map((e) => e.type)).toEqual([
      'beacon.victims.case-opened.v1',
      'beacon.victims.referral-made.v1',
      'beacon.victims.referral-made.v1',
      'beacon.victims.referral-accepted.v1',
      'beacon.victims.need-identified.v1',
      'beacon.victims.case-closed.v1',
    ]);
    expect(victimsV1.CaseOpened.decode(events[0]!.data).needs).toEqual([
      NeedKind.NEED_KIND_FINANCIAL_LOSS,
      NeedKind.NEED_KIND_PSYCHOLOGICAL_DISTRESS,
    ]);
    expect(victimsV1.NeedIdentified.decode(events[4]!.data)).toMatchObject({
      caseId,
      need: NeedKind.NEED_KIND_IDENTITY_THEFT,
      priority: victimsV1.Priority.PRIORITY_HIGH,
    });
    expect(new Set(events.map((e) => e.subject))).toEqual(new Set([caseId]));
    expect(victimsV1.ReferralAccepted.decode(events[3]!.data)).toEqual({
      caseId,
      referralId: 'ref-2',
      organisationId: 'money-help',
    });
    expect(events.every((e) => e.incidentId === 'inc_campaign1' && e.tlp === commonV1.Tlp.TLP_AMBER)).toBe(
      true,
    );
  });

  test('a disclosed risk makes the case urgent and routes it to a crisis line at once; without consent the referral waits', async ({
    stack: t,
    nats,
  }) => {
    await registry(t);
    const officer = await t.call(['victim_officer'], 'vs-bayern');
    const { case: urgent } = await officer('openCase', {
      case: newCase({ riskFlags: [RiskFlag.RISK_FLAG_SELF_HARM] }),
    });
    expect(urgent!.assessment).toMatchObject({
      urgent: true,
      crisis: true,
      urgencyReasons: [victimsV1.UrgencyReason.URGENCY_REASON_RISK_DISCLOSED],
    });
    expect(urgent!.referrals.map((r) => [r.organisationId, r.crisis, r.state, r.needs])).toEqual([
      [
        'crisis-line',
        true,
        ReferralState.REFERRAL_STATE_OFFERED,
        [NeedKind.NEED_KIND_PSYCHOLOGICAL_DISTRESS],
      ],
    ]);
    // Called back within hours, not tomorrow.
    expect(urgent!.nextCheckInAt!.getTime() - urgent!.openedAt!.getTime()).toBe(4 * 3_600_000);

    // The crisis line declines: the next crisis-capable organisation has it at once.
    const crisis = await t.call(['victim_officer'], 'crisis-line');
    await crisis('respondToReferral', {
      caseId: urgent!.id,
      referralId: 'ref-1',
      accept: false,
      declineReason: victimsV1.DeclineReason.DECLINE_REASON_NO_CAPACITY,
    });
    const { followUp } = await (await t.call(['service']))('getFollowUp', { caseId: urgent!.id });
    expect(followUp!.urgent).toBe(true);
    const rerouted = (
      await officer('listCases', {
        pageSize: 0,
        pageToken: '',
        incidentId: '',
        urgentOnly: true,
        includeClosed: false,
      })
    ).cases;
    expect(rerouted.map((c) => c.referrals.map((r) => [r.organisationId, r.state]))).toEqual([
      [
        ['crisis-line', ReferralState.REFERRAL_STATE_DECLINED],
        ['crisis-line-2', ReferralState.REFERRAL_STATE_OFFERED],
      ],
    ]);

    // No consent to share: the crisis line is chosen but told nothing until the victim agrees.
    const { case: waiting } = await officer('openCase', {
      case: newCase({
        riskFlags: [RiskFlag.RISK_FLAG_THREAT_TO_LIFE],
        consents: [consent(ConsentPurpose.CONSENT_PURPOSE_CONTACT)],
      }),
    });
    expect(waiting!.referrals.map((r) => [r.organisationId, r.state])).toEqual([
      ['crisis-line', ReferralState.REFERRAL_STATE_AWAITING_CONSENT],
    ]);
    const inbox = await crisis('listReferrals', { organisationId: 'crisis-line', state: 0 });
    expect(inbox.referrals.map((r) => r.case!.id)).not.toContain(waiting!.id);
    const agreed = await officer('recordConsent', {
      caseId: waiting!.id,
      consent: consent(ConsentPurpose.CONSENT_PURPOSE_SHARE_SUPPORT),
    });
    expect(agreed.case!.referrals.map((r) => [r.organisationId, r.state])).toEqual([
      ['crisis-line', ReferralState.REFERRAL_STATE_OFFERED],
    ]);

    // Opened, referred and re-routed for the first case; opened and referred for the second.
    const made = (await t.events(nats, 5))
      .filter((e) => e.type === 'beacon.victims.referral-made.v1')
      .map((e) => victimsV1.ReferralMade.decode(e.data));
    expect(made.map((m) => [m.caseId, m.organisationId, m.crisis, m.urgent])).toEqual([
      [urgent!.id, 'crisis-line', true, true],
      [urgent!.id, 'crisis-line-2', true, true],
      [waiting!.id, 'crisis-line', true, true],
    ]);
  });

  test('consent gates disclosure to law enforcement; withdrawing consent withdraws access and contact details', async ({
    stack: t,
  }) => {
    await registry(t);
    const officer = await t.call(['victim_officer'], 'vs-bayern');
    const { case: opened } = await officer('openCase', { case: newCase() });
    const caseId = opened!.id;
    const disclose = { caseId, agencyId: 'lka-bayern', legalReference: 'LKA-2026/0815' };
    expect((await failure(officer('discloseToLawEnforcement', disclose))).code).toBe(
      status.FAILED_PRECONDITION,
    );
    await officer('recordConsent', {
      caseId,
      consent: consent(ConsentPurpose.CONSENT_PURPOSE_SHARE_LAW_ENFORCEMENT),
    });
    const disclosed = await officer('discloseToLawEnforcement', disclose);
    expect(disclosed.victim!.email).toBe('jana.novakova@example.org');
    expect(disclosed.needs).toHaveLength(2);

    await officer('makeReferral', {
      caseId,
      organisationId: 'money-help',
      needs: [NeedKind.NEED_KIND_FINANCIAL_LOSS],
    });
    const money = await t.call(['victim_officer'], 'money-help');
    await money('respondToReferral', { caseId, referralId: 'ref-1', accept: true, declineReason: 0 });
    expect((await money('getCase', { caseId })).case!.id).toBe(caseId);
    await officer('recordConsent', {
      caseId,
      consent: consent(ConsentPurpose.CONSENT_PURPOSE_SHARE_SUPPORT, false),
    });
    expect((await failure(money('getCase', { caseId }))).code).toBe(status.NOT_FOUND);

    expect(
      (await officer('findCases', { email: ' Jana.Novakova@EXAMPLE.org', phone: '' })).cases.map((c) => c.id),
    ).toEqual([caseId]);
    expect(
      (await officer('findCases', { email: '', phone: '+49 (151) 23456789' })).cases.map((c) => c.id),
    ).toEqual([caseId]);
    await officer('recordConsent', {
      caseId,
      consent: consent(ConsentPurpose.CONSENT_PURPOSE_CONTACT, false),
    });
    const { case: after } = await officer('getCase', { caseId });
    expect(after!.victim).toMatchObject({
      email: '',
      phone: '',
      preferredChannel: 0,
      displayName: 'Jana Nováková',
    });
    expect(after!.checkIns.every((c) => c.state === CheckInState.CHECK_IN_STATE_CANCELLED)).toBe(true);
    expect((await officer('findCases', { email: 'jana.novakova@example.org', phone: '' })).cases).toEqual([]);
    // Contact details cannot come back without the consent.
    const back = await failure(
      officer('updateVictim', {
        caseId,
        victim: { ...newCase().victim!, email: 'jana@example.org' },
        expectedVersion: 0,
      }),
    );
    expect(back.code).toBe(status.FAILED_PRECONDITION);

    const auditor = await t.call(['auditor']);
    const { records } = await auditor('listAuditRecords', { caseId, pageSize: 0, pageToken: '' });
    expect(records.find((r) => r.action === 'disclose-law-enforcement')?.detail).toBe(
      'to lka-bayern (LKA-2026/0815)',
    );
    // The two searches that found the case; the third found nothing, so it names no case.
    expect(records.filter((r) => r.action === 'search')).toHaveLength(2);
  });

  test('a case stored in the earlier forms (each field sealed on its own, packed or one string each) still opens, and is sealed as one value when its personal data next changes', async ({
    stack: t,
    mongoClient,
  }) => {
    // Keys the test knows, to write what the earlier release wrote.
    const keks = kek('legacy');
    await t.restart({ keks });
    const [entry] = parseKeyEncryptionKeys(keks);
    const cipher = new EnvelopeCipher([entry!], entry!.id);
    await registry(t);
    const officer = await t.call(['victim_officer'], 'vs-bayern');
    type Doc = { _id: string; sealed: unknown; dataKey: { kekId: string; wrapped: string } };
    const cases = mongoClient.db(t.db).collection<Doc>('cases');
    for (const form of ['packed', 'one string each'] as const) {
      const { case: opened } = await officer('openCase', { case: newCase() });
      const caseId = opened!.id;
      const doc = (await cases.findOne({ _id: caseId }))!;
      const key = cipher.unwrap(caseId, {
        kekId: doc.dataKey.kekId,
        wrapped: Buffer.from(doc.dataKey.wrapped, 'base64'),
      });
      const plain = JSON.parse(
        cipher.open(key, caseId, 'personal', unpackSealed(doc.sealed as string).personal!),
      ) as { reference: string; victim: Record<string, string>; needs: unknown[]; riskFlags: unknown[] };
      const fields: [SealedField, string][] = [
        ['reference', plain.reference],
        ...Object.entries(plain.victim).map(
          ([field, value]) => [field as SealedField, value] as [SealedField, string],
        ),
        ['needs', JSON.stringify({ needs: plain.needs, riskFlags: plain.riskFlags })],
      ];
      const sealed = Object.fromEntries(
        fields.map(([field, value]) => [field, cipher.seal(key, caseId, field, value)]),
      );
      await cases.updateOne(
        { _id: caseId },
        {
          $set: {
            sealed:
              form === 'packed'
                ? packSealed(sealed)
                : Object.fromEntries(
                    Object.entries(sealed).map(([f, b]) => [f, Buffer.from(b).toString('base64')]),
                  ),
          },
        },
      );

      const { case: read } = await officer('getCase', { caseId });
      expect(read!.victim, form).toMatchObject({
        displayName: 'Jana Nováková',
        email: 'jana.novakova@example.org',
        notes: 'Called the hotline after the fake bank SMS.',
      });
      expect(read!.needs, form).toHaveLength(2);

      await officer('recordConsent', {
        caseId,
        consent: consent(ConsentPurpose.CONSENT_PURPOSE_CONTACT, false),
      });
      const changed = (await cases.findOne({ _id: caseId }))!.sealed;
      expect(Object.keys(unpackSealed(changed as string)), form).toEqual(['personal']);
      const after = (await officer('getCase', { caseId })).case!;
      expect(after.victim, form).toMatchObject({
        displayName: 'Jana Nováková',
        email: '',
        phone: '',
        notes: 'Called the hotline after the fake bank SMS.',
      });
      expect(after.needs, form).toHaveLength(2);
    }
  });

  test('the audit chain verifies, and a record altered in the database breaks it', async ({
    stack: t,
    mongoClient,
  }) => {
    const officer = await t.call(['victim_officer'], 'vs-bayern');
    const { case: opened } = await officer('openCase', { case: newCase() });
    await officer('getCase', { caseId: opened!.id });
    await officer('getCase', { caseId: opened!.id });
    const cc = await t.call(['coordinator']);
    expect(await cc('verifyAuditChain', { checkpoint: [] })).toMatchObject({ ok: true, records: 3 });
    // Someone hides who read the case.
    const audit = mongoClient.db(t.db).collection<{ _id: string }>('audit');
    const [, read] = await audit.find().sort({ _id: 1 }).toArray();
    await audit.updateOne({ _id: read!._id }, { $set: { actor: 'nobody' } });
    const chain = read!._id.split('.')[1]!;
    expect(await cc('verifyAuditChain', { checkpoint: [] })).toEqual({
      ok: false,
      records: 1,
      brokenAt: 2,
      problem: `record 2 of chain ${chain} does not match its hash`,
      chains: 0,
      brokenChain: chain,
      ends: [],
    });
  });
});
