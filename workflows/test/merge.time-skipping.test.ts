/**
 * A merge's hand-over on Temporal's time-skipping server, services faked in memory: the clocks
 * of the merged incident end, the survivor's clocks count from the earlier awareness time the
 * merge gave it, and a report already filed about the merged incident is not asked for again.
 * A coordinator's revision of the awareness time or label moves the clocks the same way.
 * Workflow time moves only when the test sleeps the environment, so "when" is exact.
 */
import { NCISS_BASELINE, type NcissInputs } from '@beacon/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acknowledgeUpdate,
  clockWorkflowId,
  fileReportUpdate,
  handOverSignal,
  incidentChangedSignal,
  mergedIntoSignal,
  responseWorkflowId,
  statusQuery,
  timelineQuery,
} from '../src/workflows/definitions.js';
import type { incidentResponse, regulatoryClock } from '../src/workflows/index.js';
import { agencyProfile } from './support/fake-services.js';
import {
  eventually,
  HOUR,
  saveHistories,
  startHarness,
  statusWhen,
  TASK_QUEUE,
  type Harness,
} from './support/time-skipping.js';

/** NCISS level 2 (Medium): NIS2 applies to an EU water works. */
const MEDIUM: NcissInputs = {
  ...NCISS_BASELINE,
  functionalImpact: 'significant-non-critical',
  observedActivity: 'effect',
  location: 'business-network-management',
  actor: 'organised-crime',
  informationImpact: 'suspected',
  recoverability: 'supplemented',
  potentialImpact: 'medium',
};

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const start = (incidentId: string) =>
  h.client.workflow.start<typeof incidentResponse>('incidentResponse', {
    taskQueue: TASK_QUEUE,
    workflowId: responseWorkflowId(incidentId),
    args: [{ incidentId }],
  });

describe('the hand-over of a merge', () => {
  it('ends the merged clocks, moves the survivor clocks to the earlier awareness and keeps reports filed about the merged incident', async () => {
    const survivorId = 'inc_survivor';
    const mergedId = 'inc_merged';
    const t0 = await h.env.currentTimeMs();
    h.fake.agencies = [
      agencyProfile('cert-bayern', 'csirt'),
      agencyProfile('cert-fr', 'csirt', { jurisdictions: ['FR'] }),
      agencyProfile('cert-nl', 'csirt', { jurisdictions: ['NL'] }),
    ];
    const common = { sectors: ['water-and-wastewater'], rsitClass: 'availability', rsitType: 'outage' };
    h.fake.addIncident({ id: survivorId, awareAtMs: t0, jurisdictions: ['DE-BY'], ...common }, MEDIUM);
    const mergedAware = t0 - 10 * HOUR;
    h.fake.addIncident(
      { id: mergedId, awareAtMs: mergedAware, jurisdictions: ['FR', 'NL'], ...common },
      MEDIUM,
    );
    const survivor = await start(survivorId);
    const merged = await start(mergedId);
    const engaged = (ids: string[]) => (s: { phase: string; agencies: readonly { agencyId: string }[] }) =>
      s.phase === 'active' && ids.every((id) => s.agencies.some((a) => a.agencyId === id));
    const before = await statusWhen(survivor, engaged(['cert-bayern']), 'survivor active');
    expect(before.obligations.find((o) => o.id === 'nis2-incident-notification')?.dueAtMs).toBe(
      t0 + 72 * HOUR,
    );
    await statusWhen(merged, engaged(['cert-fr', 'cert-nl']), 'merged active');
    // On the merged incident the early warning is filed and cert-fr acknowledged.
    await merged.executeUpdate(fileReportUpdate, {
      args: [{ obligation: 'nis2-early-warning', reference: 'ANSSI-2026-7' }],
    });
    await merged.executeUpdate(acknowledgeUpdate, {
      args: [{ agencyId: 'cert-fr', note: 'on it', via: 'coordinator' }],
    });

    // Intake merges (as MergeIncidents does: the merged one closed, the survivor with both
    // incidents' jurisdictions and engagements and the earlier awareness time) and announces it.
    const s0 = h.fake.incidents.get(survivorId)!;
    h.fake.incidents.set(mergedId, { ...h.fake.incidents.get(mergedId)!, status: 'closed' });
    h.fake.incidents.set(survivorId, {
      ...s0,
      awareAtMs: mergedAware,
      jurisdictions: ['DE-BY', 'FR', 'NL'],
      engagedAgencyIds: ['cert-bayern', 'cert-fr', 'cert-nl'],
      version: s0.version + 1,
    });
    await merged.signal(mergedIntoSignal, { survivorId });

    const outcome = await merged.result();
    expect(outcome).toMatchObject({ phase: 'closed', mergedInto: survivorId });
    // Intake already closed it: the response did not ask it to.
    expect(h.fake.transitions.filter(([id]) => id === mergedId)).toEqual([
      [mergedId, 'triage'],
      [mergedId, 'active'],
    ]);
    expect(
      await h.client.workflow.getHandle<typeof regulatoryClock>(clockWorkflowId(mergedId, 'NIS2')).result(),
    ).toMatchObject({ regime: 'NIS2', handedOverTo: survivorId });

    const after = await statusWhen(
      survivor,
      (s) =>
        s.awareAtMs === mergedAware &&
        s.agencies.some((a) => a.agencyId === 'cert-nl' && a.state === 'notified'),
      'survivor took over',
    );
    expect(after.agencies.map((a) => [a.agencyId, a.state])).toEqual([
      ['cert-bayern', 'notified'],
      ['cert-fr', 'acknowledged'],
      ['cert-nl', 'notified'],
    ]);
    expect(after.regimes.map((r) => r.regime)).toEqual(['NIS2']);
    expect(after.obligations.find((o) => o.id === 'nis2-early-warning')).toMatchObject({
      state: 'filed',
      reference: 'ANSSI-2026-7',
    });
    expect(after.obligations.find((o) => o.id === 'nis2-incident-notification')?.dueAtMs).toBe(
      mergedAware + 72 * HOUR,
    );
    // A repeated announcement (the signaller's fallback on a redelivery) is taken over once.
    await survivor.signal(handOverSignal, { mergedId, agencies: [], filed: {} });

    // 12 h before the survivor's 72 h deadline, counted from the earlier awareness: one reminder,
    // from the survivor's clock; nothing more from the merged one, and no early warning asked for.
    const eventsSinceMerge = h.fake.events.length;
    await h.env.sleep(72 * HOUR - 10 * HOUR - 12 * HOUR + 60_000);
    const reminder = await eventually(
      () =>
        h.fake.events.find(
          (e) =>
            e.type === 'report-due' &&
            e.incidentId === survivorId &&
            e.obligation === 'nis2-incident-notification',
        ),
      'the 72 h reminder',
    );
    expect(reminder).toMatchObject({ dueAtMs: mergedAware + 72 * HOUR, tlp: 'AMBER' });
    const later = h.fake.events.slice(eventsSinceMerge);
    expect(later.filter((e) => e.incidentId === mergedId)).toEqual([]);
    expect(
      later.filter(
        (e) =>
          (e.type === 'report-due' || e.type === 'report-overdue') && e.obligation === 'nis2-early-warning',
      ),
    ).toEqual([]);
    // Notices about the survivor: cert-fr, acknowledged on the merged incident, got none.
    const noticesAbout = (incidentId: string, agencyId: string) =>
      h.fake.notices.filter(
        (n) =>
          n.incidentId === incidentId &&
          n.regardingAgencyId === agencyId &&
          n.round === 1 &&
          n.contactRank === 0,
      ).length;
    expect([
      noticesAbout(survivorId, 'cert-bayern'),
      noticesAbout(survivorId, 'cert-nl'),
      noticesAbout(survivorId, 'cert-fr'),
    ]).toEqual([1, 1, 0]);
    const timeline = await survivor.query(timelineQuery);
    expect(timeline.filter((e) => e.kind === 'merged')).toHaveLength(1);
    expect((await survivor.query(statusQuery)).phase).toBe('active');

    await saveHistories(h.env, 'merge', [
      responseWorkflowId(survivorId),
      responseWorkflowId(mergedId),
      clockWorkflowId(survivorId, 'NIS2'),
      clockWorkflowId(mergedId, 'NIS2'),
    ]);
  });

  it("follows a coordinator's revision of the awareness time and label: the clock counts from it, alarms and escalations carry the label", async () => {
    const id = 'inc_revised';
    const t0 = await h.env.currentTimeMs();
    h.fake.agencies = [agencyProfile('cert-bayern', 'csirt')];
    h.fake.addIncident(
      { id, awareAtMs: t0, jurisdictions: ['DE-BY'], sectors: ['water-and-wastewater'] },
      MEDIUM,
    );
    const handle = await start(id);
    await statusWhen(handle, (s) => s.phase === 'active', 'response active');
    // UpdateIncidentFacts: aware 20 h earlier than first reported, and RED; announced to the
    // response as facts-revised carries it.
    const current = h.fake.incidents.get(id)!;
    const revised = {
      ...current,
      awareAtMs: t0 - 20 * HOUR,
      tlp: 'RED' as const,
      version: current.version + 1,
    };
    h.fake.incidents.set(id, revised);
    await handle.signal(incidentChangedSignal, revised);
    const status = await statusWhen(handle, (s) => s.awareAtMs === t0 - 20 * HOUR, 'the revision applied');
    expect(status.tlp).toBe('RED');
    expect(status.obligations.find((o) => o.id === 'nis2-early-warning')?.dueAtMs).toBe(t0 + 4 * HOUR);
    // The early warning is due 4 h from now, not 24: its reminder (12 h before) is due at once.
    await h.env.sleep(60_000);
    const reminder = await eventually(
      () =>
        h.fake.events.find(
          (e) => e.type === 'report-due' && e.incidentId === id && e.obligation === 'nis2-early-warning',
        ),
      'the early warning reminder',
    );
    expect(reminder).toMatchObject({ dueAtMs: t0 + 4 * HOUR, tlp: 'RED' });
    // cert-bayern's engagement, started under AMBER, labels its escalation RED too.
    await h.env.sleep(4 * HOUR);
    const escalated = await eventually(
      () => h.fake.events.find((e) => e.type === 'engagement-escalated' && e.incidentId === id),
      'the escalation after the 4 h wait',
    );
    expect(escalated).toMatchObject({ agencyId: 'cert-bayern', tlp: 'RED' });
  });
});
