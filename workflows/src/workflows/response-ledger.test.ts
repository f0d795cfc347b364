import { NCISS_BASELINE, obligationSpec } from '@beacon/domain';
import { describe, expect, it } from 'vitest';
import type { IncidentSnapshot } from '../activities/types.js';
import type { AgencyEngagementStatus } from './definitions.js';
import { CommandChecks } from './response-checks.js';
import { ResponseLedger } from './response-ledger.js';
import { newResponseState, type ResponseState } from './response-state.js';

const HOUR = 3_600_000;
const aware = Date.UTC(2026, 0, 10, 8, 0, 0);

/** A medium incident at a Bavarian water utility: NIS2 applies. */
const incident = (over: Partial<IncidentSnapshot> = {}): IncidentSnapshot => ({
  id: 'inc-1',
  title: 'Ransomware at a water utility',
  status: 'triage',
  tlp: 'AMBER',
  rsitClass: 'malicious-code',
  rsitType: 'ransomware',
  sectors: ['water-and-wastewater'],
  jurisdictions: ['DE-BY'],
  severityInputs: NCISS_BASELINE,
  ncissScore: 40,
  ncissLevel: 2,
  awareAtMs: aware,
  engagedAgencyIds: [],
  affectedAssets: [],
  version: 1,
  ...over,
});

const engagement = (agencyId: string, state: AgencyEngagementStatus['state']): AgencyEngagementStatus => ({
  agencyId,
  state,
  reasons: ['CSIRT for DE-BY'],
  noticesSent: 1,
  startedAtMs: aware,
});

function active(over: Partial<ResponseState> = {}): ResponseState {
  return { ...newResponseState(), phase: 'active', incident: incident(), ...over };
}

describe('regimes', () => {
  it('withdraws a regime the incident no longer falls under, and brings it back when it does again', () => {
    const state = active();
    const ledger = new ResponseLedger('inc-1', state);
    ledger.reconcileRegimes(ledger.regulatoryFacts(), aware, () => true);
    expect(state.regimes.map((r) => [r.regime, r.clockStarted])).toEqual([['NIS2', false]]);

    state.incident = incident({ ncissLevel: 1, version: 2 });
    const withdrawn = ledger.reconcileRegimes(ledger.regulatoryFacts(), aware + HOUR, () => true);
    expect(withdrawn.map((n) => n.detail)).toEqual([
      expect.stringMatching(/^NIS2 withdrawn: .*NCISS level 1/),
    ]);
    expect(state.regimes[0]!.withdrawn?.atMs).toBe(aware + HOUR);

    state.incident = incident({ ncissLevel: 2, version: 3 });
    const back = ledger.reconcileRegimes(ledger.regulatoryFacts(), aware + 2 * HOUR, () => true);
    expect(back.map((n) => n.detail)).toEqual([expect.stringMatching(/^NIS2 applies again: /)]);
    expect(state.regimes).toHaveLength(1);
    expect(state.regimes[0]!.withdrawn).toBeUndefined();
  });

  it('keeps a regime that no longer applies in a response from before withdrawals', () => {
    const state = active();
    const ledger = new ResponseLedger('inc-1', state);
    ledger.reconcileRegimes(ledger.regulatoryFacts(), aware, () => true);
    state.incident = incident({ ncissLevel: 1, version: 2 });
    expect(ledger.reconcileRegimes(ledger.regulatoryFacts(), aware + HOUR, () => false)).toEqual([]);
    expect(state.regimes[0]!.withdrawn).toBeUndefined();
  });

  it('never asks whether to withdraw while every regime still applies', () => {
    const state = active();
    const ledger = new ResponseLedger('inc-1', state);
    const asked: string[] = [];
    const withdraws = () => {
      asked.push('withdraw-regimes');
      return true;
    };
    ledger.reconcileRegimes(ledger.regulatoryFacts(), aware, withdraws);
    ledger.reconcileRegimes(ledger.regulatoryFacts(), aware + HOUR, withdraws);
    expect(asked).toEqual([]);
  });
});

describe('acknowledgements', () => {
  it('hands one for a waiting engagement to it, and records one after the engagement gave up as late', () => {
    const state = active({
      agencies: {
        'cert-bayern': engagement('cert-bayern', 'notified'),
        'lka-bayern': engagement('lka-bayern', 'unacknowledged'),
      },
    });
    const ledger = new ResponseLedger('inc-1', state);
    const ack = (agencyId: string) => ({ agencyId, note: '', via: 'phone', atMs: aware + 2 * HOUR });

    expect(ledger.acknowledgement(ack('cert-bayern'))).toMatchObject({ forward: true });
    expect(state.agencies['cert-bayern']!.state).toBe('notified');

    const late = ledger.acknowledgement(ack('lka-bayern'));
    expect(late).toEqual({
      forward: false,
      note: { kind: 'acknowledged', agencyId: 'lka-bayern', detail: 'acknowledged late, via phone' },
    });
    expect(state.agencies['lka-bayern']).toMatchObject({
      state: 'acknowledged',
      timeToAcknowledgeMs: 2 * HOUR,
    });
    // A repeat changes nothing and says nothing.
    expect(ledger.acknowledgement(ack('lka-bayern'))).toEqual({ forward: false });
    // One from an agency the response does not engage is only put on the timeline.
    expect(ledger.acknowledgement(ack('cert-fr')).forward).toBe(false);
    expect(state.agencies['cert-fr']).toBeUndefined();
  });
});

describe('what intake and impact announce', () => {
  it('keeps only the newest incident version, and says what changed once it is applied', () => {
    const state = active({ agencies: { 'cert-bayern': engagement('cert-bayern', 'notified') } });
    const ledger = new ResponseLedger('inc-1', state);
    ledger.offerIncident(
      incident({ version: 3, ncissLevel: 3, engagedAgencyIds: ['cert-bayern', 'lka-bayern'] }),
    );
    ledger.offerIncident(incident({ version: 2, ncissLevel: 4 }));
    ledger.offerIncident(incident({ version: 1 }));
    const taken = ledger.takeIncident()!;
    expect(taken.next.version).toBe(3);
    expect(ledger.takeIncident()).toBeUndefined();

    let asked = 0;
    const change = ledger.applyIncident(taken.previous, taken.next, () => ++asked > 0);
    // Neither the label nor the awareness time moved: whether to follow revisions is not asked.
    expect(asked).toBe(0);
    expect(change.revised).toBe(false);
    expect(change.note?.detail).toMatch(/^intake: severity now 40 \(level 3\).*; engaged there: lka-bayern$/);
    expect(state.incident?.version).toBe(3);
  });

  it('lets an older worker skip a relabel but not the other changes', () => {
    const state = active();
    const ledger = new ResponseLedger('inc-1', state);
    const relabelled = incident({ version: 2, tlp: 'RED' });
    expect(ledger.applyIncident(incident(), relabelled, () => false)).toEqual({ revised: false });
    expect(ledger.applyIncident(incident(), relabelled, () => true)).toEqual({
      revised: true,
      note: {
        kind: 'incident-changed',
        detail: `intake: TLP:RED, aware since ${new Date(aware).toISOString()}`,
      },
    });
  });

  it('remembers an unassignment of an agency not engaged yet only when told to, and the echo of a removal never', () => {
    const state = active({ agencies: { 'cert-bayern': engagement('cert-bayern', 'removed') } });
    const ledger = new ResponseLedger('inc-1', state);
    let asked = 0;
    const count = (answer: boolean) => () => {
      asked++;
      return answer;
    };
    ledger.unassignedInIntake('cert-bayern', count(true));
    expect(asked).toBe(0);
    ledger.unassignedInIntake('lka-bayern', count(false));
    expect(state.pendingUnassigned).toBeUndefined();
    ledger.unassignedInIntake('lka-bayern', count(true));
    ledger.unassignedInIntake('lka-bayern', count(true));
    expect(ledger.takeUnassigned()).toEqual(['lka-bayern']);
    expect(state.pendingUnassigned).toBeUndefined();
  });
});

describe('clocks and victim cases', () => {
  it('never lowers an escalation level, and a reminder does not make an obligation overdue', () => {
    const state = active();
    const ledger = new ResponseLedger('inc-1', state);
    const alarm = (kind: 'reminder' | 'escalation', level: number) =>
      ledger.alarm({
        regime: 'NIS2',
        obligation: 'nis2-early-warning',
        kind,
        level,
        dueAtMs: aware + 24 * HOUR,
        atMs: aware,
      });
    alarm('reminder', 0);
    expect(state.alarms['nis2-early-warning']).toEqual({ overdue: false, escalationLevel: 0 });
    alarm('escalation', 2);
    const title = obligationSpec('nis2-early-warning').title;
    expect(alarm('escalation', 1).detail).toBe(`${title} still overdue: escalation 1`);
    expect(state.alarms['nis2-early-warning']).toEqual({ overdue: true, escalationLevel: 2 });
  });

  it('keeps an escalated case escalated when it completes, and a known urgency when a report does not know it', () => {
    const state = active();
    const ledger = new ResponseLedger('inc-1', state);
    const change = (event: 'escalated' | 'completed' | 'check-in', urgency: 'urgent' | 'unknown') =>
      ledger.victimChange({ caseId: 'vc-1', event, urgency, detail: '', atMs: aware });
    change('escalated', 'urgent');
    change('check-in', 'unknown');
    change('completed', 'unknown');
    expect(state.victimCases['vc-1']).toEqual({ caseId: 'vc-1', state: 'escalated', urgency: 'urgent' });
  });

  it('follows each case once, however often it is heard of', () => {
    const state = active();
    const ledger = new ResponseLedger('inc-1', state);
    expect(ledger.followingUpAll(['vc-1', 'vc-2', 'vc-1']).fresh).toEqual(['vc-1', 'vc-2']);
    expect(ledger.followingUpAll(['vc-2'])).toEqual({ fresh: [] });
    expect(ledger.followingUp('vc-1')).toBeUndefined();
  });
});

describe('search attributes', () => {
  it('writes only the values that changed since the last write', () => {
    const state = active();
    const ledger = new ResponseLedger('inc-1', state);
    expect(ledger.searchAttributeChanges().map((p) => p.key.name)).toEqual([
      'IncidentId',
      'IncidentStatus',
      'NcissLevel',
      'Tlp',
      'Sectors',
      'Jurisdictions',
    ]);
    expect(ledger.searchAttributeChanges()).toEqual([]);
    state.incident = incident({ ncissLevel: 3 });
    expect(ledger.searchAttributeChanges().map((p) => [p.key.name, p.value])).toEqual([['NcissLevel', 3]]);
  });
});

describe("coordinators' commands", () => {
  it('refuses to resolve while an initial report is unfiled, and accepts once both are', () => {
    const state = active();
    const ledger = new ResponseLedger('inc-1', state);
    const checks = new CommandChecks(state);
    ledger.reconcileRegimes(ledger.regulatoryFacts(), aware, () => true);
    const now = aware + HOUR;
    expect(checks.resolve('contained', now)).toMatch(/^cannot resolve yet: .* is not filed \(due /);
    expect(checks.fileReport({ obligation: 'nis2-early-warning', reference: 'BSI-1' }, now)).toBeUndefined();
    ledger.fileReport('nis2-early-warning', now, 'BSI-1');
    expect(checks.fileReport({ obligation: 'nis2-early-warning', reference: 'BSI-2' }, now)).toBe(
      'nis2-early-warning was already filed',
    );
    // Both initial reports must come first; the later ones may follow the resolution.
    expect(checks.resolve('contained', now)).toMatch(/^cannot resolve yet: NIS2 incident notification/);
    ledger.fileReport('nis2-incident-notification', now, 'BSI-2');
    expect(checks.resolve('contained', now)).toBeUndefined();
    expect(checks.resolve(' ', now)).toBe('a resolution needs a summary');
  });

  it('gives the first reason that applies: the phase before anything about the agency', () => {
    const state: ResponseState = { ...active(), phase: 'triage' };
    const checks = new CommandChecks(state);
    expect(checks.addAgency('NOT AN ID')).toBe('the response is still in triage; try again in a moment');
    // An engagement can be escalated during triage, not one the response does not have.
    expect(checks.escalate('cert-bayern')).toBe('agency cert-bayern is not engaged on this incident');
    expect(checks.escalate('')).toBe('no engagement is waiting for an acknowledgement');
    state.phase = 'active';
    expect(checks.addAgency('NOT AN ID')).toBe('agencyId is not an agency id');
    state.agencies['cert-bayern'] = engagement('cert-bayern', 'notified');
    expect(checks.addAgency('cert-bayern')).toBe('agency cert-bayern is already engaged (notified)');
    expect(checks.removeAgency('cert-bayern')).toBeUndefined();
    state.phase = 'closed';
    expect(checks.acknowledge('cert-bayern')).toBe('the response is closed');
  });
});
