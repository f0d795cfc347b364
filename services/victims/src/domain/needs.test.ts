import { describe, expect, it } from 'vitest';
import type { Need } from './model.js';
import {
  assessNeeds,
  lossBand,
  minorDigits,
  needProblems,
  newNeedKinds,
  recallOf,
  screeningResult,
} from './needs.js';

const now = new Date('2026-03-10T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
const loss = (overrides: Partial<Extract<Need, { kind: 'financial-loss' }>> = {}): Need => ({
  kind: 'financial-loss',
  amountMinor: 250_000,
  currency: 'EUR',
  paymentMethod: 'sepa-credit-transfer',
  paidAt: daysAgo(2),
  ...overrides,
});

describe('bank recall', () => {
  it('is possible within a transfer’s window, closed after it, never for crypto, unknown without a date', () => {
    expect(recallOf({ paymentMethod: 'sepa-credit-transfer', paidAt: daysAgo(3) }, now)).toEqual({
      recall: 'possible',
      deadline: new Date(daysAgo(3).getTime() + 14 * 86_400_000),
    });
    expect(recallOf({ paymentMethod: 'sepa-credit-transfer', paidAt: daysAgo(15) }, now).recall).toBe(
      'closed',
    );
    expect(recallOf({ paymentMethod: 'card', paidAt: daysAgo(100) }, now).recall).toBe('possible');
    expect(recallOf({ paymentMethod: 'card', paidAt: daysAgo(121) }, now).recall).toBe('closed');
    expect(recallOf({ paymentMethod: 'crypto', paidAt: daysAgo(0) }, now)).toEqual({
      recall: 'not-possible',
    });
    expect(recallOf({ paymentMethod: 'gift-card', paidAt: undefined }, now)).toEqual({
      recall: 'not-possible',
    });
    expect(recallOf({ paymentMethod: 'instant-transfer', paidAt: undefined }, now)).toEqual({
      recall: 'unknown',
    });
    expect(recallOf({ paymentMethod: 'other', paidAt: daysAgo(1) }, now)).toEqual({ recall: 'unknown' });
  });
});

describe('loss bands', () => {
  it('band the total in the currency’s major unit', () => {
    expect(minorDigits('EUR')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(lossBand(9_999, 'EUR')).toBe('under-100');
    expect(lossBand(10_000, 'EUR')).toBe('under-1000');
    expect(lossBand(10_000_000, 'EUR')).toBe('from-100000');
    expect(lossBand(10_000, 'JPY')).toBe('under-100000');
    expect(lossBand(999_999, 'EUR')).toBe('under-10000');
  });
});

describe('screening', () => {
  it('bands PHQ-4 and K10 scores as published', () => {
    expect([0, 2, 3, 5, 6, 8, 9, 12].map((s) => screeningResult('phq-4', s))).toEqual([
      'none',
      'none',
      'mild',
      'mild',
      'moderate',
      'moderate',
      'severe',
      'severe',
    ]);
    expect([10, 19, 20, 24, 25, 29, 30, 50].map((s) => screeningResult('k10', s))).toEqual([
      'none',
      'none',
      'mild',
      'mild',
      'moderate',
      'moderate',
      'severe',
      'severe',
    ]);
  });
});

describe('needs rules', () => {
  it('refuses duplicate kinds, mixed currencies, bad amounts, future payments and out-of-range scores', () => {
    const problems = needProblems(
      [
        loss(),
        loss({ currency: 'USD' }),
        loss({ amountMinor: 0 }),
        loss({ amountMinor: 1.5 }),
        loss({ currency: 'XYZ1' }),
        loss({ paidAt: new Date(now.getTime() + 3_600_000) }),
        { kind: 'sextortion', ongoing: true, paymentDemanded: false },
        { kind: 'sextortion', ongoing: false, paymentDemanded: false },
        { kind: 'psychological-distress', instrument: 'k10', score: 9 },
      ],
      now,
    );
    expect(problems).toEqual([
      { index: 1, field: 'currency', message: 'record every loss in one currency (EUR)' },
      { index: 2, field: 'amountMinor', message: 'must be a whole number from 1 to 10^12' },
      { index: 3, field: 'amountMinor', message: 'must be a whole number from 1 to 10^12' },
      { index: 4, field: 'currency', message: 'must be an ISO 4217 code, e.g. EUR' },
      { index: 5, field: 'paidAt', message: 'is in the future' },
      { index: 7, field: '', message: 'sextortion is given twice' },
      { index: 8, field: 'score', message: 'must be 10 to 50 for k10' },
    ]);
    expect(
      needProblems(
        Array.from({ length: 11 }, () => loss()),
        now,
      ),
    ).toEqual([{ index: 10, field: '', message: 'at most 10 financial losses' }]);
    expect(needProblems([loss(), loss({ paymentMethod: 'card' })], now)).toEqual([]);
  });

  it('sums financial losses into one need: the band of the total, the earliest open recall, critical when it closes within 72 h', () => {
    const a = assessNeeds(
      [
        loss({ amountMinor: 60_000, paidAt: daysAgo(12) }), // SEPA: window closes in 2 days
        loss({ amountMinor: 50_000, paymentMethod: 'card', paidAt: daysAgo(10) }),
        loss({ amountMinor: 10_000, paymentMethod: 'crypto' }),
      ],
      [],
      now,
    );
    expect(a.needs).toEqual([
      {
        kind: 'financial-loss',
        priority: 'critical',
        lossBand: 'under-10000',
        currency: 'EUR',
        recall: 'possible',
        recallDeadline: new Date(daysAgo(12).getTime() + 14 * 86_400_000),
      },
    ]);
    expect(a).toMatchObject({ urgent: true, urgencyReasons: ['recall-closing'], crisis: false });
  });

  it('ranks a loss routine when nothing can be recovered and it is small, high when it is large', () => {
    expect(
      assessNeeds([loss({ paymentMethod: 'gift-card', amountMinor: 5_000 })], [], now).needs[0],
    ).toMatchObject({ priority: 'routine', recall: 'not-possible', lossBand: 'under-100' });
    expect(
      assessNeeds([loss({ paymentMethod: 'crypto', amountMinor: 2_000_000 })], [], now).needs[0],
    ).toMatchObject({ priority: 'high', lossBand: 'under-100000' });
    expect(assessNeeds([loss({ paidAt: daysAgo(30) })], [], now).needs[0]).toMatchObject({
      recall: 'closed',
    });
  });

  it('makes ongoing extortion, threats, a vital service and severe distress urgent; other needs are not', () => {
    const a = assessNeeds(
      [
        { kind: 'sextortion', ongoing: true, paymentDemanded: true },
        { kind: 'harassment', ongoing: true, offlineThreats: true },
        { kind: 'service-loss', service: 'health-care', vital: true },
        { kind: 'psychological-distress', instrument: 'phq-4', score: 10 },
        { kind: 'identity-theft', documents: ['passport'], misuseSeen: false },
        { kind: 'account-takeover', accounts: ['shopping'], lockedOut: false },
        { kind: 'data-exposure', categories: ['contact'] },
      ],
      [],
      now,
    );
    expect(a.urgent).toBe(true);
    expect(a.crisis).toBe(false);
    expect(a.urgencyReasons).toEqual([
      'offline-threats',
      'ongoing-extortion',
      'severe-distress',
      'vital-service-lost',
    ]);
    expect(Object.fromEntries(a.needs.map((n) => [n.kind, n.priority]))).toEqual({
      'identity-theft': 'high',
      'account-takeover': 'routine',
      sextortion: 'critical',
      harassment: 'critical',
      'data-exposure': 'routine',
      'service-loss': 'critical',
      'psychological-distress': 'critical',
    });
    expect(a.needs.find((n) => n.kind === 'psychological-distress')?.screeningResult).toBe('severe');

    const calm = assessNeeds(
      [
        { kind: 'data-exposure', categories: ['contact'] },
        { kind: 'psychological-distress', instrument: 'k10', score: 22 },
      ],
      [],
      now,
    );
    expect(calm).toMatchObject({ urgent: false, urgencyReasons: [], crisis: false });
  });

  it('a disclosed risk makes the case urgent and a crisis, even with no needs', () => {
    expect(assessNeeds([], ['self-harm'], now)).toEqual({
      needs: [],
      urgent: true,
      urgencyReasons: ['risk-disclosed'],
      crisis: true,
      assessedAt: now,
    });
  });

  it('names the need kinds a new assessment adds', () => {
    const before = assessNeeds([loss()], [], now).needs;
    const after = assessNeeds([loss(), { kind: 'data-exposure', categories: ['health'] }], [], now).needs;
    expect(newNeedKinds(before, after).map((n) => n.kind)).toEqual(['data-exposure']);
    expect(newNeedKinds(after, before)).toEqual([]);
  });
});
