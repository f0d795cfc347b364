import { WorkflowNotFoundError } from '@temporalio/client';
import { DurableConsumerAdapter } from '@beacon/platform';
import { impactV1, intakeV1, victimsV1 } from '@beacon/proto';
import { impactSummaryFromProto, snapshotFromProto } from '../activities/create-activities.js';
import { severityProposalOf } from '../adapters/severity-proto.js';
import {
  agencyUnassignedSignal,
  handOverSignal,
  impactChangedSignal,
  incidentChangedSignal,
  linkVictimCaseSignal,
  mergedIntoSignal,
  responseWorkflowId,
  severityProposedSignal,
} from '../workflows/definitions.js';
import type { EventSignallerOptions } from './event-signaller-options.js';

export type IncidentChangeSignallerOptions = EventSignallerOptions;

/**
 * Tells a response what changed elsewhere: in intake, a new severity (and so other agencies and
 * regimes), a coordinator's revision of the label or awareness time (and so the clocks), or an
 * agency engaged there — the signal carries the incident as the event has it,
 * and the response ignores versions it already holds, so a redelivery or the echo of the
 * response's own change does nothing — or an agency unassigned there, which the response checks
 * against intake before it ends that engagement; in victims, a case opened for the incident,
 * which the response then follows up (once, however often it hears of it). A merge goes to the
 * merged incident's response, which hands over to the survivor's; when the merged incident has
 * no response (any more), the survivor's is told directly, with nothing to take over but the
 * incident as intake now has it. Either side ignores a merge it has already handled. In impact,
 * a new assessment of the incident (a re-assessment, or a registry change that moved its
 * cascade), which the response takes when newer than its own and re-engages by. A report that
 * joined with severity inputs intake kept as a proposal (another agency's) is put to the
 * response for its timeline; other joining reports are not (a revising one that moved the
 * severity arrives as its severity change).
 */
export class IncidentChangeSignaller extends DurableConsumerAdapter {
  constructor(options: IncidentChangeSignallerOptions) {
    super({
      nc: options.nc,
      stream: options.stream,
      subjects: [
        `${options.subjectRoot}.incident.severity-changed`,
        `${options.subjectRoot}.incident.agency-assigned`,
        `${options.subjectRoot}.incident.agency-unassigned`,
        `${options.subjectRoot}.incident.merged`,
        `${options.subjectRoot}.incident.facts-revised`,
        `${options.subjectRoot}.incident.report-attached`,
        `${options.subjectRoot}.victims.case-opened`,
        `${options.subjectRoot}.impact.assessed`,
      ],
      durable: options.durable,
      logger: options.logger,
      handle: async (envelope, message) => {
        const signal = async (incidentId: string, send: (id: string) => Promise<void>) => {
          try {
            await send(responseWorkflowId(incidentId));
            return true;
          } catch (error) {
            // No response (yet, or any more): the starter loads the incident, and lists its
            // victim cases, as they are when it starts one.
            if (!(error instanceof WorkflowNotFoundError)) throw error;
            return false;
          }
        };
        if (message.subject.endsWith('.incident.merged')) {
          const { survivor, mergedId } = intakeV1.IncidentMerged.decode(envelope.data);
          if (!survivor || !mergedId) return;
          const told = await signal(mergedId, (id) =>
            options.client.workflow.getHandle(id).signal(mergedIntoSignal, { survivorId: survivor.id }),
          );
          if (!told) {
            await signal(survivor.id, (id) =>
              options.client.workflow
                .getHandle(id)
                .signal(handOverSignal, { mergedId, agencies: [], filed: {} }),
            );
          }
          return;
        }
        if (message.subject.endsWith('.impact.assessed')) {
          const { assessment } = impactV1.ImpactAssessed.decode(envelope.data);
          // What-if assessments name no incident: no response follows them.
          if (!assessment?.incidentId) return;
          await signal(assessment.incidentId, (id) =>
            options.client.workflow
              .getHandle(id)
              .signal(impactChangedSignal, impactSummaryFromProto(assessment)),
          );
          return;
        }
        if (message.subject.endsWith('.victims.case-opened')) {
          const opened = victimsV1.CaseOpened.decode(envelope.data);
          for (const incidentId of opened.incidentIds) {
            await signal(incidentId, (id) =>
              options.client.workflow.getHandle(id).signal(linkVictimCaseSignal, { caseId: opened.caseId }),
            );
          }
          return;
        }
        if (message.subject.endsWith('.report-attached')) {
          const { incident, reportId } = intakeV1.ReportAttached.decode(envelope.data);
          const proposal = severityProposalOf(incident, reportId);
          if (!incident || !proposal) return;
          await signal(incident.id, (id) =>
            options.client.workflow.getHandle(id).signal(severityProposedSignal, proposal),
          );
          return;
        }
        if (message.subject.endsWith('.agency-unassigned')) {
          const { incident, agencyId } = intakeV1.AgencyUnassigned.decode(envelope.data);
          if (!incident) return;
          await signal(incident.id, (id) =>
            options.client.workflow.getHandle(id).signal(agencyUnassignedSignal, { agencyId }),
          );
          return;
        }
        const incident = message.subject.endsWith('.severity-changed')
          ? intakeV1.SeverityChanged.decode(envelope.data).incident
          : message.subject.endsWith('.facts-revised')
            ? intakeV1.IncidentFactsRevised.decode(envelope.data).incident
            : intakeV1.AgencyAssigned.decode(envelope.data).incident;
        if (!incident) return;
        await signal(incident.id, (id) =>
          options.client.workflow.getHandle(id).signal(incidentChangedSignal, snapshotFromProto(incident)),
        );
      },
    });
  }
}
