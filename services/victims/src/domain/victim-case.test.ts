import { describe, expect, it } from 'vitest';
import { parseJurisdiction, type Jurisdiction } from '@beacon/domain';
import type { ConsentPurpose, ConsentRecord } from './model.js';
import { assessNeeds } from './needs.js';
import {
  addReferrals,
  CaseRuleError,
  closeCase,
  eraseCase,
  offerAwaiting,
  openCase,
  reassess,
  recordCheckIn,
  recordConsent,
  respondToReferral,
  statusOf,
  unmetNeeds,
  type CaseState,
} from './victim-case.js';

const t0 = new Date('2026-03-10T12:00:00Z');
const later = (h: number) => new Date(t0.getTime() + h * 3_600_000);
const consent = (purpose: ConsentPurpose, granted: boolean, at = t0): ConsentRecord => ({
  purpose,
  granted,
  wordingVersion: 'v1',
  recordedAt: at,
  recordedBy: 'officer-1',
});

function opened(
  consents: ConsentRecord[] = [consent('contact', true), consent('share-support', true)],
): CaseState {
  return openCase(
    {
      id: 'vc_0123456789abcdef0123456789abcdef',
      ownerOrgId: 'vs-bayern',
      incidentIds: ['inc_campaign'],
      reportIds: [],
      jurisdiction: parseJurisdiction('DE-BY') as Jurisdiction,
      language: 'de',
      victimKind: 'person',
      assessment: assessNeeds(
        [
          {
            kind: 'financial-loss',
            amountMinor: 90_000,
            currency: 'EUR',
            paymentMethod: 'crypto',
            paidAt: t0,
          },
          { kind: 'psychological-distress', instrument: 'phq-4', score: 4 },
        ],
        [],
        t0,
      ),
      consents,
    },
    t0,
  ).state;
}

describe('a victim case', () => {
  it('opens with case-opened (which names the needs), and check-ins only with contact consent', () => {
    const change = openCase(
      {
        id: 'vc_0123456789abcdef0123456789abcdef',
        ownerOrgId: 'vs-bayern',
        incidentIds: ['inc_campaign'],
        reportIds: ['rep_1'],
        jurisdiction: parseJurisdiction('DE-BY') as Jurisdiction,
        language: 'de',
        victimKind: 'person',
        assessment: assessNeeds([{ kind: 'data-exposure', categories: ['contact'] }], [], t0),
        consents: [],
      },
      t0,
    );
    expect(change.events.map((e) => e.type)).toEqual(['case-opened']);
    expect(change.state).toMatchObject({ assignedOrgIds: ['vs-bayern'], checkIns: [], version: 1 });
    expect(statusOf(change.state)).toBe('open');
    expect(opened().checkIns).toHaveLength(3);
  });

  it('raises need-identified only for new kinds, and adds an early check-in when it becomes urgent', () => {
    const state = opened();
    const next = reassess(
      state,
      assessNeeds(
        [
          {
            kind: 'financial-loss',
            amountMinor: 90_000,
            currency: 'EUR',
            paymentMethod: 'crypto',
            paidAt: t0,
          },
          { kind: 'sextortion', ongoing: true, paymentDemanded: true },
        ],
        [],
        later(1),
      ),
      later(1),
    );
    expect(next.events).toEqual([
      { type: 'need-identified', need: { kind: 'sextortion', priority: 'critical' } },
    ]);
    expect(next.state.checkIns.at(-1)?.dueAt).toEqual(later(5));
    expect(next.state.version).toBe(2);
  });

  it('assigns the case to an organisation that accepts its referral, and frees the place of one that declines', () => {
    let state = addReferrals(
      opened(),
      [
        { organisationId: 'money-help', needs: ['financial-loss'], crisis: false, state: 'offered' },
        { organisationId: 'talk-line', needs: ['psychological-distress'], crisis: false, state: 'offered' },
      ],
      later(1),
    ).state;
    expect(statusOf(state)).toBe('referred');
    expect(unmetNeeds(state)).toEqual([]);
    const accepted = respondToReferral(state, 'ref-1', 'money-help', { accept: true }, later(2));
    expect(accepted.events).toMatchObject([
      { type: 'referral-accepted', referral: { id: 'ref-1', state: 'accepted' } },
    ]);
    expect(accepted.state.assignedOrgIds).toEqual(['vs-bayern', 'money-help']);
    state = accepted.state;
    expect(statusOf(state)).toBe('in-support');
    expect(() => respondToReferral(state, 'ref-2', 'money-help', { accept: true }, later(2))).toThrow(
      CaseRuleError,
    );
    const declined = respondToReferral(
      state,
      'ref-2',
      'talk-line',
      { accept: false, reason: 'no-capacity' },
      later(3),
    );
    expect(declined.released).toEqual(['talk-line']);
    expect(declined.events).toEqual([]);
    expect(unmetNeeds(declined.state)).toEqual(['psychological-distress']);
    // Accepting again is a no-op; declining after accepting is not allowed.
    expect(respondToReferral(state, 'ref-1', 'money-help', { accept: true }, later(4)).events).toEqual([]);
    expect(() =>
      respondToReferral(state, 'ref-1', 'money-help', { accept: false, reason: 'other' }, later(4)),
    ).toThrow(/accepted, not offered/);
  });

  it('withdraws every referral and every support organisation’s access when sharing consent is withdrawn', () => {
    let state = addReferrals(
      opened(),
      [
        { organisationId: 'money-help', needs: ['financial-loss'], crisis: false, state: 'offered' },
        { organisationId: 'talk-line', needs: ['psychological-distress'], crisis: false, state: 'offered' },
      ],
      later(1),
    ).state;
    state = respondToReferral(state, 'ref-1', 'money-help', { accept: true }, later(2)).state;
    const change = recordConsent(state, consent('share-support', false, later(3)), later(3));
    expect(change.state.assignedOrgIds).toEqual(['vs-bayern']);
    expect(change.state.referrals.map((r) => r.state)).toEqual(['withdrawn', 'withdrawn']);
    expect([...change.released].sort()).toEqual(['money-help', 'talk-line']);
    expect(change.state.consentLog).toHaveLength(3);
  });

  it('cancels check-ins when contact is withdrawn, and schedules them when it is granted', () => {
    const withdrawn = recordConsent(opened(), consent('contact', false, later(1)), later(1)).state;
    expect(withdrawn.checkIns.every((c) => c.state === 'cancelled')).toBe(true);
    const granted = recordConsent(withdrawn, consent('contact', true, later(2)), later(2)).state;
    expect(granted.checkIns.filter((c) => c.state === 'due').map((c) => c.id)).toEqual([
      'ci-4',
      'ci-5',
      'ci-6',
    ]);
  });

  it('offers a referral that waited for consent, and a declined check-in withdraws contact consent', () => {
    const waiting = addReferrals(
      opened([]),
      [{ organisationId: 'crisis-line', needs: [], crisis: true, state: 'awaiting-consent' }],
      t0,
    );
    expect(waiting.events).toEqual([]);
    expect(statusOf(waiting.state)).toBe('open');
    const offered = offerAwaiting(waiting.state, 'ref-1', 'crisis-line-2', later(1));
    expect(offered.events).toMatchObject([
      {
        type: 'referral-made',
        referral: { organisationId: 'crisis-line-2', state: 'offered', crisis: true },
      },
    ]);

    const { change } = recordCheckIn(opened(), 'ci-1', 'declined-contact', 'workflow', later(24));
    expect(change.state.consents.contact).toMatchObject({
      granted: false,
      wordingVersion: 'check-in-declined',
    });
    expect(change.state.checkIns.map((c) => c.state)).toEqual(['done', 'cancelled', 'cancelled']);
  });

  it('closes with case-closed, withdrawing open referrals and freeing places; erasure closes an open case once', () => {
    let state = addReferrals(
      opened(),
      [
        { organisationId: 'money-help', needs: ['financial-loss'], crisis: false, state: 'offered' },
        { organisationId: 'talk-line', needs: ['psychological-distress'], crisis: false, state: 'offered' },
      ],
      later(1),
    ).state;
    state = respondToReferral(state, 'ref-1', 'money-help', { accept: true }, later(2)).state;
    const closed = closeCase(state, 'resolved', later(3));
    expect(closed.events).toEqual([{ type: 'case-closed', reason: 'resolved', erased: false }]);
    expect([...closed.released].sort()).toEqual(['money-help', 'talk-line']);
    expect(statusOf(closed.state)).toBe('closed');
    expect(() => closeCase(closed.state, 'resolved', later(4))).toThrow(/closed/);

    const erased = eraseCase(state, later(5));
    expect(erased.events).toEqual([{ type: 'case-closed', reason: 'erased', erased: true }]);
    expect(erased.state).toMatchObject({
      erasedAt: later(5),
      closeReason: 'erased',
      assignedOrgIds: ['vs-bayern'],
    });
    expect(eraseCase(erased.state, later(6)).events).toEqual([]);
    expect(eraseCase(closed.state, later(6))).toMatchObject({
      events: [],
      state: { erasedAt: later(6), closeReason: 'resolved' },
    });
    expect(() => reassess(erased.state, state.assessment, later(7))).toThrow(/erased/);
  });
});
