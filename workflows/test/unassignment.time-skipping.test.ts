/**
 * A coordinator's removal wins over the assignment it takes back, however late the response
 * hears of either (issue 19: an agency assigned and at once unassigned ended up engaged again,
 * because the response acted on the assignment's announcement after the removal and its
 * engagement assigned the agency in intake anew). Services faked in memory; intake's state is
 * what the fake holds, the announcements are the signals the signaller would send.
 */
import { NCISS_LOW } from '@beacon/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agencyUnassignedSignal,
  incidentChangedSignal,
  responseWorkflowId,
} from '../src/workflows/definitions.js';
import type { incidentResponse } from '../src/workflows/index.js';
import { agencyProfile } from './support/fake-services.js';
import { startHarness, statusWhen, TASK_QUEUE, type Harness } from './support/time-skipping.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

describe('an agency assigned and at once unassigned by a coordinator', () => {
  it('is never engaged by the response, nor assigned again in intake; the next assignment is', async () => {
    const id = 'inc_taken_back';
    h.fake.agencies = [
      agencyProfile('cert-bayern', 'csirt'),
      // Neither is named by the engagement rules (another country): only a coordinator engages them.
      agencyProfile('police-fr', 'law-enforcement', { jurisdictions: ['FR'] }),
      agencyProfile('cert-nl', 'csirt', { jurisdictions: ['NL'] }),
    ];
    const t0 = await h.env.currentTimeMs();
    h.fake.addIncident(
      { id, awareAtMs: t0, rsitClass: 'malicious-code', rsitType: 'infected-system' },
      NCISS_LOW,
    );
    const handle = await h.client.workflow.start<typeof incidentResponse>('incidentResponse', {
      taskQueue: TASK_QUEUE,
      workflowId: responseWorkflowId(id),
      args: [{ incidentId: id }],
    });
    await statusWhen(
      handle,
      (s) => s.phase === 'active' && s.agencies.some((a) => a.agencyId === 'cert-bayern'),
      'cert-bayern engaged by the rules',
    );

    // In intake: police-fr assigned (version +1), then unassigned (+2). The response hears of
    // both only afterwards, the assignment first, as the signaller delivers them.
    const before = h.fake.incidents.get(id)!;
    const assigned = {
      ...before,
      engagedAgencyIds: [...before.engagedAgencyIds, 'police-fr'],
      version: before.version + 1,
    };
    h.fake.incidents.set(id, {
      ...assigned,
      engagedAgencyIds: before.engagedAgencyIds,
      version: before.version + 2,
    });
    await handle.signal(incidentChangedSignal, assigned);
    await handle.signal(agencyUnassignedSignal, { agencyId: 'police-fr' });

    // Then cert-nl is assigned and stays: once the response has engaged it, it has handled
    // everything announced before.
    const current = h.fake.incidents.get(id)!;
    const withNl = {
      ...current,
      engagedAgencyIds: [...current.engagedAgencyIds, 'cert-nl'],
      version: current.version + 1,
    };
    h.fake.incidents.set(id, withNl);
    await handle.signal(incidentChangedSignal, withNl);
    const status = await statusWhen(
      handle,
      (s) => s.agencies.some((a) => a.agencyId === 'cert-nl' && a.state === 'notified'),
      'cert-nl engaged',
    );

    // police-fr: not engaged (or, had it been, removed), never assigned again, never paged.
    const police = status.agencies.find((a) => a.agencyId === 'police-fr');
    expect(police === undefined || police.state === 'removed').toBe(true);
    expect(
      h.fake.engagedInIntake.filter(([incident, agency]) => incident === id && agency === 'police-fr'),
    ).toEqual([]);
    expect(h.fake.notices.filter((n) => n.incidentId === id && n.regardingAgencyId === 'police-fr')).toEqual(
      [],
    );
    // The legitimate assignment is acted on; the rules' own engagement stands.
    expect(h.fake.notices.some((n) => n.incidentId === id && n.regardingAgencyId === 'cert-nl')).toBe(true);
    expect(status.agencies.find((a) => a.agencyId === 'cert-bayern')?.state).toBe('notified');
    await handle.terminate();
  });
});
