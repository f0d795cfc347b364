/**
 * Beacon's processes behind the gateway, each with its own identity (issue 20): impact and the
 * response worker fetch theirs from the stack's identity provider (client credentials, as a
 * deployment does), an operator's key-rotation job has its own, and a bare service identity has
 * no scope at all. Called directly on the internal network, each is served the operations its
 * scopes name and refused every other one, as TRUST-MODEL.md says ("a service identity may do
 * the operations its own job needs and nothing else"); at the public door each is refused as
 * any invalid token. Every refusal sits beside the caller whose job it is being served.
 */
import { credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { NCISS_BASELINE, PROCESS_SCOPES } from '@beacon/domain';
import { createAuthenticator, serviceIdentityFrom, serviceTokens } from '@beacon/platform';
import { commonV1, impactV1, intakeV1, notifyV1, victimsV1 } from '@beacon/proto';
import { testIdentity, testNames, waitFor, type LocalServiceClient } from '@beacon/testkit';
// Declares what `inject('infra')` returns: the run's servers, started by the global set-up.
import type {} from '@beacon/testkit/global-setup';
import { rest, startResponseStack, type ResponseStack } from '../../../workflows/test/support/stack.js';
import { SEVERITY_RAISED, unaryCall, type GrpcOutcome } from '../trust/world.js';

const IDENTITIES = ['impact', 'key-rotation', 'bare', 'workflows'] as const;
type Identity = (typeof IDENTITIES)[number];
const AGENCY = 'scopes-agency';
const ASSET = 'scopes-substation';
const CODE_NAMES = Object.fromEntries(Object.entries(status).map(([name, code]) => [code, name]));

let stack: ResponseStack;
let coordinator: string;
let tokens: Record<Identity, string>;
let incidentId: string;
let caseId: string;
let internal: {
  intake: intakeV1.IntakeServiceClient;
  impact: impactV1.ImpactServiceClient;
  notify: notifyV1.NotifyServiceClient;
  victims: victimsV1.VictimsServiceClient;
};
let gateway: intakeV1.IntakeServiceClient;

/** A process's token, fetched from the identity provider exactly as the process fetches it. */
async function fetched(process: LocalServiceClient): Promise<string> {
  const identity = serviceIdentityFrom(stack.identityEnv(process), process);
  if (identity?.kind !== 'client-credentials') throw new Error(`${process} has no client credentials`);
  return serviceTokens(identity)();
}

/** A set-up step through the gateway as a person; it must succeed. */
async function ok(method: 'GET' | 'POST', path: string, token: string, body?: unknown) {
  const answer = await rest(stack, method, path, token, body);
  if (answer.status !== 200 && answer.status !== 201)
    throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

beforeAll(async () => {
  // The response API only: no worker moving the incident while the identities call on it.
  stack = await startResponseStack(inject('infra'), testNames(), { roles: 'api' });
  const address = (port: number) => `127.0.0.1:${port}`;
  const insecure = credentials.createInsecure();
  internal = {
    intake: new intakeV1.IntakeServiceClient(address(stack.intake.port), insecure),
    impact: new impactV1.ImpactServiceClient(address(stack.impact.port), insecure),
    notify: new notifyV1.NotifyServiceClient(address(stack.notify.port), insecure),
    victims: new victimsV1.VictimsServiceClient(address(stack.victims.port), insecure),
  };
  gateway = new intakeV1.IntakeServiceClient(address(stack.gateway.grpcPort), insecure);
  coordinator = await stack.token(['coordinator']);
  const mint = (identity: ReturnType<typeof testIdentity>) =>
    stack.issuer.mint({ ...identity, roles: ['service'], clearance: 'RED' });
  tokens = {
    impact: await fetched('impact'),
    workflows: await fetched('workflows'),
    'key-rotation': await mint(testIdentity(['service'], undefined, 'key-rotation')),
    // Named as the response worker, with no scope: a process's name grants nothing.
    bare: await mint({ subject: 'workflows' }),
  };

  await ok('POST', '/v1/agencies', coordinator, {
    agency: {
      id: AGENCY,
      name: 'Scopes agency',
      kind: 'AGENCY_KIND_CSIRT',
      jurisdictions: ['LU'],
      sectors: ['energy'],
      clearance: 'TLP_RED',
      contacts: [{ role: 'duty-officer', name: 'Duty officer', email: `duty@${AGENCY}.example` }],
    },
  });
  await ok('POST', '/v1/assets', coordinator, {
    asset: {
      id: ASSET,
      name: 'A substation',
      operatorId: 'scopes-operator',
      sector: 'energy',
      jurisdiction: 'LU',
      location: { lat: 49.6, lon: 6.1 },
      populationServed: 10_000,
      criticality: 3,
      tlp: 'TLP_GREEN',
    },
    expectedVersion: 0,
  });
  const opened = await ok('POST', '/v1/incidents', coordinator, {
    title: 'An incident the service identities call on',
    tlp: 'TLP_AMBER',
    classification: { rsitClass: 'intrusions', rsitType: 'system-compromise' },
    sectors: ['energy'],
    jurisdictions: ['LU'],
    severityInputs: NCISS_BASELINE,
    observables: [{ type: 'domain', value: `scopes-${Date.now()}.example` }],
    awareAt: new Date(Date.now() - 3_600_000).toISOString(),
  });
  incidentId = (opened['incident'] as { id: string }).id;
  const officer = await stack.token(['victim_officer'], 'vs-scopes');
  const filed = await ok('POST', '/v1/victim-cases', officer, {
    case: {
      incidentIds: [incidentId],
      jurisdiction: 'LU',
      language: 'fr',
      victim: {
        kind: 'VICTIM_KIND_PERSON',
        displayName: 'A. Victim',
        email: 'a.victim@example.org',
        preferredChannel: 'CONTACT_CHANNEL_EMAIL',
      },
      consents: [{ purpose: 'CONSENT_PURPOSE_CONTACT', granted: true, wordingVersion: 'v1' }],
    },
  });
  caseId = (filed['case'] as { id: string }).id;
}, 120_000);

afterAll(async () => {
  for (const client of [...Object.values(internal ?? {}), gateway]) client?.close();
  await stack?.stop();
});

/** An outcome in a word: OK, or the gRPC status name. */
const word = (outcome: GrpcOutcome<unknown>) => (outcome.ok ? 'OK' : (CODE_NAMES[outcome.code] ?? '?'));

/**
 * A call to a service, tried again while it answers ABORTED, as a client would: impact may be
 * rescoring the same incident at that moment ("changed meanwhile").
 */
async function call<R>(
  client: object,
  method: string,
  request: unknown,
  token: string,
): Promise<GrpcOutcome<R>> {
  let answer = await unaryCall<unknown, R>(client, method, request, token);
  for (let attempt = 0; !answer.ok && CODE_NAMES[answer.code] === 'ABORTED' && attempt < 20; attempt += 1)
    answer = await unaryCall<unknown, R>(client, method, request, token);
  return answer;
}

/**
 * Each operation on the internal network, as its service answers it. A list answers every
 * caller; what tells who may read it is whether the incident, the agency or the case is in it.
 */
const OPERATIONS: Record<string, (token: string) => Promise<string>> = {
  GetIncident: async (t) => word(await call(internal.intake, 'getIncident', { incidentId }, t)),
  ListIncidents: async (t) => {
    const answer = await call<intakeV1.ListIncidentsResponse>(
      internal.intake,
      'listIncidents',
      intakeV1.ListIncidentsRequest.fromPartial({ pageSize: 100 }),
      t,
    );
    if (!answer.ok) return word(answer);
    return answer.value.incidents.some((i) => i.id === incidentId) ? 'OK' : 'OK, without it';
  },
  UpdateSeverity: async (t) =>
    word(
      await call(
        internal.intake,
        'updateSeverity',
        intakeV1.UpdateSeverityRequest.fromPartial({ incidentId, severityInputs: SEVERITY_RAISED }),
        t,
      ),
    ),
  TransitionIncident: async (t) =>
    word(
      await call(
        internal.intake,
        'transitionIncident',
        intakeV1.TransitionIncidentRequest.fromPartial({
          incidentId,
          toStatus: intakeV1.IncidentStatus.INCIDENT_STATUS_TRIAGE,
          reason: 'triage',
        }),
        t,
      ),
    ),
  AssignAgency: async (t) =>
    word(
      await call(
        internal.intake,
        'assignAgency',
        intakeV1.AssignAgencyRequest.fromPartial({ incidentId, agencyId: AGENCY }),
        t,
      ),
    ),
  OpenIncident: async (t) =>
    word(
      await call(
        internal.intake,
        'openIncident',
        intakeV1.OpenIncidentRequest.fromPartial({
          title: 'Opened by a process',
          tlp: commonV1.Tlp.TLP_GREEN,
          classification: { rsitClass: 'intrusions', rsitType: 'system-compromise' },
          sectors: ['energy'],
          jurisdictions: ['LU'],
          severityInputs: NCISS_BASELINE,
          observables: [{ type: 'domain', value: 'opened-by-a-process.example' }],
          awareAt: new Date(Date.now() - 60_000),
        }),
        t,
      ),
    ),
  AssessImpact: async (t) =>
    word(
      await call(
        internal.impact,
        'assessImpact',
        impactV1.AssessImpactRequest.fromPartial({
          incidentId,
          affectedAssets: [{ assetId: ASSET }],
          horizonHours: 24,
        }),
        t,
      ),
    ),
  ListAgencies: async (t) => {
    const answer = await call<notifyV1.ListAgenciesResponse>(
      internal.notify,
      'listAgencies',
      notifyV1.ListAgenciesRequest.fromPartial({ pageSize: 100 }),
      t,
    );
    if (!answer.ok) return word(answer);
    return answer.value.agencies.some((a) => a.id === AGENCY) ? 'OK' : 'OK, without it';
  },
  // The agency was assigned just before (AssignAgency); notify sends the notice once intake's
  // event has told it so, and answers UNAVAILABLE until then, as the response's activity sees.
  NotifyEngagement: async (t) => {
    const notice = notifyV1.NotifyEngagementRequest.fromPartial({
      incidentId,
      agencyId: AGENCY,
      contactRank: 0,
      idempotencyKey: `scopes/${incidentId}/notice`,
      round: 1,
    });
    const answer = await waitFor(
      async () => {
        const outcome = await call(internal.notify, 'notifyEngagement', notice, t);
        if (!outcome.ok && CODE_NAMES[outcome.code] === 'UNAVAILABLE') throw new Error(outcome.details);
        return outcome;
      },
      { what: 'notify to learn of the assignment', timeoutMs: 15_000 },
    );
    return word(answer);
  },
  ListCases: async (t) => {
    const answer = await call<victimsV1.ListCasesResponse>(
      internal.victims,
      'listCases',
      victimsV1.ListCasesRequest.fromPartial({ incidentId, pageSize: 10 }),
      t,
    );
    if (!answer.ok) return word(answer);
    return answer.value.cases.some((c) => c.id === caseId) ? 'OK' : 'OK, without it';
  },
  GetFollowUp: async (t) => word(await call(internal.victims, 'getFollowUp', { caseId }, t)),
  RewrapKeys: async (t) =>
    word(await call(internal.victims, 'rewrapKeys', victimsV1.RewrapKeysRequest.fromPartial({}), t)),
};

const PD = 'PERMISSION_DENIED';
const NF = 'NOT_FOUND';
/** What each identity is answered, in the order of IDENTITIES: impact, key-rotation, bare, workflows. */
const EXPECTED: Record<keyof typeof OPERATIONS, readonly [string, string, string, string]> = {
  GetIncident: ['OK', NF, NF, 'OK'],
  ListIncidents: ['OK', 'OK, without it', 'OK, without it', 'OK'],
  UpdateSeverity: ['OK', PD, PD, 'OK'],
  TransitionIncident: [PD, PD, PD, 'OK'],
  AssignAgency: [PD, PD, PD, 'OK'],
  // No process opens incidents: a coordinator does (below).
  OpenIncident: [PD, PD, PD, PD],
  AssessImpact: [PD, PD, PD, 'OK'],
  ListAgencies: [PD, PD, PD, 'OK'],
  NotifyEngagement: [PD, PD, PD, 'OK'],
  ListCases: [PD, PD, PD, 'OK'],
  GetFollowUp: [PD, PD, PD, 'OK'],
  RewrapKeys: [PD, 'OK', PD, PD],
};

describe("Beacon's service identities on the internal network", () => {
  test('impact and the response worker fetch tokens carrying exactly their process’s scopes', async () => {
    const verifier = createAuthenticator(
      { issuer: stack.issuer.issuer, audience: stack.issuer.audience, jwks: { keys: stack.issuer.jwks } },
      { door: 'internal', cacheMs: 0 },
    );
    for (const process of ['impact', 'workflows'] as const) {
      expect(await verifier.authenticate(`Bearer ${tokens[process]}`)).toMatchObject({
        subject: process,
        roles: ['service'],
        scopes: [...PROCESS_SCOPES[process]],
      });
    }
    expect((await verifier.authenticate(`Bearer ${tokens.bare}`)).scopes).toEqual([]);
  });

  test('each identity is served its own job’s operations and refused every other one', async () => {
    const answers: Record<string, string[]> = {};
    for (const [operation, call] of Object.entries(OPERATIONS)) {
      answers[operation] = [];
      for (const identity of IDENTITIES) answers[operation].push(await call(tokens[identity]));
    }
    expect(answers).toEqual(EXPECTED);
    // Opening an incident is the coordination centre's, served to it at the same service.
    expect(await OPERATIONS['OpenIncident']!(coordinator)).toBe('OK');
  });

  test('an incident the key-rotation job may not read is answered as one that does not exist', async () => {
    const answer = (id: string, token: string) =>
      unaryCall(internal.intake, 'getIncident', { incidentId: id }, token);
    const madeUp = `${incidentId.slice(0, -4)}zzzz`;
    const hidden = await answer(incidentId, tokens['key-rotation']);
    const missing = await answer(madeUp, tokens['key-rotation']);
    expect(hidden).toEqual({
      ok: false,
      code: status.NOT_FOUND,
      details: `incident ${incidentId} not found`,
    });
    expect(missing).toEqual({ ok: false, code: status.NOT_FOUND, details: `incident ${madeUp} not found` });
    // The incident is there: impact reads it.
    expect(await answer(incidentId, tokens.impact)).toMatchObject({ ok: true });
  });
});

describe("Beacon's service identities at the public door", () => {
  test('each is refused at both doors as any invalid token, while a coordinator is served', async () => {
    const invalid = {
      status: 401,
      grpc: { ok: false, code: status.UNAUTHENTICATED, details: 'the bearer token is not valid' },
    };
    const doors = async (token: string) => ({
      status: (await rest(stack, 'GET', `/v1/incidents/${incidentId}`, token)).status,
      grpc: await call(gateway, 'getIncident', { incidentId }, token),
    });
    const answers: Record<string, unknown> = {};
    for (const identity of IDENTITIES) answers[identity] = await doors(tokens[identity]);
    expect(answers).toEqual(Object.fromEntries(IDENTITIES.map((identity) => [identity, invalid])));

    const served = await doors(coordinator);
    expect(served.status).toBe(200);
    expect(served.grpc).toMatchObject({ ok: true, value: { incident: { id: incidentId } } });
  });
});
