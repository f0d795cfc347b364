import { describe, expect, it } from 'vitest';
import { NCISS_BASELINE, scoreSeverity, type PartialNcissInputs } from '@beacon/domain';
import type { Report } from './incident.js';
import { attachReport, openDirectly, openFromReport, raiseByCascade, rescore } from './rules.js';
import { MAX_SEVERITY_PROPOSALS } from './severity.js';

const OPENED = new Date('2026-01-02T03:00:00.000Z');
const LATER = new Date('2026-01-02T05:00:00.000Z');

/** What a grid operator knows an hour into a blackout. */
const GRID_OPERATOR: PartialNcissInputs = {
  functionalImpact: 'denial-critical',
  observedActivity: 'effect',
  location: 'critical-systems',
  informationImpact: 'destruction-critical',
  recoverability: 'regular',
};

function report(id: string, agency: string | undefined, severityInputs?: PartialNcissInputs): Report {
  return {
    id,
    incidentId: 'inc_1',
    reporterAgencyId: agency,
    title: 'Substations switched off remotely',
    description: '',
    tlp: 'AMBER',
    classification: { rsitClass: 'availability', rsitType: 'sabotage' },
    sectors: ['energy'],
    jurisdictions: ['UA'],
    observables: [{ type: 'ipv4', value: '198.51.100.7' }],
    affectedAssets: [],
    ...(severityInputs ? { severityInputs } : {}),
    awareAt: OPENED,
    submittedAt: OPENED,
  };
}

const opened = () => openFromReport(report('rep_1', 'oblenergo-a', GRID_OPERATOR), 'inc_1', OPENED).incident;

describe('the severity of an incident a report opens', () => {
  it('is the reporter’s judgement, with the baseline for what it did not give, each given input its own', () => {
    const incident = opened();
    const inputs = { ...NCISS_BASELINE, ...GRID_OPERATOR };
    expect(incident.severityInputs).toEqual(inputs);
    // 0.18 + 0.10 + 0.10·6/7 + 0.14 + 0 + 0.08·1/6 (actor unknown) = 0.5190
    expect(incident.severity).toEqual({ score: 52, level: 2, levelName: 'medium' });
    const origin = { source: 'reporter', agencyId: 'oblenergo-a', reportId: 'rep_1', at: OPENED };
    expect(incident.severityOrigins).toEqual({
      functionalImpact: origin,
      observedActivity: origin,
      location: origin,
      informationImpact: origin,
      recoverability: origin,
    });
    expect(incident.severityProposals).toEqual([]);
  });

  it('is the baseline, from nobody, when the report gave none', () => {
    const { incident } = openFromReport(report('rep_1', 'oblenergo-a'), 'inc_1', OPENED);
    expect(incident.severityInputs).toEqual(NCISS_BASELINE);
    expect(incident.severityOrigins).toEqual({});
  });

  it('records a coordinator’s opening inputs off the baseline as the coordinator’s', () => {
    const { incident } = openDirectly(
      {
        id: 'inc_2',
        title: 'Grid outage',
        tlp: 'AMBER',
        classification: { rsitClass: 'availability', rsitType: 'outage' },
        sectors: [],
        jurisdictions: [],
        severityInputs: { ...NCISS_BASELINE, functionalImpact: 'denial-critical' },
        observables: [],
        affectedAssets: [],
        awareAt: OPENED,
      },
      OPENED,
    );
    expect(incident.severityOrigins).toEqual({ functionalImpact: { source: 'coordinator', at: OPENED } });
  });
});

describe('a joining report’s severity inputs', () => {
  it('raise the incident when the source agency gives them, never lowering one, and say so in an event', () => {
    const incident = opened();
    const { incident: next, events } = attachReport(
      incident,
      report('rep_2', 'oblenergo-a', {
        functionalImpact: 'significant-critical', // lower: kept as a proposal
        recoverability: 'extended',
        actor: 'nation-state',
      }),
      LATER,
      true,
    );
    expect(next.severityInputs).toEqual({
      ...incident.severityInputs,
      recoverability: 'extended',
      actor: 'nation-state',
    });
    const origin = { source: 'reporter', agencyId: 'oblenergo-a', reportId: 'rep_2', at: LATER };
    expect(next.severityOrigins.recoverability).toEqual(origin);
    expect(next.severityOrigins.actor).toEqual(origin);
    expect(next.severityOrigins.functionalImpact).toEqual(incident.severityOrigins.functionalImpact);
    expect(next.severityProposals).toEqual([
      {
        reportId: 'rep_2',
        agencyId: 'oblenergo-a',
        inputs: { functionalImpact: 'significant-critical' },
        at: LATER,
      },
    ]);
    expect(events.map((e) => e.kind)).toEqual(['reported', 'report-attached', 'severity-changed']);
    expect(events[2]).toMatchObject({
      previousScore: incident.severity.score,
      previousLevel: incident.severity.level,
      incident: { severity: scoreSeverity(next.severityInputs) },
      changes: [
        { input: 'actor', previous: 'unknown', current: 'nation-state', origin },
        { input: 'recoverability', previous: 'regular', current: 'extended', origin },
      ],
    });
  });

  it('change nothing when another agency gives them: they are kept as its proposal, the newest few', () => {
    const incident = opened();
    const proposal: PartialNcissInputs = {
      functionalImpact: 'denial-critical',
      potentialImpact: 'very-high',
    };
    const { incident: next, events } = attachReport(
      incident,
      report('rep_2', 'oblenergo-b', proposal),
      LATER,
      false,
    );
    expect(next.severityInputs).toEqual(incident.severityInputs);
    expect(next.severity).toEqual(incident.severity);
    expect(next.severityOrigins).toEqual(incident.severityOrigins);
    expect(next.severityProposals).toEqual([
      { reportId: 'rep_2', agencyId: 'oblenergo-b', inputs: proposal, at: LATER },
    ]);
    expect(events.map((e) => e.kind)).toEqual(['reported', 'report-attached']);

    let many = next;
    for (let i = 3; i < 3 + MAX_SEVERITY_PROPOSALS; i++) {
      many = attachReport(many, report(`rep_${i}`, 'oblenergo-b', proposal), LATER, false).incident;
    }
    expect(many.severityProposals).toHaveLength(MAX_SEVERITY_PROPOSALS);
    expect(many.severityProposals[0]!.reportId).toBe('rep_3');
  });

  it('leave the incident as it was when the report gives none', () => {
    const incident = opened();
    const { incident: next } = attachReport(incident, report('rep_2', 'oblenergo-b'), LATER, false);
    expect(next.severityProposals).toEqual([]);
    const own = attachReport(incident, report('rep_3', 'oblenergo-a'), LATER, true);
    expect(own.incident.severityInputs).toEqual(incident.severityInputs);
    expect(own.events.map((e) => e.kind)).toEqual(['reported', 'report-attached']);
  });
});

describe('a coordinator’s and the cascade’s changes', () => {
  it('record the inputs a coordinator moved as the coordinator’s, lowering included', () => {
    const incident = opened();
    const inputs = {
      ...incident.severityInputs,
      functionalImpact: 'minimal-critical',
      actor: 'hacktivist',
    } as const;
    const { incident: next, events } = rescore(incident, inputs, LATER);
    const origin = { source: 'coordinator', at: LATER };
    expect(next.severityOrigins).toEqual({
      ...incident.severityOrigins,
      functionalImpact: origin,
      actor: origin,
    });
    expect(events).toMatchObject([
      {
        kind: 'severity-changed',
        changes: [
          { input: 'functionalImpact', previous: 'denial-critical', current: 'minimal-critical', origin },
          { input: 'actor', previous: 'unknown', current: 'hacktivist', origin },
        ],
      },
    ]);
  });

  it('raise only the two inputs a cascade informs, as impact’s, and never lower them', () => {
    const incident = rescore(
      opened(),
      { ...opened().severityInputs, crossSectorDependency: 'medium' },
      LATER,
    ).incident;
    const { incident: next, events } = raiseByCascade(
      incident,
      { crossSectorDependency: 'low', potentialImpact: 'very-high' },
      LATER,
    );
    expect(next.severityInputs).toEqual({ ...incident.severityInputs, potentialImpact: 'very-high' });
    expect(next.severityOrigins.potentialImpact).toEqual({ source: 'impact', at: LATER });
    expect(next.severityOrigins.crossSectorDependency).toEqual({ source: 'coordinator', at: LATER });
    // The grid operator's 0.5190, the coordinator's 0.12·2/3 and the cascade's 0.16: Severe.
    expect(next.severity).toEqual({ score: 76, level: 4, levelName: 'severe' });
    expect(events).toMatchObject([
      {
        kind: 'severity-changed',
        previousLevel: incident.severity.level,
        changes: [
          { input: 'potentialImpact', previous: 'none', current: 'very-high', origin: { source: 'impact' } },
        ],
      },
    ]);
    expect(
      raiseByCascade(next, { crossSectorDependency: 'none', potentialImpact: 'none' }, LATER).events,
    ).toEqual([]);
  });
});
