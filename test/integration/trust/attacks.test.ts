/**
 * One regression test per attack reproduced in issue 19, each against the public gateway with
 * ordinary tokens, and each showing the legitimate caller served so that a denial never passes
 * for the wrong reason. Expectations come from TRUST-MODEL.md, not from the policy's code.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { testNames, waitFor } from '@beacon/testkit';
// Declares what `inject('infra')` returns: the run's servers, started by the global set-up.
import type {} from '@beacon/testkit/global-setup';
import { FeedReader, madeUpId, normalised, type Answer } from './probes.js';
import { AGENCY, SEVERITY_OPEN, buildWorld, freshDomain, rest, tlpJson, type World } from './world.js';
import type { Label } from './expected.js';

let world: World;

beforeAll(async () => {
  world = await buildWorld(inject('infra'), testNames());
}, 240_000);

afterAll(async () => {
  await world?.stop();
});

const get = (path: string, token: string) => rest(world.stack, 'GET', path, token);
const post = (path: string, token: string, body: unknown) => rest(world.stack, 'POST', path, token, body);

async function openIncident(label: Label, indicator: string, awareAt = new Date(Date.now() - 3_600_000)) {
  const { status, body } = await post('/v1/incidents', world.coordinator, {
    title: `Attack target labelled ${label}`,
    tlp: tlpJson(label),
    classification: { rsitClass: 'intrusions', rsitType: 'system-compromise' },
    sectors: ['energy'],
    jurisdictions: ['MT'],
    severityInputs: SEVERITY_OPEN,
    observables: [{ type: 'domain', value: indicator }],
    awareAt: awareAt.toISOString(),
  });
  expect(status, JSON.stringify(body)).toBe(201);
  return (body['incident'] as { id: string }).id;
}

async function engage(
  incidentId: string,
  agencyId: string,
  verb: 'assignAgency' | 'unassignAgency' = 'assignAgency',
) {
  const { status, body } = await post(`/v1/incidents/${incidentId}:${verb}`, world.coordinator, {
    agencyId,
    expectedVersion: 0,
  });
  expect(status, JSON.stringify(body)).toBe(200);
}

interface IncidentJson {
  id: string;
  tlp: string;
  awareAt: string;
  reportIds?: string[];
}

/** The incident as a RED coordinator sees it. */
async function seenByCentre(incidentId: string): Promise<IncidentJson> {
  const { status, body } = await get(`/v1/incidents/${incidentId}`, world.coordinator);
  expect(status, JSON.stringify(body)).toBe(200);
  return body['incident'] as IncidentJson;
}

function report(value: string, label: Label, awareAt = new Date(Date.now() - 600_000)) {
  return {
    title: 'Seen here too',
    description: 'A report carrying one indicator.',
    tlp: tlpJson(label),
    classification: { rsitClass: 'intrusions', rsitType: 'system-compromise' },
    sectors: ['energy'],
    jurisdictions: ['MT'],
    observables: [{ type: 'domain', value }],
    awareAt: awareAt.toISOString(),
  };
}

/** A report's answer with ids and values aside, to compare with one for an unseen indicator. */
function shape(answer: Answer) {
  const incident = answer.body['incident'] as { reportIds?: string[]; tlp?: string } | undefined;
  return {
    status: answer.status,
    keys: Object.keys(answer.body).sort(),
    attached: answer.body['attached'] ?? false,
    reports: incident?.reportIds?.length,
    tlp: incident?.tlp,
  };
}

describe('the attacks of issue 19, each closed', () => {
  test('a correlated RED report neither joins, re-labels nor hides a GREEN incident', async () => {
    const indicator = freshDomain('relabel');
    const incidentId = await openIncident('GREEN', indicator);
    const bystander = await world.mint('agency_analyst', 'GREEN', AGENCY.never);
    expect((await get(`/v1/incidents/${incidentId}`, bystander)).status).toBe(200);

    const attacker = await world.mint('agency_analyst', 'RED', AGENCY.removed);
    const filed = await post('/v1/reports', attacker, report(indicator, 'RED'));
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body['attached'] ?? false).toBe(false);
    expect((filed.body['incident'] as { id?: string } | undefined)?.id).not.toBe(incidentId);

    // Everyone who could read the GREEN incident still can, and it is still GREEN.
    const after = await get(`/v1/incidents/${incidentId}`, bystander);
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    const incident = await seenByCentre(incidentId);
    expect(incident.tlp).toBe('TLP_GREEN');
    expect(incident.reportIds ?? []).not.toContain((filed.body['report'] as { id: string }).id);
  });

  test("a correlated report's awareness time of 1991 stays on the report; the incident's clocks do not move", async () => {
    const indicator = freshDomain('aware');
    const awareAt = new Date(Math.floor((Date.now() - 3_600_000) / 1000) * 1000);
    const incidentId = await openIncident('GREEN', indicator, awareAt);
    // The community may read a GREEN incident, so its CLEAR report joins (served)...
    const reporter = await world.mint('agency_analyst', 'GREEN', AGENCY.never);
    const filed = await post(
      '/v1/reports',
      reporter,
      report(indicator, 'CLEAR', new Date('1991-01-01T00:00:00Z')),
    );
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    // (It is the incident's first report, so not "attached": the incident was opened by command.)
    expect((filed.body['incident'] as { id?: string } | undefined)?.id, JSON.stringify(filed.body)).toBe(
      incidentId,
    );
    expect(new Date((filed.body['report'] as { awareAt: string }).awareAt).toISOString()).toBe(
      '1991-01-01T00:00:00.000Z',
    );
    // ...but only a coordinator's command or the source agency's own report moves the clock.
    expect(new Date((await seenByCentre(incidentId)).awareAt).getTime()).toBe(awareAt.getTime());
  });

  test("a CLEAR probe with a hidden incident's indicator is answered as for an unseen one and not added to it", async () => {
    const indicator = freshDomain('probe');
    const incidentId = await openIncident('AMBER', indicator);
    await engage(incidentId, AGENCY.engaged);
    // The engaged agency's report joins: the indicator does correlate. (First: the probe's own
    // incident, CLEAR and sharing the indicator, would be a fair match for it afterwards.)
    const insider = await world.mint('agency_analyst', 'RED', AGENCY.engaged);
    const joined = await post('/v1/reports', insider, report(indicator, 'CLEAR'));
    expect(joined.status).toBe(201);
    expect((joined.body['incident'] as { id?: string } | undefined)?.id).toBe(incidentId);
    const before = (await seenByCentre(incidentId)).reportIds?.length ?? 0;

    const prober = await world.mint('agency_analyst', 'RED', AGENCY.never);
    const probe = await post('/v1/reports', prober, report(indicator, 'CLEAR'));
    const unseen = await post('/v1/reports', prober, report(freshDomain('unseen'), 'CLEAR'));
    expect(shape(probe)).toEqual(shape(unseen));
    expect(JSON.stringify(probe.body)).not.toContain(incidentId);
    expect((await seenByCentre(incidentId)).reportIds?.length ?? 0).toBe(before);
  });

  test('a coordinator cleared CLEAR reads neither a RED incident nor its STIX export', async () => {
    const red = world.fixtures.get('RED')!.incidentId;
    const madeUp = madeUpId(red);
    const low = await world.mint('coordinator', 'CLEAR');
    for (const path of [
      (id: string) => `/v1/incidents/${id}`,
      (id: string) => `/v1/incidents/${id}:exportStix`,
    ]) {
      const hidden = await get(path(red), low);
      const missing = await get(path(madeUp), low);
      expect(hidden.status, JSON.stringify(hidden.body)).toBe(404);
      expect(normalised(hidden, red)).toBe(normalised(missing, madeUp));
      expect((await get(path(red), world.coordinator)).status).toBe(200);
    }
  });

  test('an assessment naming AMBER and RED assets reaches a GREEN coordinator without them, honest about the gap', async () => {
    // The GREEN incident's assessment names an asset of every label.
    const green = world.fixtures.get('GREEN')!;
    const amberAsset = world.assetIds.get('AMBER')!;
    const low = await world.mint('coordinator', 'GREEN');
    // GetAsset hides the AMBER asset from this token, as a missing one...
    const asset = await get(`/v1/assets/${amberAsset}`, low);
    const noAsset = await get(`/v1/assets/trust-asset-nowhere`, low);
    expect(asset.status).toBe(404);
    expect(normalised(asset, amberAsset)).toBe(normalised(noAsset, 'trust-asset-nowhere'));
    expect((await get(`/v1/assets/${amberAsset}`, world.coordinator)).status).toBe(200);
    // ...and so does the assessment that names it, which says how many it left out.
    const seen = await get(`/v1/assessments/${green.assessmentId}`, low);
    expect(seen.status, JSON.stringify(seen.body)).toBe(200);
    const text = JSON.stringify(seen.body);
    for (const label of ['AMBER', 'AMBER+STRICT', 'RED'] as const)
      expect(text).not.toContain(`"${world.assetIds.get(label)!}"`);
    expect(text).toContain(`"${world.assetIds.get('GREEN')!}"`);
    expect((seen.body['assessment'] as { withheldAssets?: number }).withheldAssets).toBe(3);
    const full = JSON.stringify((await get(`/v1/assessments/${green.assessmentId}`, world.coordinator)).body);
    expect(full).toContain(`"${amberAsset}"`);
  });

  test('a removed agency replaying its feed from sequence 1 gets nothing of the incident above GREEN', async () => {
    const agencyId = 'trust-replay';
    expect(
      (
        await post('/v1/agencies', world.coordinator, {
          agency: {
            id: agencyId,
            name: agencyId,
            kind: 'AGENCY_KIND_CSIRT',
            jurisdictions: ['LU'],
            sectors: ['financial-services'],
            clearance: 'TLP_RED',
            contacts: [{ role: 'duty-officer', name: 'Duty officer', email: `duty@${agencyId}.example` }],
          },
        })
      ).status,
    ).toBe(200);
    expect(
      (await post('/v1/subscriptions', world.coordinator, { subscription: { id: 'all', agencyId } })).status,
    ).toBe(200);
    const incidentId = await openIncident('RED', freshDomain('replay'));
    await engage(incidentId, agencyId);
    const analyst = await world.mint('agency_analyst', 'RED', agencyId);
    const replay = async () => {
      const reader = new FeedReader(world, analyst, agencyId, 1);
      await reader.quiet();
      reader.close();
      expect(reader.error).toBeUndefined();
      return reader.items.filter((i) => i.incidentId === incidentId);
    };
    // While engaged, the RED events are in its feed.
    await waitFor(
      async () => {
        if (!(await replay()).some((i) => i.tlp === 'RED')) throw new Error('no RED event yet');
      },
      { what: 'the RED incident in the engaged feed', timeoutMs: 30_000, intervalMs: 250 },
    );
    await engage(incidentId, agencyId, 'unassignAgency');
    const after = await replay();
    expect(after.filter((i) => i.tlp !== 'CLEAR' && i.tlp !== 'GREEN')).toEqual([]);
    // Feed credentials live hours, not a month.
    const creds = await post(`/v1/agencies/${agencyId}:issueFeedCredentials`, world.coordinator, {
      ttlHours: 720,
    });
    if (creds.status === 200) {
      const expiresAt = new Date(creds.body['expiresAt'] as string).getTime();
      expect(expiresAt - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    } else {
      expect(creds.status).toBeGreaterThanOrEqual(400);
      expect(creds.status).toBeLessThan(500);
    }
  });

  test('acknowledging on a hidden incident answers as for a made-up one, through both doors', async () => {
    const amber = world.fixtures.get('AMBER')!.incidentId;
    const madeUp = madeUpId(amber);
    const outsider = await world.mint('agency_analyst', 'RED', AGENCY.never);
    const doors = [
      (id: string, agency: string) => `/v1/responses/${id}/agencies/${agency}:acknowledge`,
      (id: string, agency: string) => `/v1/agencies/${agency}/incidents/${id}:acknowledge`,
    ];
    for (const door of doors) {
      const hidden = await post(door(amber, AGENCY.never), outsider, { note: 'seen' });
      const missing = await post(door(madeUp, AGENCY.never), outsider, { note: 'seen' });
      expect(hidden.status, JSON.stringify(hidden.body)).toBe(404);
      expect(normalised(hidden, amber)).toBe(normalised(missing, madeUp));
    }
    // The engaged agency acknowledges through notify's door (the response's is in the matrix).
    const insider = await world.mint('agency_analyst', 'RED', AGENCY.engaged);
    const served = await post(doors[1]!(amber, AGENCY.engaged), insider, { note: 'seen' });
    expect(served.status, JSON.stringify(served.body)).toBe(200);
  });

  test("impact answers another operator's asset as it answers a made-up one", async () => {
    const cc = world.coordinator;
    // Operator B owns one asset; operator A's (trust-operator) assets exist but are not B's.
    expect(
      (
        await post('/v1/assets', cc, {
          asset: {
            id: 'trust-b-substation',
            name: 'Substation of operator B',
            operatorId: 'trust-operator-b',
            sector: 'energy',
            jurisdiction: 'MT',
            location: { lat: 35.9, lon: 14.5 },
            populationServed: 1_000,
            criticality: 2,
            tlp: 'TLP_GREEN',
          },
          expectedVersion: 0,
        })
      ).status,
    ).toBe(200);
    const admin = await world.mint('agency_admin', 'RED', 'trust-operator-b');
    const dependOn = (providerId: string) =>
      post('/v1/dependencies', admin, {
        dependency: {
          dependentId: 'trust-b-substation',
          providerId,
          kind: 'power',
          timeToImpactHours: 1,
          degradation: 1,
        },
      });
    const other = await dependOn(world.assetIds.get('AMBER')!);
    const missing = await dependOn('trust-asset-nowhere');
    expect(other.status).toBeGreaterThanOrEqual(400);
    expect(normalised(other, world.assetIds.get('AMBER')!)).toBe(normalised(missing, 'trust-asset-nowhere'));
    // A coordinator below the asset's label gets the same for an assessment naming it.
    const low = await world.mint('coordinator', 'GREEN');
    const assess = (assetId: string) =>
      post('/v1/assessments', low, {
        incidentId: world.fixtures.get('GREEN')!.incidentId,
        affectedAssets: [{ assetId }],
        horizonHours: 24,
      });
    const aboveClearance = await assess(world.assetIds.get('RED')!);
    const nowhere = await assess('trust-asset-nowhere');
    expect(normalised(aboveClearance, world.assetIds.get('RED')!)).toBe(
      normalised(nowhere, 'trust-asset-nowhere'),
    );
    // The legitimate caller is served.
    expect([200, 201]).toContain((await assess(world.assetIds.get('CLEAR')!)).status);
  });

  test('victim statistics for an incident with one victim single nobody out', async () => {
    const incidentId = world.fixtures.get('GREEN')!.incidentId;
    const officer = await world.mint('victim_officer', 'AMBER', 'trust-support');
    const opened = await post('/v1/victim-cases', officer, {
      case: {
        incidentIds: [incidentId],
        jurisdiction: 'MT',
        language: 'en',
        victim: {
          kind: 'VICTIM_KIND_PERSON',
          displayName: 'Maria Borg',
          email: 'maria.borg@example.org',
          preferredChannel: 'CONTACT_CHANNEL_EMAIL',
        },
        needs: [{ psychologicalDistress: { instrument: 'SCREENING_INSTRUMENT_PHQ4', score: 10 } }],
        consents: [{ purpose: 'CONSENT_PURPOSE_CONTACT', granted: true, wordingVersion: 'v1' }],
      },
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    for (const role of ['coordinator', 'auditor'] as const) {
      const token = await world.mint(role, 'RED');
      const stats = await get(`/v1/victim-stats?incidentId=${incidentId}`, token);
      expect(stats.status, JSON.stringify(stats.body)).toBe(200);
      // Per-person screening results never leave the case.
      expect((stats.body['byScreeningResult'] as unknown[] | undefined) ?? []).toEqual([]);
      // No count of 1 to 4 people is shown, anywhere in the answer.
      const counts: number[] = [];
      JSON.stringify(stats.body, (key, value: unknown) => {
        if (['cases', 'urgent', 'erased'].includes(key) && typeof value === 'number') counts.push(value);
        return value;
      });
      expect(
        counts.filter((c) => c > 0 && c < 5),
        JSON.stringify(stats.body),
      ).toEqual([]);
    }
  });
});
