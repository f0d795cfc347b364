import { status } from '@grpc/grpc-js';
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { isObligationId, type NcissInputs } from '@beacon/domain';
import {
  authenticatedUnary,
  GrpcError,
  invalidArgument,
  tlpToProto,
  type Authenticator,
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

export interface ResponseGrpcDeps {
  readonly client: Client;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
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
 * `beacon.response.v1.ResponseService`: the gateway's door to the response workflows. Reads are
 * queries, commands are the workflows' validated updates; a command the response refuses comes
 * back as FAILED_PRECONDITION with its reason. Coordinators may do everything (auditors and
 * services read); an agency's own people may only acknowledge their agency's engagement.
 */
export function responseGrpc(deps: ResponseGrpcDeps): GrpcServiceBinding {
  const handle = authenticatedUnary({ authenticator: deps.authenticator, logger: deps.logger, toGrpcError });
  const workflow = (incidentId: string): WorkflowHandle<typeof incidentResponse> => {
    if (!INCIDENT_ID.test(incidentId))
      throw invalidArgument([violation('incident_id', 'is not an incident id')]);
    return deps.client.workflow.getHandle<typeof incidentResponse>(responseWorkflowId(incidentId));
  };
  /**
   * Runs a command (a validated update). Temporal answers "not found" for a closed workflow too;
   * a response that exists but has closed takes no commands, which is not the same as none.
   */
  const command = async <R>(
    incidentId: string,
    run: (handle: WorkflowHandle<typeof incidentResponse>) => Promise<R>,
  ): Promise<R> => {
    const handle = workflow(incidentId);
    try {
      return await run(handle);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      const closed = await handle.describe().then(
        (d) => d.status.name !== 'RUNNING',
        () => false,
      );
      if (closed) throw new GrpcError(status.FAILED_PRECONDITION, 'the response is closed', { cause: error });
      throw error;
    }
  };
  const requireCoordinator = (caller: Principal) => {
    if (!has(caller, 'coordinator'))
      throw new GrpcError(status.PERMISSION_DENIED, 'only coordinators may do this');
  };
  const requireReader = (caller: Principal) => {
    if (!has(caller, 'coordinator', 'auditor', 'service')) {
      throw new GrpcError(status.PERMISSION_DENIED, 'responses are read by the coordination centre');
    }
  };
  const requireAgencyId = (value: string, field = 'agency_id') => {
    if (!AGENCY_ID.test(value)) throw invalidArgument([violation(field, 'is not an agency id')]);
  };
  const reply = (s: ResponseStatus) => ({ status: statusToProto(s) });

  const implementation: responseV1.ResponseServiceServer = {
    getResponse: handle<responseV1.GetResponseRequest, responseV1.GetResponseResponse>(
      async (req, caller) => {
        requireReader(caller);
        return reply(await workflow(req.incidentId).query(statusQuery));
      },
    ),

    getTimeline: handle<responseV1.GetTimelineRequest, responseV1.GetTimelineResponse>(
      async (req, caller) => {
        requireReader(caller);
        const entries = await workflow(req.incidentId).query(timelineQuery);
        return {
          entries: entries.map((e) => ({
            at: new Date(e.atMs),
            kind: e.kind,
            detail: e.detail,
            agencyId: e.agencyId ?? '',
            obligation: e.obligation ?? '',
          })),
        };
      },
    ),

    acknowledgeEngagement: handle<
      responseV1.AcknowledgeEngagementRequest,
      responseV1.AcknowledgeEngagementResponse
    >(async (req, caller) => {
      requireAgencyId(req.agencyId);
      if (req.note.length > 2_000) throw invalidArgument([violation('note', 'at most 2,000 characters')]);
      const own = has(caller, 'agency_admin', 'agency_analyst') && caller.agencyId === req.agencyId;
      if (!own && !has(caller, 'coordinator')) {
        // Another agency's engagement reads as absent, as everywhere in Beacon.
        if (caller.agencyId) throw new GrpcError(status.NOT_FOUND, `no engagement of ${req.agencyId}`);
        throw new GrpcError(status.PERMISSION_DENIED, 'only the agency or a coordinator may acknowledge');
      }
      return reply(
        await command(req.incidentId, (h) =>
          h.executeUpdate(acknowledgeUpdate, {
            args: [{ agencyId: req.agencyId, note: req.note.trim(), via: own ? 'agency' : 'coordinator' }],
          }),
        ),
      );
    }),

    escalate: handle<responseV1.EscalateRequest, responseV1.EscalateResponse>(async (req, caller) => {
      requireCoordinator(caller);
      if (req.agencyId) requireAgencyId(req.agencyId);
      return reply(
        await command(req.incidentId, (h) =>
          h.executeUpdate(escalateUpdate, { args: [{ agencyId: req.agencyId }] }),
        ),
      );
    }),

    addAgency: handle<responseV1.AddAgencyRequest, responseV1.AddAgencyResponse>(async (req, caller) => {
      requireCoordinator(caller);
      requireAgencyId(req.agencyId);
      return reply(
        await command(req.incidentId, (h) =>
          h.executeUpdate(addAgencyUpdate, {
            args: [{ agencyId: req.agencyId, reason: req.reason.slice(0, 500) }],
          }),
        ),
      );
    }),

    removeAgency: handle<responseV1.RemoveAgencyRequest, responseV1.RemoveAgencyResponse>(
      async (req, caller) => {
        requireCoordinator(caller);
        requireAgencyId(req.agencyId);
        return reply(
          await command(req.incidentId, (h) =>
            h.executeUpdate(removeAgencyUpdate, {
              args: [{ agencyId: req.agencyId, reason: req.reason.slice(0, 500) }],
            }),
          ),
        );
      },
    ),

    changeSeverity: handle<responseV1.ChangeSeverityRequest, responseV1.ChangeSeverityResponse>(
      async (req, caller) => {
        requireCoordinator(caller);
        if (!req.severityInputs) throw invalidArgument([violation('severity_inputs', 'is required')]);
        // The response validates the categories (and names the bad ones).
        return reply(
          await command(req.incidentId, (h) =>
            h.executeUpdate(changeSeverityUpdate, {
              args: [{ inputs: req.severityInputs as unknown as NcissInputs }],
            }),
          ),
        );
      },
    ),

    fileReport: handle<responseV1.FileReportRequest, responseV1.FileReportResponse>(async (req, caller) => {
      requireCoordinator(caller);
      const { obligation } = req;
      const violations = [
        ...(isObligationId(obligation) ? [] : [violation('obligation', 'is not a reporting obligation')]),
        ...(req.reference.trim() && req.reference.length <= 200
          ? []
          : [violation('reference', 'must be 1 to 200 characters')]),
      ];
      if (violations.length > 0 || !isObligationId(obligation)) throw invalidArgument(violations);
      return reply(
        await command(req.incidentId, (h) =>
          h.executeUpdate(fileReportUpdate, {
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
    }),

    recordRansomPayment: handle<
      responseV1.RecordRansomPaymentRequest,
      responseV1.RecordRansomPaymentResponse
    >(async (req, caller) => {
      requireCoordinator(caller);
      const paidAt = req.paidAt;
      if (!paidAt) throw invalidArgument([violation('paid_at', 'is required')]);
      return reply(
        await command(req.incidentId, (h) =>
          h.executeUpdate(recordRansomPaymentUpdate, {
            args: [{ paidAtMs: paidAt.getTime() }],
          }),
        ),
      );
    }),

    resolve: handle<responseV1.ResolveRequest, responseV1.ResolveResponse>(async (req, caller) => {
      requireCoordinator(caller);
      if (!req.summary.trim() || req.summary.length > 5_000) {
        throw invalidArgument([violation('summary', 'must be 1 to 5,000 characters')]);
      }
      return reply(
        await command(req.incidentId, (h) =>
          h.executeUpdate(resolveUpdate, {
            args: [{ summary: req.summary.trim() }],
          }),
        ),
      );
    }),
  };

  return {
    name: 'beacon.response.v1.ResponseService',
    definition: responseV1.ResponseServiceService,
    implementation,
  };
}

/** Temporal's answers as gRPC statuses: a refused command keeps its reason. */
function toGrpcError(error: unknown): unknown {
  if (error instanceof GrpcError) return error;
  if (error instanceof WorkflowNotFoundError) {
    return new GrpcError(status.NOT_FOUND, 'this incident has no response', { cause: error });
  }
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause as { type?: string; message?: string } | undefined;
    const code = cause?.type === 'NotFound' ? status.NOT_FOUND : status.FAILED_PRECONDITION;
    return new GrpcError(code, cause?.message ?? 'the response refused the command', { cause: error });
  }
  // A query or update to a workflow that has closed, or one Temporal could not reach.
  const message = (error as Error | undefined)?.message ?? '';
  if (/not found/i.test(message))
    return new GrpcError(status.NOT_FOUND, 'this incident has no response', { cause: error });
  return error;
}

const PHASE: Record<ResponseStatus['phase'], responseV1.ResponsePhase> = {
  triage: responseV1.ResponsePhase.RESPONSE_PHASE_TRIAGE,
  active: responseV1.ResponsePhase.RESPONSE_PHASE_ACTIVE,
  resolved: responseV1.ResponsePhase.RESPONSE_PHASE_RESOLVED,
  closed: responseV1.ResponsePhase.RESPONSE_PHASE_CLOSED,
};
const ENGAGEMENT: Record<ResponseStatus['agencies'][number]['state'], responseV1.EngagementState> = {
  engaging: responseV1.EngagementState.ENGAGEMENT_STATE_ENGAGING,
  notified: responseV1.EngagementState.ENGAGEMENT_STATE_NOTIFIED,
  acknowledged: responseV1.EngagementState.ENGAGEMENT_STATE_ACKNOWLEDGED,
  unacknowledged: responseV1.EngagementState.ENGAGEMENT_STATE_UNACKNOWLEDGED,
  removed: responseV1.EngagementState.ENGAGEMENT_STATE_REMOVED,
};
const OBLIGATION: Record<ResponseStatus['obligations'][number]['state'], responseV1.ObligationState> = {
  open: responseV1.ObligationState.OBLIGATION_STATE_OPEN,
  overdue: responseV1.ObligationState.OBLIGATION_STATE_OVERDUE,
  filed: responseV1.ObligationState.OBLIGATION_STATE_FILED,
};
const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));

export function statusToProto(s: ResponseStatus): responseV1.ResponseStatus {
  return {
    incidentId: s.incidentId,
    phase: PHASE[s.phase],
    title: s.title,
    tlp: tlpToProto(s.tlp),
    ncissScore: s.ncissScore,
    ncissLevel: s.ncissLevel,
    sectors: [...s.sectors],
    jurisdictions: [...s.jurisdictions],
    awareAt: date(s.awareAtMs),
    impact: s.impact
      ? {
          impactedAssets: s.impact.impactedAssets,
          populationAffected: String(s.impact.populationAffected),
          sectorsReached: [...s.impact.sectorsReached],
          jurisdictionsReached: [...s.impact.jurisdictionsReached],
        }
      : undefined,
    engagements: s.agencies.map((a) => ({
      agencyId: a.agencyId,
      state: ENGAGEMENT[a.state],
      reasons: [...a.reasons],
      contactRank: a.contactRank ?? 0,
      role: a.role ?? '',
      notifiedAgencyId: a.notifiedAgencyId ?? '',
      round: a.round ?? 0,
      noticesSent: a.noticesSent,
      acknowledgedAt: date(a.acknowledgedAtMs),
      timeToAcknowledgeSeconds: a.timeToAcknowledgeMs === undefined ? 0 : a.timeToAcknowledgeMs / 1000,
      via: a.via ?? '',
      startedAt: date(a.startedAtMs),
    })),
    regimes: s.regimes.map((r) => ({ regime: r.regime, reasons: [...r.reasons] })),
    obligations: s.obligations.map((o) => ({
      id: o.id,
      regime: o.regime,
      title: o.title,
      dueAt: date(o.dueAtMs),
      state: OBLIGATION[o.state],
      filedAt: date(o.filedAtMs),
      reference: o.reference ?? '',
      mustFileBeforeResolving: o.mustFileBeforeResolving,
      escalationLevel: o.escalationLevel,
      draftJson: o.draft ? JSON.stringify(o.draft) : '',
    })),
    resolveBlockers: [...s.resolveBlockers],
    victimCases: s.victimCases.map((c) => ({
      caseId: c.caseId,
      state: c.state,
      urgency: c.urgency,
      lastCheckInDay: c.lastCheckInDay ?? 0,
    })),
    ransomPaidAt: date(s.ransomPaidAtMs),
    resolvedAt: date(s.resolvedAtMs),
    closedAt: date(s.closedAtMs),
    resolutionSummary: s.resolutionSummary ?? '',
    finalReportJson: s.finalReport ? JSON.stringify(s.finalReport) : '',
    runs: s.runs,
  };
}
