import { describe, expect, it } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import type { AffectedAsset } from './affected-asset.js';
import type { Report } from './incident.js';
import { attachReport, openDirectly, openFromReport, rescore, transition } from './rules.js';

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
    );
    expect(incident.affectedAssets).toEqual([a('pump-1', 0.5), a('grid-1', 0.8), a('dam-1', 1)]);
    expect(events.find((e) => e.kind === 'report-attached')).toMatchObject({
      incident: { affectedAssets: incident.affectedAssets },
    });
    // A report without assets leaves them as they were.
    const again = attachReport(incident, reportFixture('rep_3', []), NOW);
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
