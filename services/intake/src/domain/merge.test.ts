import { describe, expect, it } from 'vitest';
import { NCISS_BASELINE, scoreSeverity } from '@beacon/domain';
import type { Incident, MergePending } from './incident.js';
import { absorb, checkMerge, hasAbsorbed, markMerged, MergeRuleError } from './merge.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const EARLY = new Date('2026-02-01T00:00:00.000Z');
const LATE = new Date('2026-02-20T00:00:00.000Z');

function incident(id: string, fields: Partial<Incident> = {}): Incident {
  return {
    id,
    title: `incident ${id}`,
    status: 'active',
    tlp: 'GREEN',
    classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
    sectors: [],
    jurisdictions: [],
    severityInputs: NCISS_BASELINE,
    severity: scoreSeverity(NCISS_BASELINE),
    severityOrigins: {},
    severityProposals: [],
    reportIds: [],
    engagedAgencyIds: [],
    sourceAgencyId: undefined,
    reporterAgencyIds: [],
    observables: [],
    affectedAssets: [],
    awareAt: LATE,
    openedAt: LATE,
    updatedAt: LATE,
    version: 3,
    ...fields,
  };
}

const survivor = incident('inc_s', {
  tlp: 'GREEN',
  sourceAgencyId: 'cert-a',
  sectors: ['energy'],
  jurisdictions: ['DE'],
  reportIds: ['rep_1'],
  engagedAgencyIds: ['police-b'],
  reporterAgencyIds: ['cert-a'],
  observables: [{ type: 'domain', value: 'evil.example', tlp: 'GREEN', reportId: 'rep_1' }],
  affectedAssets: [{ assetId: 'grid-1', loss: 0.2 }],
  awareAt: LATE,
});
const merged = incident('inc_m', {
  tlp: 'AMBER',
  sourceAgencyId: 'water-c',
  sectors: ['water-and-wastewater', 'energy'],
  jurisdictions: ['FR'],
  reportIds: ['rep_2', 'rep_3'],
  engagedAgencyIds: ['police-b', 'support-d'],
  reporterAgencyIds: ['water-c'],
  observables: [
    { type: 'domain', value: 'evil.example', tlp: 'AMBER', reportId: 'rep_2' },
    { type: 'ipv4', value: '192.0.2.7', tlp: 'AMBER', reportId: 'rep_3' },
  ],
  affectedAssets: [
    { assetId: 'grid-1', loss: 0.9 },
    { assetId: 'pump-2', loss: 0.5 },
  ],
  awareAt: EARLY,
});
const pending: MergePending = {
  survivorId: 'inc_s',
  awareAt: EARLY,
  actor: 'cc-ops',
  actorAgencyId: undefined,
  at: NOW,
};

const refusal = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof MergeRuleError) return { kind: error.kind, field: error.field };
    throw error;
  }
  return undefined;
};

describe('what a merge leaves', () => {
  it('keeps every report, observable, sector, jurisdiction, asset and engagement in the survivor', () => {
    const { incident: next } = absorb(survivor, merged, EARLY, NOW);
    expect(next.reportIds).toEqual(['rep_1', 'rep_2', 'rep_3']);
    expect(next.sectors).toEqual(['energy', 'water-and-wastewater']);
    expect(next.jurisdictions).toEqual(['DE', 'FR']);
    expect(next.engagedAgencyIds).toEqual(['police-b', 'support-d']);
    expect(next.reporterAgencyIds).toEqual(['cert-a', 'water-c']);
    // Each indicator once, under the most permissive label it was shared with.
    expect(next.observables).toEqual([
      { type: 'domain', value: 'evil.example', tlp: 'GREEN', reportId: 'rep_1' },
      { type: 'ipv4', value: '192.0.2.7', tlp: 'AMBER', reportId: 'rep_3' },
    ]);
    expect(next.affectedAssets).toEqual(
      expect.arrayContaining([
        { assetId: 'grid-1', loss: 0.9 },
        { assetId: 'pump-2', loss: 0.5 },
      ]),
    );
    expect(next.affectedAssets).toHaveLength(2);
  });

  it('gives the survivor the most restrictive label and the confirmed awareness time, its own source and severity', () => {
    const { incident: next } = absorb(survivor, merged, EARLY, NOW);
    expect(next.tlp).toBe('AMBER');
    expect(next.awareAt).toEqual(EARLY);
    expect(absorb(survivor, merged, LATE, NOW).incident.awareAt).toEqual(LATE);
    expect(next.sourceAgencyId).toBe('cert-a');
    expect(next.severityInputs).toEqual(survivor.severityInputs);
    expect(next.version).toBe(survivor.version + 1);
    expect(hasAbsorbed(next, 'inc_m')).toBe(true);
    expect(hasAbsorbed(survivor, 'inc_m')).toBe(false);
  });

  it('announces the merge once, naming both incidents and whom each was shared with before', () => {
    const { events } = absorb(survivor, merged, EARLY, NOW);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'merged',
      incident: { id: 'inc_s', tlp: 'AMBER' },
      mergedId: 'inc_m',
      survivorBefore: { tlp: 'GREEN', sourceAgencyId: 'cert-a', engagedAgencyIds: ['police-b'] },
      mergedBefore: { tlp: 'AMBER', sourceAgencyId: 'water-c', engagedAgencyIds: ['police-b', 'support-d'] },
    });
  });

  it('closes the merged incident, points it at the survivor, and announces nothing yet', () => {
    const { incident: marked, events } = markMerged(merged, pending, NOW);
    expect(marked).toMatchObject({
      status: 'closed',
      mergedInto: 'inc_s',
      mergePending: pending,
      version: merged.version + 1,
      tlp: 'AMBER',
      reportIds: merged.reportIds,
    });
    expect(events).toEqual([]);
  });
});

describe('merges refused', () => {
  it('refuses an incident into itself, and a merged, half-merged or closed one, naming the field', () => {
    expect(refusal(() => checkMerge(survivor, survivor, LATE))).toEqual({
      kind: 'same-incident',
      field: 'merged_id',
    });
    const marked = markMerged(merged, pending, NOW).incident;
    expect(refusal(() => checkMerge(survivor, marked, EARLY))).toMatchObject({ kind: 'already-merged' });
    expect(refusal(() => checkMerge(marked, survivor, EARLY))).toEqual({
      kind: 'already-merged',
      field: 'survivor_id',
    });
    expect(refusal(() => checkMerge({ ...survivor, status: 'closed' }, merged, EARLY))).toEqual({
      kind: 'closed',
      field: 'survivor_id',
    });
    expect(refusal(() => checkMerge(survivor, { ...merged, status: 'closed' }, EARLY))).toEqual({
      kind: 'closed',
      field: 'merged_id',
    });
  });

  it("accepts only one of the two incidents' awareness times", () => {
    expect(refusal(() => checkMerge(survivor, merged, EARLY))).toBeUndefined();
    expect(refusal(() => checkMerge(survivor, merged, LATE))).toBeUndefined();
    expect(refusal(() => checkMerge(survivor, merged, new Date('1991-01-01T00:00:00.000Z')))).toEqual({
      kind: 'awareness-not-confirmed',
      field: 'aware_at',
    });
  });

  it('refuses a survivor that would hold more reports than an incident may', () => {
    const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    expect(
      refusal(() =>
        checkMerge(
          { ...survivor, reportIds: many('a', 3000) },
          { ...merged, reportIds: many('b', 2001) },
          EARLY,
        ),
      ),
    ).toMatchObject({ kind: 'full' });
  });
});
