import { describe, expect, it } from 'vitest';
import {
  addMonthsUtc,
  applicableRegimes,
  draftReport,
  mustFileBeforeResolving,
  OBLIGATION_IDS,
  scheduleObligations,
  type DraftFacts,
  type ObligationId,
} from './regulatory.js';

const HOUR = 3_600_000;
const aware = Date.UTC(2026, 0, 10, 8, 0, 0);

describe('which regimes apply', () => {
  it('puts a medium incident in a German water utility under NIS2 only', () => {
    const regimes = applicableRegimes({
      jurisdictions: ['DE-BY'],
      sectors: ['water-and-wastewater'],
      ncissLevel: 2,
    });
    expect(regimes.map((r) => r.regime)).toEqual(['NIS2']);
    expect(regimes[0]!.obligations).toEqual([
      'nis2-early-warning',
      'nis2-incident-notification',
      'nis2-progress-report',
      'nis2-final-report',
    ]);
    expect(regimes[0]!.reasons.join('; ')).toContain('DE');
  });

  it('by place: a regime needs one place in its territory and its sectors, not a sector here and a country there', () => {
    // A chemical plant in DE is hit; the cascade reaches energy in UA only. The EU place is
    // chemicals (NIS2, not CER), and no CER sector is touched in the EU.
    const places = [
      { sector: 'chemical', jurisdiction: 'DE' },
      { sector: 'energy', jurisdiction: 'UA-30' },
    ];
    const byPlace = applicableRegimes({ jurisdictions: [], sectors: [], ncissLevel: 3, places });
    expect(byPlace.map((r) => r.regime)).toEqual(['NIS2']);
    expect(byPlace[0]!.reasons).toContain('NIS2 sector(s) chemical');
    // The same incident read as two lists brings CER for energy, which no EU place has.
    const lists = applicableRegimes({
      jurisdictions: ['DE', 'UA-30'],
      sectors: ['chemical', 'energy'],
      ncissLevel: 3,
    });
    expect(lists.map((r) => r.regime)).toEqual(['NIS2', 'CER']);
    // Energy reached in DE: CER applies, for energy.
    const reached = applicableRegimes({
      jurisdictions: [],
      sectors: [],
      ncissLevel: 3,
      places: [...places, { sector: 'energy', jurisdiction: 'DE-NI' }],
    });
    expect(reached.map((r) => [r.regime, r.reasons[1]])).toEqual([
      ['NIS2', 'NIS2 sector(s) chemical, energy'],
      ['CER', 'CER sector(s) energy'],
    ]);
    // A US place brings CIRCIA, with its own sectors only.
    const us = applicableRegimes({
      jurisdictions: [],
      sectors: [],
      ncissLevel: 3,
      places: [...places, { sector: 'energy', jurisdiction: 'US-TX' }],
    });
    expect(us.map((r) => r.regime)).toEqual(['NIS2', 'CIRCIA']);
    expect(us[1]!.reasons[1]).toBe('critical-infrastructure sector(s) energy');
  });

  it('adds CER when the disruption is significant, by level or by functional impact', () => {
    const base = { jurisdictions: ['FR'], sectors: ['energy'] };
    expect(applicableRegimes({ ...base, ncissLevel: 3 }).map((r) => r.regime)).toEqual(['NIS2', 'CER']);
    expect(
      applicableRegimes({ ...base, ncissLevel: 2, functionalImpact: 'denial-critical' }).map((r) => r.regime),
    ).toEqual(['NIS2', 'CER']);
    // A non-critical service, or a minimal loss, is not the disruption of an essential service.
    for (const functionalImpact of ['minimal-critical', 'denial-non-critical']) {
      expect(applicableRegimes({ ...base, ncissLevel: 2, functionalImpact }).map((r) => r.regime)).toEqual([
        'NIS2',
      ]);
    }
  });

  it('applies nothing below the thresholds, outside the EU and US, or outside the sectors', () => {
    expect(applicableRegimes({ jurisdictions: ['DE'], sectors: ['energy'], ncissLevel: 1 })).toEqual([]);
    expect(applicableRegimes({ jurisdictions: ['CH'], sectors: ['energy'], ncissLevel: 5 })).toEqual([]);
    // NIS2 lists no dams, and the defence industrial base is excluded from it.
    expect(
      applicableRegimes({
        jurisdictions: ['DE'],
        sectors: ['dams', 'defense-industrial-base'],
        ncissLevel: 4,
      }),
    ).toEqual([]);
    expect(applicableRegimes({ jurisdictions: ['not-a-code'], sectors: ['energy'], ncissLevel: 5 })).toEqual(
      [],
    );
  });

  it('applies CIRCIA to covered US incidents, and its ransom report to any ransom paid', () => {
    expect(applicableRegimes({ jurisdictions: ['US-CA'], sectors: ['energy'], ncissLevel: 3 })).toMatchObject(
      [{ regime: 'CIRCIA', obligations: ['circia-incident-report'] }],
    );
    expect(applicableRegimes({ jurisdictions: ['US'], sectors: ['energy'], ncissLevel: 2 })).toEqual([]);
    expect(
      applicableRegimes({ jurisdictions: ['US'], sectors: ['energy'], ncissLevel: 1, ransomPaidAtMs: aware }),
    ).toMatchObject([{ regime: 'CIRCIA', obligations: ['circia-ransom-payment-report'] }]);
    expect(
      applicableRegimes({
        jurisdictions: ['US', 'DE'],
        sectors: ['energy'],
        ncissLevel: 4,
        ransomPaidAtMs: aware,
      }),
    ).toMatchObject([
      { regime: 'NIS2' },
      { regime: 'CIRCIA', obligations: ['circia-incident-report', 'circia-ransom-payment-report'] },
      { regime: 'CER' },
    ]);
  });
});

describe('deadlines', () => {
  const nis2: ObligationId[] = [
    'nis2-early-warning',
    'nis2-incident-notification',
    'nis2-progress-report',
    'nis2-final-report',
  ];
  const due = (obligations: ReturnType<typeof scheduleObligations>) =>
    Object.fromEntries(
      obligations.map((o) => [o.id, o.dueAtMs === undefined ? undefined : new Date(o.dueAtMs).toISOString()]),
    );

  it('counts NIS2 from awareness: 24 h, 72 h, and a progress report a month after the notification was due', () => {
    expect(due(scheduleObligations(nis2, { awareAtMs: aware, filedAtMs: {} }))).toEqual({
      'nis2-early-warning': '2026-01-11T08:00:00.000Z',
      'nis2-incident-notification': '2026-01-13T08:00:00.000Z',
      'nis2-progress-report': '2026-02-13T08:00:00.000Z',
      'nis2-final-report': undefined,
    });
  });

  it('moves the final report to a month after the notification was filed, when resolved by then', () => {
    const filed = aware + 30 * HOUR;
    const schedule = scheduleObligations(nis2, {
      awareAtMs: aware,
      filedAtMs: { 'nis2-incident-notification': filed },
      resolvedAtMs: aware + 10 * 24 * HOUR,
    });
    expect(due(schedule)).toEqual({
      'nis2-early-warning': '2026-01-11T08:00:00.000Z',
      'nis2-incident-notification': '2026-01-13T08:00:00.000Z',
      'nis2-final-report': '2026-02-11T14:00:00.000Z',
    });
  });

  it('asks for a progress report while ongoing, and the final report a month after resolution', () => {
    const resolved = Date.UTC(2026, 2, 1, 12);
    expect(
      due(scheduleObligations(nis2, { awareAtMs: aware, filedAtMs: {}, resolvedAtMs: resolved })),
    ).toMatchObject({
      'nis2-progress-report': '2026-02-13T08:00:00.000Z',
      'nis2-final-report': '2026-04-01T12:00:00.000Z',
    });
  });

  it('counts CIRCIA ransom reports from the payment and CER detailed reports from the notification', () => {
    const paid = aware + 100 * HOUR;
    expect(
      due(
        scheduleObligations(['circia-incident-report', 'circia-ransom-payment-report'], {
          awareAtMs: aware,
          ransomPaidAtMs: paid,
          filedAtMs: {},
        }),
      ),
    ).toEqual({
      'circia-incident-report': '2026-01-13T08:00:00.000Z',
      'circia-ransom-payment-report': '2026-01-15T12:00:00.000Z',
    });
    expect(
      due(
        scheduleObligations(['cer-initial-notification', 'cer-detailed-report'], {
          awareAtMs: aware,
          filedAtMs: { 'cer-initial-notification': aware + 5 * HOUR },
        }),
      ),
    ).toEqual({
      'cer-initial-notification': '2026-01-11T08:00:00.000Z',
      'cer-detailed-report': '2026-02-10T13:00:00.000Z',
    });
  });

  it('lists an obligation only when it applies', () => {
    expect(
      scheduleObligations(['circia-ransom-payment-report'], { awareAtMs: aware, filedAtMs: {} }),
    ).toEqual([]);
  });

  it('requires the initial reports before resolving, and a progress report once it is due', () => {
    const schedule = scheduleObligations(nis2, { awareAtMs: aware, filedAtMs: {} });
    const progress = schedule.find((o) => o.id === 'nis2-progress-report')!;
    const early = schedule.find((o) => o.id === 'nis2-early-warning')!;
    expect(mustFileBeforeResolving(early, aware)).toBe(true);
    expect(mustFileBeforeResolving(progress, progress.dueAtMs! - 1)).toBe(false);
    expect(mustFileBeforeResolving(progress, progress.dueAtMs!)).toBe(true);
  });

  it('adds calendar months in UTC, keeping the time and clamping to the month’s last day', () => {
    expect(new Date(addMonthsUtc(Date.UTC(2026, 0, 31, 23, 30), 1)).toISOString()).toBe(
      '2026-02-28T23:30:00.000Z',
    );
    expect(new Date(addMonthsUtc(Date.UTC(2028, 0, 31), 1)).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(new Date(addMonthsUtc(Date.UTC(2026, 11, 15), 1)).toISOString()).toBe('2027-01-15T00:00:00.000Z');
  });
});

describe('drafts', () => {
  const facts: DraftFacts = {
    incidentId: 'inc_1',
    title: 'Ransomware at a water utility',
    rsitClass: 'malicious-code',
    rsitType: 'infected-system',
    sectors: ['water-and-wastewater'],
    jurisdictions: ['DE-BY'],
    ncissScore: 75,
    ncissLevel: 4,
    tlp: 'AMBER',
    awareAtMs: aware,
    criminalSuspected: true,
    impact: {
      impactedAssets: 12,
      populationAffected: 40_000,
      sectorsReached: ['healthcare-and-public-health'],
      jurisdictionsReached: ['AT'],
    },
    engagedAgencyIds: ['cert-bayern'],
  };

  it('prefills every report with what Beacon knows', () => {
    for (const id of OBLIGATION_IDS) {
      const draft = draftReport(id, facts);
      expect(draft).toMatchObject({
        obligation: id,
        incidentId: 'inc_1',
        awareAt: '2026-01-10T08:00:00.000Z',
      });
    }
  });

  it('flags suspected crime and cross-border impact in the NIS2 early warning', () => {
    expect(draftReport('nis2-early-warning', facts)).toMatchObject({
      suspectedUnlawfulOrMalicious: true,
      possibleCrossBorderImpact: true,
      memberStates: ['AT', 'DE'],
    });
  });
});
