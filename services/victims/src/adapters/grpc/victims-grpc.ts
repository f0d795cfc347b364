import {
  authenticatedUnary,
  invalidArgument,
  chainVerificationReply,
  isChainRecordId,
  requestHash,
  type Authenticator,
  type GrpcServiceBinding,
  type Logger,
} from '@beacon/platform';
import { victimsV1 } from '@beacon/proto';
import { normaliseEmail, normalisePhone } from '../../domain/contact.js';
import { caseListView } from '../../domain/access.js';
import { CipherError } from '../../app/errors.js';
import { verifyAudit, listAudit } from '../../app/audit-records.js';
import { assessNeeds } from '../../app/assess-needs.js';
import { followUp, recordCheckIn } from '../../app/case-follow-up.js';
import type { VictimsDeps } from '../../app/case-work.js';
import { closeCase, erase } from '../../app/close-case.js';
import { makeReferral, suggestReferrals } from '../../app/make-referral.js';
import { importCases, MAX_IMPORT_ROWS, openCase, type IntakeRow } from '../../app/open-cases.js';
import { discloseToLawEnforcement, findCases, getCase, listCases } from '../../app/read-cases.js';
import { recordConsent } from '../../app/record-consent.js';
import { referralsTo, respondToReferral } from '../../app/referral-inbox.js';
import { rewrapKeys } from '../../app/rewrap-keys.js';
import { listOrganisations, putOrganisation } from '../../app/support-organisations.js';
import { updateVictim } from '../../app/update-victim.js';
import { victimStats } from '../../app/victim-stats.js';
import type { Clock } from '../../app/ports.js';
import { MalformedReferenceError, type StatusLookup } from '../../app/status-lookup.js';
import {
  caseToProto,
  codecs,
  followUpToProto,
  needToProto,
  organisationToProto,
  referralToProto,
  statsToProto,
  summaryToProto,
  followUpSummaryToProto,
  victimToProto,
} from '../proto-mapping.js';
import { toGrpcError } from './to-grpc-error.js';
import { caseBytes, DEFAULT_PAGE_SIZE, LIMITS, RULES, Validator } from './validate.js';

export interface VictimsGrpcDeps {
  /** What the use cases are given; the handlers pass it on to them. */
  readonly victims: VictimsDeps;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Status look-ups by reference, with failed guesses limited and audited. */
  readonly statusLookup: StatusLookup;
}

/** The client's address, as the gateway names it to the services behind it. */
const CLIENT_ADDRESS_METADATA = 'x-beacon-client-address';

const MAX_REWRAP = 1_000;

/**
 * `beacon.victims.v1.VictimsService` over gRPC: authenticate, validate every field (all
 * violations at once), call the use case, map back. Nothing of a request is logged.
 */
export function victimsGrpc(deps: VictimsGrpcDeps): GrpcServiceBinding {
  const { victims, clock } = deps;
  const handle = authenticatedUnary({
    authenticator: deps.authenticator,
    logger: deps.logger,
    toGrpcError: (error) => {
      // Operators must hear of data that does not open; the message holds no personal data.
      if (error instanceof CipherError)
        deps.logger.error({ err: error }, 'sealed personal data could not be opened');
      return toGrpcError(error);
    },
  });
  const implementation: victimsV1.VictimsServiceServer = {
    openCase: handle<victimsV1.OpenCaseRequest, victimsV1.OpenCaseResponse>(async (req, caller, ctx) => {
      const v = new Validator();
      const input = v.newCase('case', req.case, clock.now());
      const idempotency = v.idempotencyOf(ctx.metadata, caseBytes(req.case));
      v.check();
      const result = await openCase(victims, caller, {
        input: input!,
        ...(idempotency ? { idempotency } : {}),
      });
      return {
        case: summaryToProto(result.state),
        reference: result.reference,
        uncoveredNeeds: result.uncovered.map(codecs.needKind.toProto),
      };
    }),

    importCases: handle<victimsV1.ImportCasesRequest, victimsV1.ImportCasesResponse>(async (req, caller) => {
      if (req.rows.length > MAX_IMPORT_ROWS) {
        throw invalidArgument([
          { field: 'rows', description: `at most ${MAX_IMPORT_ROWS} per batch`, reason: 'TOO_MANY' },
        ]);
      }
      const first = req.firstRow || 1;
      const now = clock.now();
      const rows: IntakeRow[] = [];
      const errors: victimsV1.RowError[] = [];
      req.rows.forEach((r, i) => {
        const row = first + i;
        const v = new Validator();
        const key = r.clientRef === '' ? undefined : v.idempotencyKey('client_ref', r.clientRef);
        const input = v.newCase('case', r.case, now);
        // A bad row is reported and nothing of it is written; the others go in.
        if (v.violations.length > 0 || !input) {
          for (const violation of v.violations)
            errors.push({ row, field: violation.field, description: violation.description });
          return;
        }
        rows.push({
          row,
          input,
          ...(key ? { idempotency: { key, requestHash: requestHash(caseBytes(r.case)) } } : {}),
        });
      });
      const outcomes = rows.length > 0 ? await importCases(victims, caller, rows) : [];
      const cases: victimsV1.ImportedCase[] = [];
      for (const o of outcomes) {
        if (o.ok) {
          cases.push({
            row: o.row,
            caseId: o.state.id,
            reference: o.reference,
            replayed: o.replayed,
            urgent: o.state.assessment.urgent,
          });
        } else {
          errors.push({ row: o.row, field: o.field, description: o.message });
        }
      }
      return { cases, errors: errors.sort((a, b) => a.row - b.row) };
    }),

    getCase: handle<victimsV1.GetCaseRequest, victimsV1.GetCaseResponse>(async (req, caller) => {
      const v = new Validator();
      v.id('case_id', req.caseId, RULES.GetCaseRequest.caseId);
      v.check();
      const { state, personal } = await getCase(victims, caller, req.caseId);
      return { case: caseToProto(state, personal) };
    }),

    updateVictim: handle<victimsV1.UpdateVictimRequest, victimsV1.UpdateVictimResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('case_id', req.caseId, RULES.UpdateVictimRequest.caseId);
        // Whether the victim consents to contact is the case's to say: the use case checks it.
        const victim = v.victim('victim', req.victim, 'checked-later');
        v.expectedVersion('expected_version', req.expectedVersion);
        v.check();
        return {
          case: summaryToProto(await updateVictim(victims, caller, req.caseId, victim!, req.expectedVersion)),
        };
      },
    ),

    listCases: handle<victimsV1.ListCasesRequest, victimsV1.ListCasesResponse>(async (req, caller) => {
      const v = new Validator();
      const rules = RULES.ListCasesRequest;
      const limit = v.pageSize(req.pageSize, { max: rules.pageSize.maximum, fallback: DEFAULT_PAGE_SIZE });
      v.id('page_token', req.pageToken, rules.pageToken);
      v.id('incident_id', req.incidentId, rules.incidentId);
      v.check();
      const page = await listCases(
        victims,
        caller,
        {
          ...(req.incidentId ? { incidentId: req.incidentId } : {}),
          urgentOnly: req.urgentOnly,
          includeClosed: req.includeClosed,
        },
        req.pageToken || undefined,
        limit,
      );
      const view = caseListView(caller) === 'summary' ? summaryToProto : followUpSummaryToProto;
      return { cases: page.items.map(view), nextPageToken: page.next ?? '' };
    }),

    findCases: handle<victimsV1.FindCasesRequest, victimsV1.FindCasesResponse>(async (req, caller) => {
      const v = new Validator();
      if ((req.email === '') === (req.phone === '')) {
        v.fail('email', 'give exactly one of email and phone', 'ONE_OF');
        v.check();
      }
      const email = req.email
        ? (normaliseEmail(req.email) ?? v.fail('email', 'is not an e-mail address', 'INVALID'))
        : undefined;
      const phone = req.phone
        ? (normalisePhone(req.phone) ?? v.fail('phone', 'is not a phone number', 'INVALID'))
        : undefined;
      v.check();
      const found = await findCases(victims, caller, email ? { email } : { phone: phone! });
      return { cases: found.map(summaryToProto) };
    }),

    assessNeeds: handle<victimsV1.AssessNeedsRequest, victimsV1.AssessNeedsResponse>(async (req, caller) => {
      const v = new Validator();
      v.id('case_id', req.caseId, RULES.AssessNeedsRequest.caseId);
      const needs = v.needs('needs', req.needs, clock.now(), RULES.AssessNeedsRequest.needs);
      const riskFlags = v.riskFlags('risk_flags', req.riskFlags);
      v.expectedVersion('expected_version', req.expectedVersion);
      v.check();
      const result = await assessNeeds(
        victims,
        caller,
        req.caseId,
        { needs, riskFlags },
        req.expectedVersion,
      );
      return {
        case: summaryToProto(result.state),
        uncoveredNeeds: result.uncovered.map(codecs.needKind.toProto),
      };
    }),

    recordConsent: handle<victimsV1.RecordConsentRequest, victimsV1.RecordConsentResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('case_id', req.caseId, RULES.RecordConsentRequest.caseId);
        const consent = v.consent('consent', req.consent);
        v.check();
        return { case: summaryToProto(await recordConsent(victims, caller, req.caseId, consent!)) };
      },
    ),

    suggestReferrals: handle<victimsV1.SuggestReferralsRequest, victimsV1.SuggestReferralsResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('case_id', req.caseId, RULES.SuggestReferralsRequest.caseId);
        v.check();
        const result = await suggestReferrals(victims, caller, req.caseId);
        return {
          suggestions: result.picks.map((p) => ({
            organisationId: p.organisationId,
            organisationName: p.name,
            needs: p.needs.map(codecs.needKind.toProto),
            crisis: p.crisis,
            speaksLanguage: p.speaksLanguage,
          })),
          uncoveredNeeds: result.uncovered.map(codecs.needKind.toProto),
        };
      },
    ),

    makeReferral: handle<victimsV1.MakeReferralRequest, victimsV1.MakeReferralResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('case_id', req.caseId, RULES.MakeReferralRequest.caseId);
        v.id('organisation_id', req.organisationId, RULES.MakeReferralRequest.organisationId);
        const needs = v.enumValues('needs', codecs.needKind, req.needs);
        v.check();
        const result = await makeReferral(victims, caller, req.caseId, {
          ...(req.organisationId ? { organisationId: req.organisationId } : {}),
          needs,
        });
        const made = new Set(result.made);
        return {
          case: summaryToProto(result.state),
          referrals: result.state.referrals.filter((r) => made.has(r.id)).map(referralToProto),
          uncoveredNeeds: result.uncovered.map(codecs.needKind.toProto),
        };
      },
    ),

    respondToReferral: handle<victimsV1.RespondToReferralRequest, victimsV1.RespondToReferralResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('case_id', req.caseId, RULES.RespondToReferralRequest.caseId);
        v.id('referral_id', req.referralId, RULES.RespondToReferralRequest.referralId);
        const reason = req.accept
          ? undefined
          : v.enumValue('decline_reason', codecs.declineReason, req.declineReason);
        if (req.accept && Number(req.declineReason) !== 0)
          v.fail('decline_reason', 'is for declining only', 'INVALID');
        v.check();
        const state = await respondToReferral(
          victims,
          caller,
          req.caseId,
          req.referralId,
          req.accept ? { accept: true } : { accept: false, reason: reason! },
        );
        return { referral: referralToProto(state.referrals.find((r) => r.id === req.referralId)!) };
      },
    ),

    listReferrals: handle<victimsV1.ListReferralsRequest, victimsV1.ListReferralsResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('organisation_id', req.organisationId, RULES.ListReferralsRequest.organisationId);
        const state =
          Number(req.state) === 0 ? undefined : v.enumValue('state', codecs.referralState, req.state);
        v.check();
        const notices = await referralsTo(victims, caller, req.organisationId, state);
        return {
          referrals: notices.map((n) => ({
            case: summaryToProto(n.state),
            referral: referralToProto(n.referral),
          })),
        };
      },
    ),

    getFollowUp: handle<victimsV1.GetFollowUpRequest, victimsV1.GetFollowUpResponse>(async (req, caller) => {
      const v = new Validator();
      v.id('case_id', req.caseId, RULES.GetFollowUpRequest.caseId);
      v.check();
      return { followUp: followUpToProto(await followUp(victims, caller, req.caseId)) };
    }),

    recordCheckIn: handle<victimsV1.RecordCheckInRequest, victimsV1.RecordCheckInResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('case_id', req.caseId, RULES.RecordCheckInRequest.caseId);
        v.id('check_in_id', req.checkInId, RULES.RecordCheckInRequest.checkInId);
        const outcome = v.enumValue('outcome', codecs.checkInOutcome, req.outcome);
        v.check();
        return {
          followUp: followUpToProto(
            await recordCheckIn(victims, caller, req.caseId, req.checkInId, outcome!),
          ),
        };
      },
    ),

    discloseToLawEnforcement: handle<
      victimsV1.DiscloseToLawEnforcementRequest,
      victimsV1.DiscloseToLawEnforcementResponse
    >(async (req, caller) => {
      const v = new Validator();
      v.id('case_id', req.caseId, RULES.DiscloseToLawEnforcementRequest.caseId);
      v.id('agency_id', req.agencyId, RULES.DiscloseToLawEnforcementRequest.agencyId);
      v.id('legal_reference', req.legalReference, RULES.DiscloseToLawEnforcementRequest.legalReference);
      v.check();
      const { state, personal, at } = await discloseToLawEnforcement(victims, caller, req.caseId, {
        agencyId: req.agencyId,
        legalReference: req.legalReference,
      });
      return {
        caseId: state.id,
        incidentIds: [...state.incidentIds],
        reportIds: [...state.reportIds],
        victim: victimToProto(personal.victim),
        needs: personal.needs.map(needToProto),
        disclosedAt: at,
      };
    }),

    closeCase: handle<victimsV1.CloseCaseRequest, victimsV1.CloseCaseResponse>(async (req, caller) => {
      const v = new Validator();
      v.id('case_id', req.caseId, RULES.CloseCaseRequest.caseId);
      const reason = v.enumValue('reason', codecs.closeReason, req.reason);
      if (reason === 'erased') v.fail('reason', 'erasure has its own call, EraseVictimData', 'INVALID');
      v.check();
      return { case: summaryToProto(await closeCase(victims, caller, req.caseId, reason!)) };
    }),

    eraseVictimData: handle<victimsV1.EraseVictimDataRequest, victimsV1.EraseVictimDataResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('case_id', req.caseId, RULES.EraseVictimDataRequest.caseId);
        v.check();
        return { case: summaryToProto(await erase(victims, caller, req.caseId)) };
      },
    ),

    lookupCaseStatus: handle<victimsV1.LookupCaseStatusRequest, victimsV1.LookupCaseStatusResponse>(
      async (req, caller, ctx) => {
        const address = ctx.metadata.get(CLIENT_ADDRESS_METADATA)[0];
        try {
          const found = await deps.statusLookup.lookup(
            caller,
            typeof address === 'string' && address.length <= 64 ? address : undefined,
            req.reference,
          );
          return { status: codecs.caseStatus.toProto(found) };
        } catch (error) {
          if (!(error instanceof MalformedReferenceError)) throw error;
          throw invalidArgument([
            { field: 'reference', description: error.message, reason: 'INVALID_REFERENCE' },
          ]);
        }
      },
    ),

    getVictimStats: handle<victimsV1.GetVictimStatsRequest, victimsV1.GetVictimStatsResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('incident_id', req.incidentId, RULES.GetVictimStatsRequest.incidentId);
        const jurisdiction = req.jurisdiction ? v.jurisdiction('jurisdiction', req.jurisdiction) : undefined;
        v.check();
        const stats = await victimStats(victims, caller, {
          ...(req.incidentId ? { incidentId: req.incidentId } : {}),
          ...(jurisdiction ? { jurisdiction } : {}),
        });
        return statsToProto(stats);
      },
    ),

    putSupportOrganisation: handle<
      victimsV1.PutSupportOrganisationRequest,
      victimsV1.PutSupportOrganisationResponse
    >(async (req, caller) => {
      const v = new Validator();
      const o = req.organisation;
      if (!o) {
        v.fail('organisation', 'is required', 'REQUIRED');
        v.check();
      }
      const org = o!;
      v.id('organisation.id', org.id, RULES.SupportOrganisation.id);
      const name = v.text('organisation.name', org.name, RULES.SupportOrganisation.name);
      if (org.jurisdictions.length === 0 || org.jurisdictions.length > LIMITS.jurisdictions) {
        v.fail('organisation.jurisdictions', `name 1 to ${LIMITS.jurisdictions}`, 'COUNT');
      }
      const jurisdictions = org.jurisdictions.flatMap((j, i) => {
        const parsed = v.jurisdiction(`organisation.jurisdictions[${i}]`, j);
        return parsed ? [parsed] : [];
      });
      if (org.languages.length === 0 || org.languages.length > LIMITS.languages) {
        v.fail('organisation.languages', `name 1 to ${LIMITS.languages}`, 'COUNT');
      }
      const languages = org.languages.flatMap((l, i) => {
        const parsed = v.language(`organisation.languages[${i}]`, l);
        return parsed ? [parsed] : [];
      });
      const needsCovered = v.enumValues('organisation.needs_covered', codecs.needKind, org.needsCovered);
      if (org.needsCovered.length === 0 && !org.crisisCapable) {
        v.fail(
          'organisation.needs_covered',
          'name the needs it helps with (or make it crisis-capable)',
          'REQUIRED',
        );
      }
      if (org.capacity > LIMITS.capacity)
        v.fail('organisation.capacity', `at most ${LIMITS.capacity}`, 'INVALID');
      v.expectedVersion('expected_version', req.expectedVersion);
      v.check();
      const stored = await putOrganisation(
        victims,
        caller,
        {
          id: org.id,
          name,
          jurisdictions: [...new Set(jurisdictions)],
          languages: [...new Set(languages)],
          needsCovered,
          crisisCapable: org.crisisCapable,
          capacity: org.capacity,
          accepting: org.accepting,
        },
        req.expectedVersion,
      );
      return { organisation: organisationToProto(stored) };
    }),

    listSupportOrganisations: handle<
      victimsV1.ListSupportOrganisationsRequest,
      victimsV1.ListSupportOrganisationsResponse
    >(async (_req, caller) => ({
      organisations: (await listOrganisations(victims, caller)).map(organisationToProto),
    })),

    rewrapKeys: handle<victimsV1.RewrapKeysRequest, victimsV1.RewrapKeysResponse>(async (req, caller) => {
      const v = new Validator();
      if (!Number.isInteger(req.limit) || req.limit < 0 || req.limit > MAX_REWRAP)
        v.fail('limit', `must be 0 to ${MAX_REWRAP}`, 'INVALID');
      v.check();
      const result = await rewrapKeys(victims, caller, req.limit || 200);
      return { rewrapped: result.rewrapped, remaining: result.remaining, currentKeyId: result.currentKeyId };
    }),

    verifyAuditChain: handle<victimsV1.VerifyAuditChainRequest, victimsV1.VerifyAuditChainResponse>(
      async (req, caller) => {
        const v = new Validator();
        const checkpoint = v.checkpoint('checkpoint', req.checkpoint);
        v.check();
        const result = await verifyAudit(victims, caller, checkpoint);
        return chainVerificationReply(result);
      },
    ),

    listAuditRecords: handle<victimsV1.ListAuditRecordsRequest, victimsV1.ListAuditRecordsResponse>(
      async (req, caller) => {
        const v = new Validator();
        v.id('case_id', req.caseId, RULES.ListAuditRecordsRequest.caseId);
        const limit = v.pageSize(req.pageSize, {
          max: RULES.ListAuditRecordsRequest.pageSize.maximum,
          fallback: DEFAULT_PAGE_SIZE,
        });
        if (req.pageToken && !isChainRecordId(req.pageToken))
          v.fail('page_token', 'is not a page token', 'INVALID');
        v.check();
        const page = await listAudit(victims, caller, req.caseId, req.pageToken || undefined, limit);
        return {
          records: page.records.map((r) => ({
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            actorOrganisationId: r.actorOrgId ?? '',
            action: r.action,
            caseIds: [...r.caseIds],
            detail: r.detail,
            chain: r.chain,
          })),
          nextPageToken: page.next ?? '',
        };
      },
    ),
  };

  return {
    name: 'beacon.victims.v1.VictimsService',
    definition: victimsV1.VictimsServiceService,
    implementation,
  };
}
