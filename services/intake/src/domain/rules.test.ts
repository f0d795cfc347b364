import { describe, expect, it } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import type { AffectedAsset } from './affected-asset.js';
import type { Report } from './incident.js';
import {
  acceptsReports,
  attachReport,
  disengageAgency,
  engageAgency,
  IntakeRuleError,
  MAX_INCIDENT_OBSERVABLE_BYTES,
  MAX_INCIDENT_OBSERVABLES,
  MAX_INCIDENT_REPORTS,
  openDirectly,
  openFromReport,
  rescore,
  reviseFacts,
  transition,
} from './rules.js';
import { findRelation, relationId } from './relation.js';

const NOW = new Date('2026-01-02T03:04:05.000Z');
const a = (assetId: string, loss: number): AffectedAsset => ({ assetId, loss });

function reportFixture(id: string, affectedAssets: readonly AffectedAsset[]): Report {
  return {
    id,
    incidentId: 'inc_1',
    reporterAgencyId: 'cert-de',
    title: 'Ransomware at a water utility',
    description: '',
    tlp: 'AMBER',
    classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
    sectors: ['water-and-wastewater'],
    jurisdictions: ['DE'],
    observables: [{ type: 'domain', value: 'evil.example' }],
    affectedAssets,
    awareAt: new Date('2026-01-01T00:00:00.000Z'),
    submittedAt: NOW,
  };
}

describe('affected assets of an incident', () => {
  it('are those of the report that opened it, and travel in the opened event', () => {
    const { incident, events } = openFromReport(
      reportFixture('rep_1', [a('pump-1', 0.5), a('grid-1', 1)]),
      'inc_1',
      NOW,
    );
    expect(incident.affectedAssets).toEqual([a('pump-1', 0.5), a('grid-1', 1)]);
    expect(events.find((e) => e.kind === 'opened')).toMatchObject({
      incident: { affectedAssets: incident.affectedAssets },
    });
  });

  it('are those of the request when a coordinator opens it, each once with its largest loss', () => {
    const { incident } = openDirectly(
      {
        id: 'inc_2',
        title: 'Grid outage',
        tlp: 'RED',
        classification: { rsitClass: 'availability', rsitType: 'outage' },
        sectors: [],
        jurisdictions: [],
        severityInputs: NCISS_BASELINE,
        observables: [],
        affectedAssets: [a('grid-1', 0.2), a('grid-1', 0.9)],
        awareAt: NOW,
      },
      NOW,
    );
    expect(incident.affectedAssets).toEqual([a('grid-1', 0.9)]);
  });

  it('gain a correlated report’s assets, keeping the larger loss of an asset both name', () => {
    const opened = openFromReport(reportFixture('rep_1', [a('pump-1', 0.5), a('grid-1', 0.3)]), 'inc_1', NOW);
    const { incident, events } = attachReport(
      opened.incident,
      reportFixture('rep_2', [a('grid-1', 0.8), a('pump-1', 0.1), a('dam-1', 1)]),
      NOW,
      false,
    );
    expect(incident.affectedAssets).toEqual([a('pump-1', 0.5), a('grid-1', 0.8), a('dam-1', 1)]);
    expect(events.find((e) => e.kind === 'report-attached')).toMatchObject({
      incident: { affectedAssets: incident.affectedAssets },
    });
    // A report without assets leaves them as they were.
    const again = attachReport(incident, reportFixture('rep_3', []), NOW, false);
    expect(again.incident.affectedAssets).toEqual(incident.affectedAssets);
  });

  it('are kept through lifecycle and severity changes, and in their events', () => {
    const opened = openFromReport(reportFixture('rep_1', [a('pump-1', 0.5)]), 'inc_1', NOW);
    const moved = transition(opened.incident, 'triage', '', NOW);
    const rescored = rescore(moved.incident, { ...NCISS_BASELINE, functionalImpact: 'denial-critical' }, NOW);
    expect(rescored.incident.affectedAssets).toEqual([a('pump-1', 0.5)]);
    for (const event of [...moved.events, ...rescored.events]) {
      expect(event).toMatchObject({ incident: { affectedAssets: [a('pump-1', 0.5)] } });
    }
  });
});

describe('an incident stays within what a document and an event can carry', () => {
  it('takes no report beyond its bound, and says so', () => {
    const { incident } = openFromReport(reportFixture('rep_0', []), 'inc_1', NOW);
    const full = {
      ...incident,
      reportIds: Array.from({ length: MAX_INCIDENT_REPORTS }, (_, i) => `rep_${i}`),
    };
    expect(acceptsReports({ ...full, reportIds: full.reportIds.slice(1) })).toBe(true);
    expect(acceptsReports(full)).toBe(false);
    expect(() => attachReport(full, reportFixture('rep_new', []), NOW, false)).toThrow(
      expect.objectContaining({ kind: 'full' }),
    );
  });

  it('keeps its observables within the count and byte bounds, still lowering a known one’s label', () => {
    let { incident } = openFromReport(reportFixture('rep_0', []), 'inc_1', NOW);
    const many = (from: number, count: number, length = 20) =>
      Array.from({ length: count }, (_, i) => ({
        type: 'domain' as const,
        value: `${String(from + i).padStart(length - 9, '0')}.example`,
      }));
    for (let r = 0; r * 500 < MAX_INCIDENT_OBSERVABLES + 500; r++) {
      const report = { ...reportFixture(`rep_${r + 1}`, []), observables: many(r * 500, 500) };
      incident = attachReport(incident, report, NOW, false).incident;
    }
    expect(incident.observables).toHaveLength(MAX_INCIDENT_OBSERVABLES);
    // A known indicator shared GREEN later is still recorded as shared GREEN.
    const green = { ...reportFixture('rep_green', []), tlp: 'GREEN' as const, observables: many(0, 1) };
    incident = attachReport(incident, green, NOW, false).incident;
    expect(incident.observables.find((o) => o.value === many(0, 1)[0]!.value)?.tlp).toBe('GREEN');

    // Long values: the byte bound applies first.
    let big = openFromReport({ ...reportFixture('rep_b', []), observables: [] }, 'inc_2', NOW).incident;
    for (let r = 0; r < 3; r++) {
      big = attachReport(
        big,
        { ...reportFixture(`rep_b${r}`, []), observables: many(r * 500, 500, 200) },
        NOW,
        false,
      ).incident;
    }
    const bytes = big.observables.reduce((sum, o) => sum + o.value.length, 0);
    expect(bytes).toBeLessThanOrEqual(MAX_INCIDENT_OBSERVABLE_BYTES);
    expect(bytes).toBeGreaterThan(MAX_INCIDENT_OBSERVABLE_BYTES - 200);
  });
});

describe('an observable reported in several forms', () => {
  const url = 'https://evil.example.com/login';
  const withObservables = (id: string, tlp: Report['tlp'], observables: Report['observables']): Report => ({
    ...reportFixture(id, []),
    tlp,
    observables,
  });

  it('keeps the form written in the report whose label it carries', () => {
    const defanged = { type: 'url' as const, value: url, reported: 'hxxps://evil[.]example[.]com/login' };
    let { incident } = openFromReport(withObservables('rep_1', 'AMBER', [defanged]), 'inc_1', NOW);
    expect(incident.observables).toEqual([{ ...defanged, tlp: 'AMBER', reportId: 'rep_1' }]);

    // The plain spelling under the same label adds nothing: one observable, the first form.
    incident = attachReport(
      incident,
      withObservables('rep_2', 'AMBER', [{ type: 'url', value: url }]),
      NOW,
      false,
    ).incident;
    expect(incident.observables).toEqual([{ ...defanged, tlp: 'AMBER', reportId: 'rep_1' }]);

    // Shared GREEN by another report: that report's label and its own (plain) form.
    incident = attachReport(
      incident,
      withObservables('rep_3', 'GREEN', [{ type: 'url', value: url }]),
      NOW,
      false,
    ).incident;
    expect(incident.observables).toEqual([{ type: 'url', value: url, tlp: 'GREEN', reportId: 'rep_3' }]);
  });

  it('counts reported forms within the byte bound, dropping a form rather than its observable', () => {
    const long = (i: number) => ({
      type: 'domain' as const,
      value: `${String(i).padStart(191, '0')}.example`,
      reported: `${String(i).padStart(191, '0')}[.]example`, // 199 + 201 bytes
    });
    let { incident } = openFromReport(withObservables('rep_0', 'AMBER', []), 'inc_1', NOW);
    for (let r = 0; r < 2; r++) {
      const observables = Array.from({ length: 500 }, (_, i) => long(r * 500 + i));
      incident = attachReport(
        incident,
        withObservables(`rep_${r + 1}`, 'AMBER', observables),
        NOW,
        false,
      ).incident;
    }
    const bytes = () =>
      incident.observables.reduce((sum, o) => sum + o.value.length + (o.reported?.length ?? 0), 0);
    const count = incident.observables.length;
    expect(count).toBe(Math.floor(MAX_INCIDENT_OBSERVABLE_BYTES / 400));
    expect(MAX_INCIDENT_OBSERVABLE_BYTES - bytes()).toBeLessThan(400);

    // Room for a short value, not for its form too: the value is kept, the form left out.
    const room = MAX_INCIDENT_OBSERVABLE_BYTES - bytes();
    const short = { type: 'domain' as const, value: 'x.example', reported: 'x[.]example'.padEnd(room, ' ') };
    incident = attachReport(incident, withObservables('rep_x', 'AMBER', [short]), NOW, false).incident;
    expect(incident.observables).toHaveLength(count + 1);
    expect(incident.observables.at(-1)).toEqual({
      type: 'domain',
      value: 'x.example',
      tlp: 'AMBER',
      reportId: 'rep_x',
    });
    expect(bytes()).toBeLessThanOrEqual(MAX_INCIDENT_OBSERVABLE_BYTES);
  });
});

describe('engagement', () => {
  it('ends as it began: one version, one event, and only for an engaged agency', () => {
    const { incident } = openFromReport(reportFixture('rep_0', []), 'inc_1', NOW);
    const engaged = engageAgency(incident, 'police-by', NOW).incident;
    const later = new Date(NOW.getTime() + 60_000);
    const change = disengageAgency(engaged, 'police-by', later);
    expect(change.incident).toMatchObject({
      engagedAgencyIds: [],
      version: engaged.version + 1,
      updatedAt: later,
    });
    expect(change.events).toEqual([
      { kind: 'agency-unassigned', incident: change.incident, agencyId: 'police-by' },
    ]);
    expect(() => disengageAgency(change.incident, 'police-by', later)).toThrow(IntakeRuleError);
    expect(() => disengageAgency(engaged, 'cert-fr', later)).toThrow(/cert-fr is not engaged/);
  });

  it('can be ended on a closed incident, where nothing else changes', () => {
    let { incident } = openFromReport(reportFixture('rep_0', []), 'inc_1', NOW);
    incident = engageAgency(incident, 'police-by', NOW).incident;
    for (const to of ['triage', 'active', 'resolved', 'closed'] as const) {
      incident = transition(incident, to, 'r', NOW).incident;
    }
    expect(() => engageAgency(incident, 'cert-fr', NOW)).toThrow(/closed/);
    expect(disengageAgency(incident, 'police-by', NOW).incident.engagedAgencyIds).toEqual([]);
  });
});

describe('what a joining report may change', () => {
  const opened = () => openFromReport({ ...reportFixture('rep_1', []), tlp: 'GREEN' }, 'inc_1', NOW).incident;
  const old = new Date('1991-01-01T00:00:00.000Z');

  it('never changes the label, and moves the awareness time only for the source’s own report', () => {
    const incident = opened();
    const late = { ...reportFixture('rep_2', []), tlp: 'CLEAR' as const, awareAt: old };
    const other = attachReport(incident, late, NOW, false);
    expect(other.incident).toMatchObject({ tlp: 'GREEN', awareAt: incident.awareAt });
    expect(other.events).toContainEqual(expect.objectContaining({ kind: 'reported', label: 'GREEN' }));
    const own = attachReport(incident, late, NOW, true);
    expect(own.incident).toMatchObject({ tlp: 'GREEN', awareAt: old });
    // A later awareness time never moves it, the source's included.
    const later = { ...late, awareAt: new Date('2026-01-02T00:00:00.000Z') };
    expect(attachReport(incident, later, NOW, true).incident.awareAt).toEqual(incident.awareAt);
  });

  it('lets a coordinator revise label and awareness time, announced with what they were', () => {
    const incident = opened();
    const { incident: next, events } = reviseFacts(incident, { tlp: 'RED', awareAt: old }, 'confirmed', NOW);
    expect(next).toMatchObject({ tlp: 'RED', awareAt: old, version: incident.version + 1 });
    expect(events).toEqual([
      {
        kind: 'facts-revised',
        incident: next,
        previousTlp: 'GREEN',
        previousAwareAt: incident.awareAt,
        reason: 'confirmed',
      },
    ]);
    expect(reviseFacts(incident, { tlp: 'AMBER' }, '', NOW).incident.awareAt).toEqual(incident.awareAt);
    expect(() => reviseFacts(incident, { tlp: 'GREEN', awareAt: incident.awareAt }, '', NOW)).toThrow(
      expect.objectContaining({ kind: 'unchanged' }),
    );
  });
});

describe('possible relations', () => {
  it('have one id per pair of incidents, in either order', () => {
    expect(relationId('inc_a', 'inc_b')).toBe(relationId('inc_b', 'inc_a'));
    expect(relationId('inc_a', 'inc_b')).not.toBe(relationId('inc_a', 'inc_c'));
  });

  it('carry the shared indicators only, and the more restrictive label of the two', () => {
    const report = {
      id: 'rep_9',
      incidentId: 'inc_new',
      observables: [
        { type: 'domain' as const, value: 'shared.example' },
        { type: 'domain' as const, value: 'own.example' },
      ],
    };
    const relation = findRelation(
      report,
      { id: 'inc_old', tlp: 'RED', sharedKeys: ['domain:shared.example'] },
      'CLEAR',
      NOW,
    );
    expect(relation).toEqual({
      id: relationId('inc_new', 'inc_old'),
      incidentId: 'inc_new',
      relatedIncidentId: 'inc_old',
      observables: [{ type: 'domain', value: 'shared.example' }],
      reportIds: ['rep_9'],
      tlp: 'RED',
      foundAt: NOW,
    });
  });
});
