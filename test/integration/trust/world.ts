/**
 * The world the trust suite probes: Beacon's whole stack in this process (intake, impact,
 * notify, victims, workflows and the public gateway, started by the workflows' end-to-end
 * helper) and, set up once, one incident per TLP label with three agencies around it: one
 * engaged, one never engaged, one engaged and then removed (UnassignAgency). Every set-up step
 * is done by a RED coordinator and checked, so a probe never fails because the world is wrong.
 */
import { randomBytes } from 'node:crypto';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { NCISS_BASELINE, type NcissInputs } from '@beacon/domain';
import { intakeV1, notifyV1 } from '@beacon/proto';
import { waitFor, type Endpoints, type TestNames } from '@beacon/testkit';
import { rest, startResponseStack, type ResponseStack } from '../../../workflows/test/support/stack.js';
import {
  ENGAGEMENTS,
  LABELS,
  ROLES,
  type Caller,
  type CallerRole,
  type Engagement,
  type Label,
} from './expected.js';

export { rest };

/** The agency on each side of the engagement boundary. */
export const AGENCY: Record<Exclude<Engagement, 'centre'>, string> = {
  engaged: 'trust-engaged',
  never: 'trust-never',
  removed: 'trust-removed',
};

/** Proto JSON name of a label. */
export const tlpJson = (label: Label) => `TLP_${label.replace('+', '_')}`;
/** A label as an id fragment. */
export const slug = (label: Label) => label.toLowerCase().replace('+', '-');

/** A caller of the matrix, with its token and the agency it acts for. */
export interface MatrixCaller extends Caller {
  readonly key: string;
  readonly agencyId: string | undefined;
  readonly token: string;
}

export interface Fixture {
  readonly label: Label;
  readonly incidentId: string;
  /** Seen on this incident only: what a search looks up. */
  readonly indicator: string;
  /** One more indicator of this incident per caller, so each caller's correlated report is its own. */
  readonly probeIndicators: ReadonlyMap<string, string>;
  /** The incident's assessment; it names one asset of every label. */
  readonly assessmentId: string;
}

export interface World {
  readonly stack: ResponseStack;
  readonly coordinator: string;
  readonly callers: readonly MatrixCaller[];
  readonly fixtures: ReadonlyMap<Label, Fixture>;
  /** The asset of each label, every one named by every fixture's assessment. */
  readonly assetIds: ReadonlyMap<Label, string>;
  /** Set-up steps that never succeeded (a response that never engaged, an assessment never made). */
  readonly setupProblems: readonly string[];
  readonly intakeGrpc: intakeV1.IntakeServiceClient;
  readonly notifyGrpc: notifyV1.NotifyServiceClient;
  /** A token for any caller: role, clearance and agency. */
  mint(role: CallerRole | 'coordinator', clearance: Label, agencyId?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Severity inputs to open with, and a raise (NCISS level 2) that changes an incident on demand. */
export const SEVERITY_OPEN: NcissInputs = NCISS_BASELINE;
export const SEVERITY_RAISED: NcissInputs = {
  ...NCISS_BASELINE,
  functionalImpact: 'significant-non-critical',
  observedActivity: 'effect',
  location: 'business-network-management',
  actor: 'organised-crime',
  informationImpact: 'suspected',
  recoverability: 'supplemented',
  potentialImpact: 'medium',
};

/** A domain name nobody has reported, for indicators. */
export const freshDomain = (what: string) => `${what}-${randomBytes(6).toString('hex')}.trust.example`;

/** Every caller of the matrix: centre roles by clearance, agency roles by clearance × engagement. */
async function matrixCallers(mint: World['mint']): Promise<MatrixCaller[]> {
  const specs: Caller[] = [];
  for (const role of ROLES) {
    for (const clearance of LABELS) {
      if (role === 'coordinator' || role === 'auditor') specs.push({ role, clearance, engagement: 'centre' });
      else for (const engagement of ENGAGEMENTS) specs.push({ role, clearance, engagement });
    }
  }
  return Promise.all(
    specs.map(async (spec) => {
      const agencyId = spec.engagement === 'centre' ? undefined : AGENCY[spec.engagement];
      return {
        ...spec,
        key: `${spec.role}/${spec.clearance}/${spec.engagement}`,
        agencyId,
        token: await mint(spec.role, spec.clearance, agencyId),
      };
    }),
  );
}

async function ok(
  stack: ResponseStack,
  what: string,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  let answer = await rest(stack, method, path, token, body);
  // The response and impact change the same incidents as they hear of them: a command that
  // lost that race (ABORTED, "changed meanwhile") is tried again, as a client would.
  for (
    let attempt = 0;
    answer.status === 409 && answer.body['grpcStatus'] === 'ABORTED' && attempt < 20;
    attempt += 1
  ) {
    answer = await rest(stack, method, path, token, body);
  }
  if (answer.status !== 200 && answer.status !== 201) {
    throw new Error(`set-up step "${what}" answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

/** Starts the stack and builds the fixture incidents; `stop` tears everything down. */
export async function buildWorld(infra: Endpoints, names: TestNames): Promise<World> {
  const stack = await startResponseStack(infra, names);
  const address = `127.0.0.1:${stack.gateway.grpcPort}`;
  const intakeGrpc = new intakeV1.IntakeServiceClient(address, credentials.createInsecure());
  const notifyGrpc = new notifyV1.NotifyServiceClient(address, credentials.createInsecure());
  let serial = 0;
  const mint: World['mint'] = (role, clearance, agencyId) =>
    stack.issuer.mint({
      subject: `trust-${role}-${clearance}-${agencyId ?? 'cc'}-${(serial += 1)}`,
      roles: [role],
      clearance,
      ...(agencyId ? { agencyId } : {}),
    });
  const stop = async () => {
    intakeGrpc.close();
    notifyGrpc.close();
    await stack.stop();
  };
  try {
    const cc = await mint('coordinator', 'RED');
    const callers = await matrixCallers(mint);

    // The agencies, cleared for everything so that only the caller's own clearance decides, in a
    // remit (LU) no fixture incident touches, so the response engages only whom the coordinator
    // names; each subscribed to everything.
    for (const id of Object.values(AGENCY)) {
      await ok(stack, `register ${id}`, 'POST', '/v1/agencies', cc, {
        agency: {
          id,
          name: id,
          kind: 'AGENCY_KIND_CSIRT',
          jurisdictions: ['LU'],
          sectors: ['financial-services'],
          clearance: 'TLP_RED',
          contacts: [{ role: 'duty-officer', name: 'Duty officer', email: `duty@${id}.example` }],
        },
      });
      await ok(stack, `subscribe ${id}`, 'POST', '/v1/subscriptions', cc, {
        subscription: { id: `${id}-all`, agencyId: id },
      });
    }

    // Assets: one CLEAR, one per label, to name in each incident's assessment.
    const assetId = (label: Label) => `trust-asset-${slug(label)}`;
    for (const label of LABELS) {
      await ok(stack, `asset ${label}`, 'POST', '/v1/assets', cc, {
        asset: {
          id: assetId(label),
          name: `Asset labelled ${label}`,
          operatorId: 'trust-operator',
          sector: 'energy',
          jurisdiction: 'MT',
          location: { lat: 35.9, lon: 14.5 },
          populationServed: 10_000,
          criticality: 3,
          tlp: tlpJson(label),
        },
        expectedVersion: 0,
      });
    }

    const fixtures = new Map<Label, Fixture>();
    const setupProblems: string[] = [];
    await Promise.all(
      LABELS.map(async (label) => {
        const indicator = freshDomain(`search-${slug(label)}`);
        const probeIndicators = new Map(callers.map((c) => [c.key, freshDomain(`probe-${slug(label)}`)]));
        // The incident names an asset of every label, so that its assessment is RED and shows a
        // reader below RED part of itself; impact's own re-assessments keep naming them all.
        const affectedAssets = LABELS.map((l) => ({ assetId: assetId(l) }));
        const opened = await ok(stack, `open ${label}`, 'POST', '/v1/incidents', cc, {
          title: `Trust fixture labelled ${label}`,
          tlp: tlpJson(label),
          classification: { rsitClass: 'intrusions', rsitType: 'system-compromise' },
          sectors: ['energy'],
          jurisdictions: ['MT'],
          severityInputs: SEVERITY_OPEN,
          affectedAssets,
          observables: [indicator, ...probeIndicators.values()].map((value) => ({ type: 'domain', value })),
          awareAt: new Date(Date.now() - 3_600_000).toISOString(),
        });
        const incidentId = (opened['incident'] as { id: string }).id;
        // A sighting of the search indicator: the coordinator's own report, labelled like the
        // incident, joins it (searches find reports' indicators).
        const sighted = await ok(stack, `report on ${label}`, 'POST', '/v1/reports', cc, {
          title: `Sighting on the ${label} fixture`,
          description: 'The indicator searches look up.',
          tlp: tlpJson(label),
          classification: { rsitClass: 'intrusions', rsitType: 'system-compromise' },
          sectors: ['energy'],
          jurisdictions: ['MT'],
          observables: [{ type: 'domain', value: indicator }],
          awareAt: new Date(Date.now() - 3_600_000).toISOString(),
        });
        if ((sighted['incident'] as { id?: string } | undefined)?.id !== incidentId) {
          throw new Error(
            `the coordinator's report did not join the ${label} fixture: ${JSON.stringify(sighted)}`,
          );
        }
        for (const [verb, agencyId] of [
          ['assignAgency', AGENCY.engaged],
          ['assignAgency', AGENCY.removed],
          ['unassignAgency', AGENCY.removed],
        ] as const) {
          await ok(
            stack,
            `${verb} ${agencyId} on ${label}`,
            'POST',
            `/v1/incidents/${incidentId}:${verb}`,
            cc,
            {
              agencyId,
              expectedVersion: 0,
            },
          );
        }
        // The response is running and engages the engaged agency before anyone acknowledges;
        // the removed agency is either not engaged there at all (the response learnt of the
        // assignment only once it was taken back: the coordinator's removal wins) or its
        // engagement ended. Whether intake still has it engaged is what the matrix's cells judge.
        // If the response never gets there, the world is still built: the acknowledge cells then
        // fail with what the response answered, and \`setupProblems\` says why.
        await waitFor(
          async () => {
            const { status, body } = await rest(stack, 'GET', `/v1/responses/${incidentId}`, cc);
            const engagements =
              (body['status'] as { engagements?: { agencyId: string; state: string }[] })?.engagements ?? [];
            const engaged = engagements.find((e) => e.agencyId === AGENCY.engaged);
            const removed = engagements.find((e) => e.agencyId === AGENCY.removed);
            if (status !== 200 || !engaged || (removed && removed.state !== 'ENGAGEMENT_STATE_REMOVED'))
              throw new Error(`response of ${label}: ${status} ${JSON.stringify(body)}`);
            return engaged;
          },
          {
            what: `the response of the ${label} incident engaging ${AGENCY.engaged}, not ${AGENCY.removed}`,
            timeoutMs: 30_000,
            intervalMs: 250,
          },
        ).catch((error: unknown) => setupProblems.push(String(error)));
        // Impact may be assessing the incident on its own at this moment: retry until it answers.
        const assessmentId = await waitFor(
          async () =>
            (
              (
                await ok(stack, `assess ${label}`, 'POST', '/v1/assessments', cc, {
                  incidentId,
                  affectedAssets,
                  horizonHours: 24,
                })
              )['assessment'] as { id: string }
            ).id,
          { what: `an assessment of the ${label} incident`, timeoutMs: 20_000, intervalMs: 500 },
        ).catch((error: unknown) => {
          setupProblems.push(String(error));
          return `incident-${incidentId}`;
        });
        fixtures.set(label, {
          label,
          incidentId,
          indicator,
          probeIndicators,
          assessmentId,
        });
      }),
    );
    return {
      stack,
      coordinator: cc,
      callers,
      fixtures,
      assetIds: new Map(LABELS.map((l) => [l, assetId(l)])),
      setupProblems,
      intakeGrpc,
      notifyGrpc,
      mint,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** gRPC metadata carrying a bearer token. */
export function bearer(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** The outcome of a unary gRPC call: its response, or its status code and details. */
export type GrpcOutcome<R> =
  | { readonly ok: true; readonly value: R }
  | { readonly ok: false; readonly code: number; readonly details: string };

export function unaryCall<Q, R>(
  client: object,
  method: string,
  request: Q,
  token: string,
): Promise<GrpcOutcome<R>> {
  const fn = (
    client as Record<string, (q: Q, m: Metadata, cb: (e: ServiceError | null, r: R) => void) => void>
  )[method]!;
  return new Promise((resolve) => {
    fn.call(client, request, bearer(token), (error, response) => {
      resolve(
        error ? { ok: false, code: error.code, details: error.details } : { ok: true, value: response },
      );
    });
  });
}
