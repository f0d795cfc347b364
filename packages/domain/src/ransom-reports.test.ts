import { describe, expect, it } from 'vitest';
import { ransomPaymentNumber, ransomReportId } from './ransom-reports.js';
import {
  applicableRegimes,
  draftReport,
  isObligationId,
  obligationSpec,
  scheduleObligations,
  type DraftFacts,
} from './regulatory.js';

const HOUR = 3_600_000;
const aware = Date.UTC(2026, 4, 7, 8);
const first = aware + 2 * HOUR;
const second = aware + 30 * HOUR;

describe('ransom payment reports, one per payment', () => {
  it('keep the first payment’s id and number the later ones', () => {
    expect([1, 2, 3].map(ransomReportId)).toEqual([
      'circia-ransom-payment-report',
      'circia-ransom-payment-report-2',
      'circia-ransom-payment-report-3',
    ]);
    expect(ransomPaymentNumber('circia-ransom-payment-report-2')).toBe(2);
    for (const bad of [
      'circia-ransom-payment-report-1',
      'circia-ransom-payment-report-0',
      'circia-ransom-payment-report-02',
      'circia-ransom-payment-report-51',
    ])
      expect(isObligationId(bad)).toBe(false);
    expect(isObligationId('circia-ransom-payment-report-2')).toBe(true);
    expect(obligationSpec('circia-ransom-payment-report-2')).toMatchObject({
      regime: 'CIRCIA',
      phase: 'initial',
      title: 'CIRCIA ransom payment report for payment 2 (24 h after payment)',
    });
  });

  it('each fall due 24 hours after their own payment, and CIRCIA requires every one', () => {
    const [circia] = applicableRegimes({
      jurisdictions: ['US-TX'],
      sectors: ['energy'],
      ncissLevel: 0,
      ransomPaidAtMs: first,
      ransomPaymentsAtMs: [first, second],
    });
    expect(circia).toMatchObject({
      regime: 'CIRCIA',
      obligations: ['circia-ransom-payment-report', 'circia-ransom-payment-report-2'],
    });
    expect(circia!.reasons).toContain('2 ransom payments were made');
    const due = scheduleObligations(circia!.obligations, {
      awareAtMs: aware,
      ransomPaidAtMs: first,
      ransomPaymentsAtMs: [first, second],
      filedAtMs: {},
    }).map((o) => [o.id, o.dueAtMs]);
    expect(due).toEqual([
      ['circia-ransom-payment-report', first + 24 * HOUR],
      ['circia-ransom-payment-report-2', second + 24 * HOUR],
    ]);
  });

  it('read the one payment of facts written before there could be several', () => {
    expect(
      scheduleObligations(['circia-ransom-payment-report'], {
        awareAtMs: aware,
        ransomPaidAtMs: first,
        filedAtMs: {},
      }).map((o) => o.dueAtMs),
    ).toEqual([first + 24 * HOUR]);
  });

  it('draft each report with its own payment', () => {
    const facts = {
      incidentId: 'inc_x',
      title: 'Ransomware',
      rsitClass: 'malicious-code',
      rsitType: 'infected-system',
      sectors: ['energy'],
      jurisdictions: ['US-TX'],
      ncissScore: 1,
      ncissLevel: 0,
      tlp: 'AMBER',
      awareAtMs: aware,
      criminalSuspected: true,
      ransomPaidAtMs: first,
      ransomPaymentsAtMs: [first, second],
      engagedAgencyIds: [],
    } satisfies DraftFacts;
    expect(draftReport('circia-ransom-payment-report', facts)).toMatchObject({
      ransomPaidAt: new Date(first).toISOString(),
    });
    expect(draftReport('circia-ransom-payment-report-2', facts)).toMatchObject({
      obligation: 'circia-ransom-payment-report-2',
      title: 'CIRCIA ransom payment report for payment 2 (24 h after payment)',
      paymentNumber: 2,
      ransomPaidAt: new Date(second).toISOString(),
    });
  });
});
