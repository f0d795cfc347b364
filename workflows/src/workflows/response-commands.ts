/**
 * Coordinators' commands, as validated updates (each answers with the response's status
 * afterwards, without the report drafts), and the response's queries. The validators refuse
 * with `CommandChecks`' reasons; the handlers carry the commands out.
 */
import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
} from '@temporalio/workflow';
import { obligationSpec, type NcissInputs } from '@beacon/domain';
import { FailureType } from '../domain/failures.js';
import { withMoves } from '../domain/severity-origins.js';
import {
  acknowledgeUpdate,
  addAgencyUpdate,
  changeSeverityUpdate,
  clockWorkflowId,
  escalateUpdate,
  fileReportUpdate,
  recordRansomPaymentUpdate,
  removeAgencyUpdate,
  reportFiledSignal,
  resolveUpdate,
  statusQuery,
  timelineQuery,
  type AcknowledgeCommand,
  type AgencyEngagementStatus,
  type FileReportCommand,
} from './definitions.js';
import { ESCALATE_REPORTS_PATCH, ESCALATION_REPORT_WAIT_MS, escalationReported } from './escalation.js';
import { classic, signalQuietly } from './proxies.js';
import type { ResponseChanges } from './response-changes.js';
import { CommandChecks } from './response-checks.js';
import type { ResponseContext } from './response-context.js';
import type { ResponseEngagements } from './response-engagements.js';
import type { ResponseRegimes } from './response-regimes.js';

/** Refuses a command with its reason, if it has one. */
function refuse(problem: string | undefined): void {
  if (problem) {
    throw ApplicationFailure.create({ type: 'CommandRejected', message: problem, nonRetryable: true });
  }
}

export function handleCommands(
  ctx: ResponseContext,
  parts: Pick<ResponseEngagements, 'engage' | 'recordAcknowledgement'> &
    Pick<ResponseChanges, 'afterSeverityChange'> &
    Pick<ResponseRegimes, 'updateRegimes'>,
): void {
  const { incidentId, state, ledger, note, status } = ctx;
  const checks = new CommandChecks(state);

  setHandler(
    acknowledgeUpdate,
    async ({ agencyId, note: text, via, by }) => {
      await parts.recordAcknowledgement({
        agencyId,
        note: text,
        via,
        atMs: Date.now(),
        ...(by ? { by } : {}),
      });
      return status();
    },
    { validator: ({ agencyId }: AcknowledgeCommand) => refuse(checks.acknowledge(agencyId)) },
  );

  setHandler(
    escalateUpdate,
    async ({ agencyId }) => {
      const targets = agencyId ? [agencyId] : ledger.waitingAgencyIds();
      const escalated: AgencyEngagementStatus[] = [];
      for (const id of targets) {
        note({ kind: 'escalated', agencyId: id, detail: 'escalation requested by the coordinator' });
        const sent = await signalQuietly(() => ctx.engagements.escalateNow(id), `engagement of ${id}`);
        if (sent) escalated.push(state.agencies[id]!);
      }
      // Answer with the engagements after the escalation, not before it.
      if (escalated.length > 0 && patched(ESCALATE_REPORTS_PATCH)) {
        await condition(
          () => escalated.every((before) => escalationReported(before, state.agencies[before.agencyId])),
          ESCALATION_REPORT_WAIT_MS,
        );
      }
      return status();
    },
    { validator: ({ agencyId }: { agencyId: string }) => refuse(checks.escalate(agencyId)) },
  );

  setHandler(
    addAgencyUpdate,
    async ({ agencyId, reason }) => {
      await parts.engage([
        { agencyId, reasons: [`added by the coordinator: ${reason || 'no reason given'}`] },
      ]);
      if (!state.agencies[agencyId] || state.agencies[agencyId].state === 'removed') {
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: `no agency ${agencyId} in the registry`,
          nonRetryable: true,
        });
      }
      return status();
    },
    { validator: ({ agencyId }: { agencyId: string }) => refuse(checks.addAgency(agencyId)) },
  );

  setHandler(
    removeAgencyUpdate,
    async ({ agencyId, reason }) => {
      const agency = state.agencies[agencyId]!;
      if (agency.state === 'engaging' || agency.state === 'notified') {
        try {
          await ctx.engagements.cancel(agencyId);
        } catch (error) {
          log.warn('engagement already ended', { agencyId, error: String(error) });
        }
      }
      // Removed from the response means no longer engaged in intake either: the agency stops
      // reading the incident and receiving its events above GREEN. (Responses that removed an
      // agency before this existed replay without it.)
      if (patched('disengage-removed-agency')) await classic.intake.disengageAgency(incidentId, agencyId);
      ledger.removed(agency);
      note({
        kind: 'removed',
        agencyId,
        detail: `removed by the coordinator: ${reason || 'no reason given'}`,
      });
      return status();
    },
    { validator: ({ agencyId }: { agencyId: string }) => refuse(checks.removeAgency(agencyId)) },
  );

  setHandler(
    changeSeverityUpdate,
    async ({ inputs }) => {
      const previous = state.incident!;
      state.incident = await classic.intake.updateSeverity(incidentId, inputs);
      note({ kind: 'severity', detail: withMoves('changed by a coordinator', previous, state.incident) });
      await parts.afterSeverityChange(previous.ncissLevel);
      return status();
    },
    { validator: ({ inputs }: { inputs: NcissInputs }) => refuse(checks.changeSeverity(inputs)) },
  );

  setHandler(
    fileReportUpdate,
    async ({ obligation, reference, filedAtMs }) => {
      const atMs = filedAtMs ?? Date.now();
      note(ledger.fileReport(obligation, atMs, reference));
      const regime = obligationSpec(obligation).regime;
      await signalQuietly(
        () =>
          getExternalWorkflowHandle(clockWorkflowId(incidentId, regime)).signal(reportFiledSignal, {
            obligation,
            filedAtMs: atMs,
            reference,
          }),
        `${regime} clock`,
      );
      return status();
    },
    { validator: (command: FileReportCommand) => refuse(checks.fileReport(command, Date.now())) },
  );

  setHandler(
    recordRansomPaymentUpdate,
    async ({ paidAtMs }) => {
      note(ledger.recordRansomPayment(paidAtMs));
      await parts.updateRegimes();
      return status();
    },
    {
      validator: ({ paidAtMs }: { paidAtMs: number }) => refuse(checks.ransomPayment(paidAtMs, Date.now())),
    },
  );

  setHandler(
    resolveUpdate,
    async ({ summary }) => {
      note(ledger.requestResolution(summary, Date.now()));
      return status();
    },
    { validator: ({ summary }: { summary: string }) => refuse(checks.resolve(summary, Date.now())) },
  );

  setHandler(statusQuery, () => status(true));
  setHandler(timelineQuery, () => state.timeline);
}
