import { status } from '@grpc/grpc-js';
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  isObligationId,
  mayAcknowledge,
  mayAcknowledgeFor,
  mayCommand,
  mayReadResponse,
  mayReadResponses,
  type NcissInputs,
  type Recipients,
} from '@beacon/domain';
import {
  authenticatedUnary,
  doorOf,
  GrpcError,
  invalidArgument,
  type Authenticator,
  type CallContext,
  type FieldViolation,
  type GrpcServiceBinding,
  type Logger,
  type Principal,
} from '@beacon/platform';
import { responseV1 } from '@beacon/proto';
import {
  acknowledgeUpdate,
  addAgencyUpdate,
  changeSeverityUpdate,
  escalateUpdate,
  fileReportUpdate,
  recordRansomPaymentUpdate,
  removeAgencyUpdate,
  resolveUpdate,
  responseWorkflowId,
  statusQuery,
  timelineQuery,
  type ResponseStatus,
} from '../workflows/definitions.js';
import type { incidentResponse } from '../workflows/index.js';
import { listAgencyEngagements } from './agency-engagements.js';
import type { IncidentReader } from './incident-access.js';
import { statusToProto } from './response-proto.js';
import { timelineQueryFrom, timelineResponse } from './timeline-page.js';
import type { TimelineStore } from '../adapters/timeline-store.js';
import { pageOf } from '../domain/timeline.js';

/** The response API's gRPC service: its health key, ready while Temporal and NATS answer. */
export const RESPONSE_SERVICE = 'beacon.response.v1.ResponseService';
export interface ResponseGrpcDeps {
  readonly client: Client;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  /** Intake, asked as the caller whether the incident is there for it, and how it stands now. */
  readonly incidents: IncidentReader;
  /** The responses' task queue: the responses this deployment runs (agencies' lists). */
  readonly taskQueue: string;
  /** Where the responses' timelines are kept. */
  readonly timeline: Pick<TimelineStore, 'page'>;
}

const INCIDENT_ID = /^inc_[A-Za-z0-9]{1,64}$/;
const AGENCY_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const violation = (field: string, description: string): FieldViolation => ({
  field,
  description,
  reason: 'INVALID',
});

const has = (caller: Principal, ...roles: string[]) => caller.roles.some((r) => roles.includes(r));

/**
 * The one answer for every incident a caller gets nothing about: one it may not read, one that
 * does not exist, and one without a response all read alike, so no refusal tells them apart.
 */
const incidentNotFound = (incidentId: string, cause?: unknown) =>
  new GrpcError(status.NOT_FOUND, `incident ${incidentId} not found`, cause === undefined ? {} : { cause });

type Response = WorkflowHandle<typeof incidentResponse>;

/**
 * `beacon.response.v1.ResponseService`: the gateway's door to the response workflows. Reads are
 * queries, commands are the workflows' validated updates; a command the response refuses comes
 * back as FAILED_PRECONDITION with its reason. Coordinators command; the coordination centre
 * (coordinators, auditors) reads, and so do an agency's analysts and admins while their agency
 * is engaged on the incident; an agency's own people acknowledge and list their agency's
 * engagements. Each only on an incident the trust policy lets it read as intake has the incident
 * now (its label, source and engaged agencies), within the caller's clearance.
 */
export function responseGrpc(deps: ResponseGrpcDeps): GrpcServiceBinding {
  const handle = authenticatedUnary({ authenticator: deps.authenticator, logger: deps.logger, toGrpcError });

  /**
   * The incident's response, for a caller `allowed` lets through on the incident as intake shows
   * it to that same caller; any other caller learns only `incidentNotFound`. Refusals that do not
   * depend on the incident (the caller's role, a malformed field) come before, so they say
   * nothing about it either.
   */
  const responseFor = async (
    incidentId: string,
    context: CallContext,
    allowed: (incident: Recipients) => boolean,
  ): Promise<Response> => {
    if (!INCIDENT_ID.test(incidentId))
      throw invalidArgument([violation('incident_id', 'is not an incident id')]);
    const authorization = context.metadata.get('authorization')[0];
    const incident = await deps.incidents.read(incidentId, {
      authorization: typeof authorization === 'string' ? authorization : '',
      deadline: context.deadline,
      signal: context.signal,
    });
    if (!incident || !allowed(incident)) throw incidentNotFound(incidentId);
    return deps.client.workflow.getHandle<typeof incidentResponse>(responseWorkflowId(incidentId));
  };

  /** Runs a query; an incident without a response answers as one not there. */
  const query = async <R>(incidentId: string, handle: Response, run: (h: Response) => Promise<R>) => {
    try {
      return await run(handle);
    } catch (error) {
      if (isWorkflowMissing(error)) throw incidentNotFound(incidentId, error);
      throw error;
    }
  };

  /**
   * Runs a command (a validated update). Temporal answers "not found" for a closed workflow too;
   * a response that exists but has closed takes no commands, which is not the same as none (and
   * is said only to a caller who may read the incident).
   */
  const command = async <R>(incidentId: string, handle: Response, run: (h: Response) => Promise<R>) => {
    try {
      return await run(handle);
    } catch (error) {
      if (!isWorkflowMissing(error)) throw error;
      const closed = await handle.describe().then(
        (d) => d.status.name !== 'RUNNING',
        () => false,
      );
      if (closed) throw new GrpcError(status.FAILED_PRECONDITION, 'the response is closed', { cause: error });
      throw incidentNotFound(incidentId, error);
    }
  };

  /** A coordinator's command on an incident it may command (within its clearance). */
  const commanded = (caller: Principal, incidentId: string, context: CallContext) =>
    responseFor(incidentId, context, (incident) => mayCommand(caller, incident, 'respond'));

  const requireCoordinator = (caller: Principal) => {
    if (!has(caller, 'coordinator'))
      throw new GrpcError(status.PERMISSION_DENIED, 'only coordinators may do this');
  };
  /** The role half of reading: refused alike for every incident, so it tells nothing of any. */
  const requireReader = (caller: Principal) => {
    if (!mayReadResponses(caller)) {
      throw new GrpcError(
        status.PERMISSION_DENIED,
        'responses are read by the coordination centre and the agencies engaged on them',
      );
    }
  };
  const requireAgencyId = (value: string, field = 'agency_id') => {
    if (!AGENCY_ID.test(value)) throw invalidArgument([violation(field, 'is not an agency id')]);
  };
  const reply = (s: ResponseStatus) => ({ status: statusToProto(s) });
  /** Engaging an agency and ending its engagement: a coordinator's, with a reason kept short. */
  const agencyChange = (update: typeof addAgencyUpdate | typeof removeAgencyUpdate) =>
    handle<responseV1.AddAgencyRequest | responseV1.RemoveAgencyRequest, responseV1.AddAgencyResponse>(
      async (req, caller, context) => {
        requireCoordinator(caller);
        requireAgencyId(req.agencyId);
        const h = await commanded(caller, req.incidentId, context);
        return reply(
          await command(req.incidentId, h, (r) =>
            r.executeUpdate(update, { args: [{ agencyId: req.agencyId, reason: req.reason.slice(0, 500) }] }),
          ),
        );
      },
    );

  const implementation: responseV1.ResponseServiceServer = {
    getResponse: handle<responseV1.GetResponseRequest, responseV1.GetResponseResponse>(
      async (req, caller, context) => {
        requireReader(caller);
        const h = await responseFor(req.incidentId, context, (incident) => mayReadResponse(caller, incident));
        return reply(await query(req.incidentId, h, (r) => r.query(statusQuery)));
      },
    ),

    getTimeline: handle<responseV1.GetTimelineRequest, responseV1.GetTimelineResponse>(
      async (req, caller, context) => {
        requireReader(caller);
        // The request's own fields first: a malformed one says nothing of the incident.
        const q = timelineQueryFrom(req);
        const h = await responseFor(req.incidentId, context, (incident) => mayReadResponse(caller, incident));
        // A response whose entries are not in the store (yet, or from before it) is read from
        // the workflow, which also says whether there is a response at all.
        const page =
          (await deps.timeline.page(q)) ??
          pageOf(await query(req.incidentId, h, (r) => r.query(timelineQuery)), q);
        return timelineResponse(q, page);
      },
    ),

    listAgencyEngagements: handle<
      responseV1.ListAgencyEngagementsRequest,
      responseV1.ListAgencyEngagementsResponse
    >(listAgencyEngagements(deps)),

    acknowledgeEngagement: handle<
      responseV1.AcknowledgeEngagementRequest,
      responseV1.AcknowledgeEngagementResponse
    >(async (req, caller, context) => {
      requireAgencyId(req.agencyId);
      if (req.note.length > 2_000) throw invalidArgument([violation('note', 'at most 2,000 characters')]);
      // Whose engagement the caller may answer for is a question of its role and agency alone,
      // the same for every incident: refusing it here says nothing about any incident.
      if (!mayAcknowledgeFor(caller, req.agencyId)) {
        throw new GrpcError(
          status.PERMISSION_DENIED,
          'an agency acknowledges only its own engagements; a coordinator may for any agency',
        );
      }
      const own = caller.agencyId === req.agencyId && has(caller, 'agency_admin', 'agency_analyst');
      const h = await responseFor(req.incidentId, context, (incident) =>
        mayAcknowledge(caller, req.agencyId, incident),
      );
      return reply(
        await command(req.incidentId, h, (r) =>
          r.executeUpdate(acknowledgeUpdate, {
            // The agency's own: the door it used (named by the gateway); else a coordinator's.
            args: [
              {
                agencyId: req.agencyId,
                note: req.note.trim(),
                via: own ? doorOf(context.metadata) : 'coordinator',
                by: caller.subject,
              },
            ],
          }),
        ),
      );
    }),

    escalate: handle<responseV1.EscalateRequest, responseV1.EscalateResponse>(
      async (req, caller, context) => {
        requireCoordinator(caller);
        if (req.agencyId) requireAgencyId(req.agencyId);
        const h = await commanded(caller, req.incidentId, context);
        return reply(
          await command(req.incidentId, h, (r) =>
            r.executeUpdate(escalateUpdate, { args: [{ agencyId: req.agencyId }] }),
          ),
        );
      },
    ),

    addAgency: agencyChange(addAgencyUpdate),
    removeAgency: agencyChange(removeAgencyUpdate),

    changeSeverity: handle<responseV1.ChangeSeverityRequest, responseV1.ChangeSeverityResponse>(
      async (req, caller, context) => {
        requireCoordinator(caller);
        if (!req.severityInputs) throw invalidArgument([violation('severity_inputs', 'is required')]);
        const h = await commanded(caller, req.incidentId, context);
        // The response validates the categories (and names the bad ones).
        return reply(
          await command(req.incidentId, h, (r) =>
            r.executeUpdate(changeSeverityUpdate, {
              args: [{ inputs: req.severityInputs as unknown as NcissInputs }],
            }),
          ),
        );
      },
    ),

    fileReport: handle<responseV1.FileReportRequest, responseV1.FileReportResponse>(
      async (req, caller, context) => {
        requireCoordinator(caller);
        const { obligation } = req;
        const violations = [
          ...(isObligationId(obligation) ? [] : [violation('obligation', 'is not a reporting obligation')]),
          ...(req.reference.trim() && req.reference.length <= 200
            ? []
            : [violation('reference', 'must be 1 to 200 characters')]),
        ];
        if (violations.length > 0 || !isObligationId(obligation)) throw invalidArgument(violations);
        const h = await commanded(caller, req.incidentId, context);
        return reply(
          await command(req.incidentId, h, (r) =>
            r.executeUpdate(fileReportUpdate, {
              args: [
                {
                  obligation,
                  reference: req.reference.trim(),
                  ...(req.filedAt ? { filedAtMs: req.filedAt.getTime() } : {}),
                },
              ],
            }),
          ),
        );
      },
    ),

    recordRansomPayment: handle<
      responseV1.RecordRansomPaymentRequest,
      responseV1.RecordRansomPaymentResponse
    >(async (req, caller, context) => {
      requireCoordinator(caller);
      const paidAt = req.paidAt;
      if (!paidAt) throw invalidArgument([violation('paid_at', 'is required')]);
      const h = await commanded(caller, req.incidentId, context);
      return reply(
        await command(req.incidentId, h, (r) =>
          r.executeUpdate(recordRansomPaymentUpdate, { args: [{ paidAtMs: paidAt.getTime() }] }),
        ),
      );
    }),

    resolve: handle<responseV1.ResolveRequest, responseV1.ResolveResponse>(async (req, caller, context) => {
      requireCoordinator(caller);
      if (!req.summary.trim() || req.summary.length > 5_000) {
        throw invalidArgument([violation('summary', 'must be 1 to 5,000 characters')]);
      }
      const h = await commanded(caller, req.incidentId, context);
      return reply(
        await command(req.incidentId, h, (r) =>
          r.executeUpdate(resolveUpdate, { args: [{ summary: req.summary.trim() }] }),
        ),
      );
    }),
  };

  return {
    name: RESPONSE_SERVICE,
    definition: responseV1.ResponseServiceService,
    implementation,
  };
}

/**
 * A query or update to a workflow Temporal does not have (never started, or a closed one it no
 * longer holds). The handlers turn it into `incidentNotFound` for the incident they asked about.
 */
function isWorkflowMissing(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  if (error instanceof GrpcError || error instanceof WorkflowUpdateFailedError) return false;
  return /not found/i.test((error as Error | undefined)?.message ?? '');
}

/** Temporal's answers as gRPC statuses: a refused command keeps its reason. */
function toGrpcError(error: unknown): unknown {
  if (error instanceof GrpcError) return error;
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause as { type?: string; message?: string } | undefined;
    const code = cause?.type === 'NotFound' ? status.NOT_FOUND : status.FAILED_PRECONDITION;
    return new GrpcError(code, cause?.message ?? 'the response refused the command', { cause: error });
  }
  return error;
}
