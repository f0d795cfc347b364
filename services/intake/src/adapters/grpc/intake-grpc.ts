import { status } from '@grpc/grpc-js';
import {
  authenticatedUnary,
  ConcurrencyLimit,
  GrpcError,
  invalidArgument,
  chainVerificationReply,
  type Authenticator,
  type CallContext,
  type GrpcServiceBinding,
  type Logger,
} from '@beacon/platform';
import { commonV1, intakeV1 } from '@beacon/proto';
import type { Caller } from '../../domain/access.js';
import { IntakeRuleError } from '../../domain/rules.js';
import { MergeRuleError } from '../../domain/merge.js';
import { MAX_TREND_RANGE_MS, type IntakeService } from '../../app/intake-service.js';
import type { TrendDimension, TrendGranularity } from '../../domain/trends.js';
import { parseIncidentFilter, parseIncidentOrder } from '../../domain/incident-filter.js';
import type { Clock } from '../../app/ports.js';
import { IntakeError } from '../../app/errors.js';
import { BadCursorError } from '../mongo/incident-store.js';
import {
  incidentToProto,
  relationToProto,
  reportToProto,
  statusFromProto,
  tlpToProto,
} from '../proto-mapping.js';
import { RULES, Validator } from './validate.js';

export interface IntakeGrpcDeps {
  readonly service: IntakeService;
  readonly authenticator: Authenticator;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Writes run at most this many at a time, the rest queue: past it the store only slows
   * down, and an unbounded burst would slow every call at once.
   */
  readonly maxConcurrentWrites?: number;
}

/** A coordinator's judgement, said or left unsaid. */
const JUDGEMENT = new Set<intakeV1.SeverityBasis>([
  intakeV1.SeverityBasis.SEVERITY_BASIS_UNSPECIFIED,
  intakeV1.SeverityBasis.SEVERITY_BASIS_JUDGEMENT,
]);

/** `beacon.intake.v1.IntakeService` over gRPC: authenticate, validate, call, map back. */
export function intakeGrpc(deps: IntakeGrpcDeps): GrpcServiceBinding {
  const { service, clock } = deps;
  const writes = new ConcurrencyLimit(deps.maxConcurrentWrites ?? 16);
  const authenticated = authenticatedUnary({
    authenticator: deps.authenticator,
    logger: deps.logger,
    toGrpcError,
  });
  const handle = <Req, Res>(
    fn: (request: Req, caller: Caller, context: CallContext) => Promise<Res>,
    write: boolean,
  ) =>
    authenticated<Req, Res>(
      write
        ? (request, caller, context) => writes.run(() => fn(request, caller, context), context.signal)
        : fn,
    );

  /** Assigning an agency and taking it off: one request shape, one answer, two commands. */
  const agencyChange =
    (
      command: 'assignAgency' | 'unassignAgency',
      rules: typeof RULES.AssignAgencyRequest | typeof RULES.UnassignAgencyRequest,
    ) =>
    async (req: intakeV1.AssignAgencyRequest | intakeV1.UnassignAgencyRequest, caller: Caller) => {
      const v = new Validator();
      v.id('incident_id', req.incidentId, rules.incidentId);
      v.id('agency_id', req.agencyId, rules.agencyId);
      v.expectedVersion('expected_version', req.expectedVersion);
      v.check();
      const incident = await service.commands[command](
        caller,
        req.incidentId,
        req.agencyId,
        req.expectedVersion,
      );
      return { incident: incidentToProto(incident) };
    };

  const implementation: intakeV1.IntakeServiceServer = {
    submitReport: handle<intakeV1.SubmitReportRequest, intakeV1.SubmitReportResponse>(
      async (req, caller, ctx) => {
        const v = new Validator();
        const report = RULES.SubmitReportRequest;
        const input = {
          title: v.text('title', req.title, report.title),
          description: v.text('description', req.description, report.description),
          tlp: v.tlp('tlp', req.tlp),
          classification: v.classification('classification', req.classification),
          sectors: v.sectors('sectors', req.sectors, report.sectors),
          jurisdictions: v.jurisdictions('jurisdictions', req.jurisdictions, report.jurisdictions),
          observables: v.observables('observables', req.observables, report.observables),
          affectedAssets: v.affectedAssets('affected_assets', req.affectedAssets, report.affectedAssets),
          severityInputs: v.partialSeverityInputs('severity_inputs', req.severityInputs),
          awareAt: v.pastTime('aware_at', req.awareAt, clock.now()),
        };
        const idempotency = v.idempotencyOf(ctx.metadata, intakeV1.SubmitReportRequest.encode(req).finish());
        const result = await service.submitReport(caller, v.complete(input), idempotency);
        return {
          report: reportToProto(result.report),
          ...(result.incident ? { incident: incidentToProto(result.incident) } : {}),
          attached: result.attached,
        };
      },
      true,
    ),

    openIncident: handle<intakeV1.OpenIncidentRequest, intakeV1.OpenIncidentResponse>(
      async (req, caller, ctx) => {
        const v = new Validator();
        const open = RULES.OpenIncidentRequest;
        const input = {
          title: v.text('title', req.title, open.title),
          tlp: v.tlp('tlp', req.tlp),
          classification: v.classification('classification', req.classification),
          sectors: v.sectors('sectors', req.sectors, open.sectors),
          jurisdictions: v.jurisdictions('jurisdictions', req.jurisdictions, open.jurisdictions),
          observables: v.observables('observables', req.observables, open.observables),
          severityInputs: v.severityInputs('severity_inputs', req.severityInputs),
          affectedAssets: v.affectedAssets('affected_assets', req.affectedAssets, open.affectedAssets),
          awareAt: v.pastTime('aware_at', req.awareAt, clock.now()),
        };
        const idempotency = v.idempotencyOf(ctx.metadata, intakeV1.OpenIncidentRequest.encode(req).finish());
        const incident = await service.openIncident(caller, v.complete(input), idempotency);
        return { incident: incidentToProto(incident) };
      },
      true,
    ),

    getIncident: handle<intakeV1.GetIncidentRequest, intakeV1.GetIncidentResponse>(async (req, caller) => {
      const v = new Validator();
      v.id('incident_id', req.incidentId, RULES.GetIncidentRequest.incidentId);
      v.check();
      return { incident: incidentToProto(await service.getIncident(caller, req.incidentId)) };
    }, false),

    listIncidents: handle<intakeV1.ListIncidentsRequest, intakeV1.ListIncidentsResponse>(
      async (req, caller) => {
        const v = new Validator();
        const limit = v.pageSize(req.pageSize, {
          max: RULES.ListIncidentsRequest.pageSize.maximum,
          fallback: 20,
        });
        if (req.pageToken.length > 512)
          v.fail('page_token', 'is not a valid page token', 'INVALID_PAGE_TOKEN');
        const statusFilter =
          req.status === intakeV1.IncidentStatus.INCIDENT_STATUS_UNSPECIFIED
            ? undefined
            : statusFromProto(req.status);
        if (req.status !== intakeV1.IncidentStatus.INCIDENT_STATUS_UNSPECIFIED && !statusFilter) {
          v.fail('status', 'is not a known status', 'UNKNOWN_STATUS');
        }
        const filter = v.parsed('filter', req.filter, parseIncidentFilter, 'INVALID_FILTER');
        const order = v.parsed('order_by', req.orderBy, parseIncidentOrder, 'INVALID_ORDER_BY');
        v.check();
        const page = await service.listIncidents(caller, {
          limit,
          ...(req.pageToken ? { cursor: req.pageToken } : {}),
          ...(statusFilter ? { status: statusFilter } : {}),
          ...(filter ? { filter } : {}),
          ...(order ? { order } : {}),
        });
        return { incidents: page.incidents.map(incidentToProto), nextPageToken: page.next ?? '' };
      },
      false,
    ),

    transitionIncident: handle<intakeV1.TransitionIncidentRequest, intakeV1.TransitionIncidentResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('incident_id', req.incidentId, RULES.TransitionIncidentRequest.incidentId);
        const to = statusFromProto(req.toStatus) ?? v.fail('to_status', 'is required', 'REQUIRED');
        const reason = v.text('reason', req.reason, RULES.TransitionIncidentRequest.reason);
        v.expectedVersion('expected_version', req.expectedVersion);
        const expectedStatus =
          req.expectedStatus === undefined
            ? undefined
            : (statusFromProto(req.expectedStatus) ??
              v.fail(
                'expected_status',
                'must name a status; leave it out to move from any',
                'UNKNOWN_STATUS',
              ));
        v.check();
        const incident = await service.commands.transition(
          caller,
          req.incidentId,
          to!,
          reason,
          req.expectedVersion,
          expectedStatus,
        );
        return { incident: incidentToProto(incident) };
      },
      true,
    ),

    updateSeverity: handle<intakeV1.UpdateSeverityRequest, intakeV1.UpdateSeverityResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('incident_id', req.incidentId, RULES.UpdateSeverityRequest.incidentId);
        const cascade = req.basis === intakeV1.SeverityBasis.SEVERITY_BASIS_CASCADE;
        if (!cascade && req.basis !== undefined && !JUDGEMENT.has(req.basis))
          v.fail('basis', 'is not a known basis', 'UNKNOWN_BASIS');
        const implied = cascade
          ? v.partialSeverityInputs('severity_inputs', req.severityInputs, [
              'crossSectorDependency',
              'potentialImpact',
            ])
          : undefined;
        const inputs = cascade ? undefined : v.severityInputs('severity_inputs', req.severityInputs);
        v.expectedVersion('expected_version', req.expectedVersion);
        v.check();
        const incident = implied
          ? await service.commands.raiseByCascade(
              caller,
              req.incidentId,
              {
                crossSectorDependency: implied.crossSectorDependency ?? 'none',
                potentialImpact: implied.potentialImpact ?? 'none',
              },
              req.expectedVersion,
            )
          : await service.commands.rescore(caller, req.incidentId, inputs!, req.expectedVersion);
        return { incident: incidentToProto(incident) };
      },
      true,
    ),

    assignAgency: handle<intakeV1.AssignAgencyRequest, intakeV1.AssignAgencyResponse>(
      agencyChange('assignAgency', RULES.AssignAgencyRequest),
      true,
    ),
    unassignAgency: handle<intakeV1.UnassignAgencyRequest, intakeV1.UnassignAgencyResponse>(
      agencyChange('unassignAgency', RULES.UnassignAgencyRequest),
      true,
    ),
    getTrends: handle<intakeV1.GetTrendsRequest, intakeV1.GetTrendsResponse>(async (req, caller) => {
      const v = new Validator();
      const from = req.from ?? v.fail('from', 'is required', 'REQUIRED');
      const to = req.to ?? v.fail('to', 'is required', 'REQUIRED');
      if (from && to && (to <= from || to.getTime() - from.getTime() > MAX_TREND_RANGE_MS)) {
        v.fail('to', 'must be after from, by at most 366 days', 'OUT_OF_RANGE');
      }
      const granularity =
        GRANULARITY.get(req.granularity) ?? v.fail('granularity', 'is required: DAY or WEEK', 'REQUIRED');
      const dimension =
        DIMENSION.get(req.dimension) ??
        v.fail('dimension', 'is required: RSIT_CLASS, SECTOR or JURISDICTION', 'REQUIRED');
      const query = v.complete({ from, to, granularity, dimension });
      const points = await service.trends(caller, query);
      return { points: points.map((p) => ({ periodStart: p.periodStart, key: p.key, count: p.count })) };
    }, false),

    lookupIndicator: handle<intakeV1.LookupIndicatorRequest, intakeV1.LookupIndicatorResponse>(
      async (req, caller) => {
        const v = new Validator();
        const [observable] = req.observable
          ? v.observables('observable', [req.observable], { maxItems: 1 })
          : [v.fail('observable', 'is required', 'REQUIRED')];
        v.check();
        const sightings = await service.lookupIndicator(caller, observable!);
        return {
          // The caller knows what it wrote: the answer is the canonical indicator only.
          observable: { type: observable!.type, value: observable!.value },
          sightings: sightings.map((s) => ({ ...s, tlp: tlpToProto(s.tlp) })),
        };
      },
      false,
    ),

    exportIncidentStix: handle<intakeV1.ExportIncidentStixRequest, intakeV1.ExportIncidentStixResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('incident_id', req.incidentId, RULES.ExportIncidentStixRequest.incidentId);
        v.check();
        return { bundleJson: JSON.stringify(await service.exportStix(caller, req.incidentId)) };
      },
      false,
    ),

    updateIncidentFacts: handle<intakeV1.UpdateIncidentFactsRequest, intakeV1.UpdateIncidentFactsResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('incident_id', req.incidentId, RULES.UpdateIncidentFactsRequest.incidentId);
        const tlp = req.tlp === commonV1.Tlp.TLP_UNSPECIFIED ? undefined : v.tlp('tlp', req.tlp);
        const awareAt = req.awareAt ? v.pastTime('aware_at', req.awareAt, clock.now()) : undefined;
        if (!tlp && !req.awareAt) v.fail('tlp', 'or aware_at is required', 'REQUIRED');
        const reason = v.text('reason', req.reason, RULES.UpdateIncidentFactsRequest.reason);
        v.expectedVersion('expected_version', req.expectedVersion);
        v.check();
        const incident = await service.commands.updateFacts(
          caller,
          req.incidentId,
          { tlp, awareAt },
          reason,
          req.expectedVersion,
        );
        return { incident: incidentToProto(incident) };
      },
      true,
    ),

    listPossibleRelations: handle<
      intakeV1.ListPossibleRelationsRequest,
      intakeV1.ListPossibleRelationsResponse
    >(async (req, caller) => {
      const v = new Validator();
      v.id('incident_id', req.incidentId, RULES.ListPossibleRelationsRequest.incidentId);
      v.check();
      const relations = await service.listPossibleRelations(caller, req.incidentId);
      return { relations: relations.map(relationToProto) };
    }, false),

    getCaller: handle<intakeV1.GetCallerRequest, intakeV1.GetCallerResponse>(
      async (_req, caller) => ({
        subject: caller.subject,
        roles: [...caller.roles],
        agencyId: caller.agencyId ?? '',
        clearance: tlpToProto(caller.clearance),
      }),
      false,
    ),

    mergeIncidents: handle<intakeV1.MergeIncidentsRequest, intakeV1.MergeIncidentsResponse>(
      async (req, caller, ctx) => {
        const v = new Validator();
        v.id('survivor_id', req.survivorId, RULES.MergeIncidentsRequest.survivorId);
        v.id('merged_id', req.mergedId, RULES.MergeIncidentsRequest.mergedId);
        const awareAt =
          req.awareAt ?? v.fail('aware_at', 'is required: the awareness time to keep', 'REQUIRED');
        for (const [field, version] of [
          ['survivor_expected_version', req.survivorExpectedVersion],
          ['merged_expected_version', req.mergedExpectedVersion],
        ] as const) {
          v.expectedVersion(field, version);
        }
        const idempotency = v.idempotencyOf(
          ctx.metadata,
          intakeV1.MergeIncidentsRequest.encode(req).finish(),
        );
        v.check();
        const survivor = await service.mergeIncidents(
          caller,
          {
            survivorId: req.survivorId,
            mergedId: req.mergedId,
            awareAt: awareAt!,
            survivorVersion: req.survivorExpectedVersion,
            mergedVersion: req.mergedExpectedVersion,
          },
          idempotency,
        );
        return { survivor: incidentToProto(survivor) };
      },
      true,
    ),

    verifyAuditChain: handle<intakeV1.VerifyAuditChainRequest, intakeV1.VerifyAuditChainResponse>(
      async (req, caller) => {
        const v = new Validator();
        const checkpoint = v.checkpoint('checkpoint', req.checkpoint);
        v.check();
        const result = await service.verifyAudit(caller, checkpoint);
        return { ...chainVerificationReply(result), headHash: result.ok ? result.head : '' };
      },
      false,
    ),
  };

  return {
    name: 'beacon.intake.v1.IntakeService',
    definition: intakeV1.IntakeServiceService,
    implementation,
  };
}

const GRANULARITY = new Map<intakeV1.TrendGranularity, TrendGranularity>([
  [intakeV1.TrendGranularity.TREND_GRANULARITY_DAY, 'day'],
  [intakeV1.TrendGranularity.TREND_GRANULARITY_WEEK, 'week'],
]);
const DIMENSION = new Map<intakeV1.TrendDimension, TrendDimension>([
  [intakeV1.TrendDimension.TREND_DIMENSION_RSIT_CLASS, 'rsit-class'],
  [intakeV1.TrendDimension.TREND_DIMENSION_SECTOR, 'sector'],
  [intakeV1.TrendDimension.TREND_DIMENSION_JURISDICTION, 'jurisdiction'],
]);

/** Intake's domain errors to statuses; its use-case refusals (`IntakeError`) map by kind. */
function toGrpcError(error: unknown): unknown {
  // Another report is opening the incident this one joins: the same request succeeds shortly.
  if (error instanceof IntakeError && error.kind === 'unavailable') {
    return new GrpcError(status.UNAVAILABLE, error.message, { cause: error, retryAfterSeconds: 1 });
  }
  if (error instanceof MergeRuleError) {
    // A request that can never succeed names its field; one the incidents' state refuses does too.
    return error.kind === 'same-incident' || error.kind === 'awareness-not-confirmed'
      ? invalidArgument([
          { field: error.field, description: error.message, reason: error.kind.toUpperCase() },
        ])
      : new GrpcError(status.FAILED_PRECONDITION, error.message, { cause: error });
  }
  if (error instanceof IntakeRuleError)
    return new GrpcError(status.FAILED_PRECONDITION, error.message, { cause: error });
  if (error instanceof BadCursorError) {
    return invalidArgument([
      { field: 'page_token', description: error.message, reason: 'INVALID_PAGE_TOKEN' },
    ]);
  }
  return error;
}
