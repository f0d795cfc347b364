/**
 * In-memory services for the response benches: they answer at once, so what is measured is
 * Temporal's and the workflows' cost, not intake's or notify's. Two agencies (a CSIRT and the
 * police, two contacts each) and the incident every response reads, with the severity inputs
 * and awareness time the bench gives it.
 */
import { scoreSeverity, type NcissInputs } from '@beacon/domain';
import type { AgencyProfile, IncidentSnapshot, ResponseActivities, ResponseEvent } from '@beacon/workflows';

export const BENCH_AGENCIES: readonly AgencyProfile[] = ['cert-bench', 'lka-bench'].map((id, i) => ({
  id,
  name: id,
  kind: i === 0 ? 'csirt' : 'law-enforcement',
  jurisdictions: ['DE'],
  sectors: ['energy'],
  clearance: 'RED',
  contacts: [
    { role: 'duty-officer', name: 'Duty officer' },
    { role: 'deputy', name: 'Deputy' },
  ],
}));

export type NoticeRequest = Parameters<ResponseActivities['notifyEngagement']>[0];

export interface FakeServiceOptions {
  readonly inputs: NcissInputs;
  /** When the entity became aware of the incident (now, unless given). */
  readonly awareAtMs?: (incidentId: string) => number;
  /** Called once a response waits for people: active, and both agencies' first contacts notified. */
  readonly settled?: (incidentId: string) => void;
  /** Every engagement notice, when it was sent. */
  readonly noticed?: (request: NoticeRequest, atMs: number) => void;
  /** Every response event (alarms, escalations, final reports), when it was published. */
  readonly published?: (event: ResponseEvent, atMs: number) => void;
}

export function fakeServices(options: FakeServiceOptions): ResponseActivities {
  const progress = new Map<string, { active: boolean; notices: number; settled?: true }>();
  const step = (id: string, change: (p: { active: boolean; notices: number }) => void) => {
    const p = progress.get(id) ?? { active: false, notices: 0 };
    change(p);
    progress.set(id, p);
    // Once, however many notices came before the response turned active (a slow start-up
    // may already have escalated).
    if (p.settled || !p.active || p.notices < BENCH_AGENCIES.length) return;
    p.settled = true;
    options.settled?.(id);
  };
  const severity = scoreSeverity(options.inputs);
  const incident = (id: string): IncidentSnapshot => ({
    id,
    title: `Bench incident ${id}`,
    status: 'reported',
    tlp: 'AMBER',
    rsitClass: 'intrusions',
    rsitType: 'system-compromise',
    sectors: ['energy'],
    jurisdictions: ['DE-BY'],
    severityInputs: options.inputs,
    ncissScore: severity.score,
    ncissLevel: severity.level,
    awareAtMs: options.awareAtMs?.(id) ?? Date.now(),
    engagedAgencyIds: [],
    affectedAssets: [],
    version: 1,
  });
  const unavailable = () => Promise.reject(new Error('no victims service in the benchmark'));
  return {
    loadIncident: async (id) => incident(id),
    transitionIncident: async (id, to) => {
      if (to === 'active') step(id, (p) => (p.active = true));
      return to;
    },
    enterTriage: async (id) => incident(id),
    raiseSeverity: async (id) => incident(id),
    updateSeverity: async (id) => incident(id),
    engageAgency: async () => {},
    disengageAgency: async () => {},
    assessImpact: async () => null,
    listAgencies: async () => [...BENCH_AGENCIES],
    notifyEngagement: async (request) => {
      options.noticed?.(request, Date.now());
      step(request.incidentId, (p) => (p.notices += 1));
      return { noticeId: 'n', first: true, sentAtMs: Date.now() };
    },
    publishResponseEvent: async (event) => {
      options.published?.(event, Date.now());
    },
    recordTimeline: async () => {},
    listVictimCases: async () => [],
    getCase: unavailable,
    recordCheckIn: unavailable,
    escalateCase: unavailable,
  };
}
